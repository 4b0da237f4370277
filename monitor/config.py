"""Settings and topic names, from environment variables (prefix ``NEWSMON_``)
over an optional ``newsmon.yaml`` (see monitor/configfile.py).

``KAFKA_BOOTSTRAP_SERVERS`` (no prefix) points newsmon at an existing
cluster; when it is unset, the embedded local broker is used.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from monitor.kafka_security import SaslMechanism, SecurityProtocol
from monitor.sinks.config import SinkList

REPO_ROOT = Path(__file__).resolve().parents[1]


class Topics(BaseSettings):
    """Topic names; `NEWSMON_TOPIC_PREFIX` namespaces them (tests use it)."""

    model_config = SettingsConfigDict(env_prefix="NEWSMON_TOPIC_", extra="ignore")

    prefix: str = ""

    def name(self, base: str) -> str:
        return f"{self.prefix}{base}"

    @property
    def raw(self) -> str:
        return self.name("news.raw")

    @property
    def prepared(self) -> str:
        """Internal: cleaned, tagged, fingerprinted articles; one partition,
        so every article meets every earlier one in dedup and stories."""
        return self.name("news.prepared")

    @property
    def articles(self) -> str:
        return self.name("news.articles")

    @property
    def duplicates(self) -> str:
        return self.name("news.duplicates")

    @property
    def alerts(self) -> str:
        return self.name("news.alerts")

    @property
    def deadletter(self) -> str:
        return self.name("news.deadletter")

    @property
    def alerts_deadletter(self) -> str:
        """Alerts a sink could not deliver, with the reason (see monitor/sinks/base.py)."""
        return self.name("news.alerts.deadletter")

    @property
    def silences(self) -> str:
        """Compacted: key = silence id, value = Silence JSON, tombstone = removed."""
        return self.name("news.silences")


class Dashboard(BaseSettings):
    """The analyst dashboard (README, Dashboard); `NEWSMON_DASHBOARD_*` or a
    `dashboard:` block in newsmon.yaml."""

    model_config = SettingsConfigDict(env_prefix="NEWSMON_DASHBOARD_", extra="ignore")

    enabled: bool = Field(default=True, description="serve it from `newsmon run`")
    host: str = Field(default="127.0.0.1", description="bind address; anything else exposes it")
    port: int = Field(default=8080, ge=0, le=65535)
    auth: Literal["none", "token", "basic", "proxy"] = Field(
        default="none", description="none, token (login with a shared token), basic (HTTP basic auth), "
        "proxy (the user named by a trusted reverse proxy's header)")
    secret_file: Path | None = Field(
        default=None, description="token: its first line is the token; basic: lines of user:password")
    secret: SecretStr | None = Field(default=None, description="the same, from the environment "
                                     "(NEWSMON_DASHBOARD_SECRET; basic: user:password pairs, comma-separated)")
    proxy_header: str = Field(default="X-Forwarded-User", description="proxy: the header naming the user")
    history_hours: float = Field(default=168, gt=0, description="how far back news.alerts is read on start")
    max_alerts: int = Field(default=10_000, ge=100, description="alerts kept in memory (the latest)")


class Settings(BaseSettings):
    # hide_input_in_errors: a validation error must not print the input, secrets included
    model_config = SettingsConfigDict(env_prefix="NEWSMON_", extra="ignore", populate_by_name=True,
                                      hide_input_in_errors=True)

    bootstrap_servers: str | None = Field(
        default=None,
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "NEWSMON_BOOTSTRAP_SERVERS"),
        description="external Kafka cluster; unset means the embedded local broker",
    )
    kafka_port: int = 9092
    # a secured cluster (README, Secured clusters); checked and turned into
    # client options by monitor/kafka_security.py
    kafka_security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
    kafka_sasl_mechanism: SaslMechanism = Field(
        default="PLAIN", description="PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (with SASL_*)")
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = Field(
        default=None, json_schema_extra={"env_only": True},
        description="environment only (NEWSMON_KAFKA_SASL_PASSWORD); or kafka_sasl_password_file")
    kafka_sasl_password_file: Path | None = Field(
        default=None, description="file whose first line is the SASL password")
    kafka_ssl_cafile: Path | None = Field(
        default=None, description="PEM CA certificate(s) the broker's certificate is checked against; "
        "default: the system's CAs")
    kafka_ssl_certfile: Path | None = Field(default=None, description="PEM client certificate (mutual TLS)")
    kafka_ssl_keyfile: Path | None = Field(default=None, description="PEM private key of the client certificate")
    kafka_ssl_key_password: SecretStr | None = Field(
        default=None, json_schema_extra={"env_only": True},
        description="environment only (NEWSMON_KAFKA_SSL_KEY_PASSWORD): password of an encrypted keyfile")
    kafka_ssl_check_hostname: bool = Field(
        default=True, description="check the broker's host name against its certificate")
    app_id: str = "newsmon"
    worker_id: str | None = Field(
        default=None,
        description="static consumer-group member id: a restarted worker takes its "
        "partitions back at once instead of waiting out a rebalance; unique per worker. "
        "Default: <app_id>-<hostname>; 'none' turns static membership off",
    )
    partitions: int = Field(
        default=1,
        ge=1,
        description="partitions of news.raw and the state tables (see README, Scaling)",
    )
    inbox_dirs: list[Path] = Field(default_factory=lambda: [Path("inbox")])
    inbox_mode: str = Field(
        default="move", pattern="^(move|ledger)$",
        description="move: published files go to processed/; ledger: they stay, recorded in the data dir",
    )
    rules_dir: Path = REPO_ROOT / "rules"
    feeds_file: Path = Field(default=Path("feeds.yaml"), description="feeds to poll; absent = none")
    data_dir: Path = Path(".newsmon")
    max_file_bytes: int = 10 * 1024 * 1024
    sweep_interval: float = Field(
        default=30.0, gt=0,
        description="seconds between checks for alerts to resolve (rules with resolve_after)",
    )
    max_raw_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1024,
        description="a news.raw message larger than this goes to the dead-letter topic unparsed "
        "(the topic itself takes up to 64 MiB, see monitor/stream/topics.py)",
    )
    dedup: dict[str, float] = Field(
        default_factory=dict,
        description='dedup threshold overrides (JSON), e.g. {"near_threshold": 0.8, "ttl_hours": 48}',
    )
    web_enabled: bool = Field(default=False, description="faust's own web server (not needed)")
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    http_enabled: bool = Field(default=True, description="/healthz, /readyz, /metrics on the worker")
    http_host: str = "127.0.0.1"
    http_port: int = 9464
    log_level: str = "INFO"
    log_format: str = Field(default="auto", pattern="^(auto|json|console)$")

    topics: Topics = Field(default_factory=Topics)
    dashboard: Dashboard = Field(default_factory=Dashboard)
    sinks: SinkList = Field(default_factory=list, description="alert sinks run by `newsmon run` and `newsmon sink run`")

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        """Precedence: arguments, then environment, then newsmon.yaml, then defaults."""
        from monitor.configfile import YamlConfigSource

        return init_settings, env_settings, dotenv_settings, YamlConfigSource(settings_cls), file_secret_settings

    @model_validator(mode="after")
    def _kafka_security(self) -> Settings:
        from monitor.kafka_security import check

        check(self)
        return self

    def group_instance_id(self) -> str | None:
        if self.worker_id is None:
            return f"{self.app_id}-{socket.gethostname()}"
        return None if self.worker_id.lower() == "none" else self.worker_id

    def dedup_config(self):
        """DedupConfig with the overrides applied; unknown names are a clear error."""
        from dataclasses import fields
        from datetime import timedelta

        from monitor.enrich.dedup import DedupConfig

        overrides = dict(self.dedup)
        if "ttl_hours" in overrides:
            overrides["ttl"] = timedelta(hours=overrides.pop("ttl_hours"))
        valid = {f.name for f in fields(DedupConfig)} - {"ttl"} | {"ttl_hours"}
        unknown = set(self.dedup) - valid
        if unknown:
            raise ValueError(f"NEWSMON_DEDUP: unknown setting(s) {sorted(unknown)}; valid: {sorted(valid)}")
        return DedupConfig(**{k: (int(v) if isinstance(getattr(DedupConfig, k, None), int) else v)
                              for k, v in overrides.items()})

    @property
    def inbox_ledger(self) -> Path | None:
        return self.data_dir / "inbox-ledger.jsonl" if self.inbox_mode == "ledger" else None

    @property
    def feeds_state(self) -> Path:
        return self.data_dir / "feeds-state.json"

    def resolved_bootstrap(self) -> str:
        return self.bootstrap_servers or f"127.0.0.1:{self.kafka_port}"


def load_settings(**overrides) -> Settings:
    """Settings for a command: an invalid value is a one-line ConfigError
    (``Error: kafka_sasl_username: required ...``, exit 1), not a traceback."""
    from pydantic import ValidationError

    from monitor.configfile import ConfigError

    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError("; ".join(
            (".".join(map(str, e["loc"])) + ": " if e["loc"] else "") + e["msg"].removeprefix("Value error, ")
            for e in exc.errors())) from None
