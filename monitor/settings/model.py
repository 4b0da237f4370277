"""Settings, from environment variables (prefix ``NEWSMON_``) over an
optional ``newsmon.yaml`` (see monitor/settings/file.py). `Settings` extends
the Kafka connection (connection.py) and holds the topic names (topics.py)
and the sinks (sinks.py).

``KAFKA_BOOTSTRAP_SERVERS`` (no prefix) points newsmon at an existing
cluster; when it is unset, the embedded local broker is used.
"""

from __future__ import annotations

import socket
from dataclasses import fields
from datetime import timedelta
from pathlib import Path

from pydantic import Field, ValidationError

from monitor.enrich.dedup import DedupConfig
from monitor.errors import ConfigError
from monitor.settings.connection import KafkaConnection
from monitor.settings.dashboard import Dashboard
from monitor.settings.file import YamlConfigSource
from monitor.settings.sinks import SinkList
from monitor.settings.topics import Topics
from monitor.stories import StoryConfig

REPO_ROOT = Path(__file__).resolve().parents[2]


class Settings(KafkaConnection):
    """Every setting; the Kafka connection's (and its model_config) come from KafkaConnection."""

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
        "(the topic itself takes up to 64 MiB, see monitor/kafka/admin.py)",
    )
    dedup: dict[str, float] = Field(
        default_factory=dict,
        description='dedup threshold overrides (JSON), e.g. {"near_threshold": 0.8, "ttl_hours": 48}',
    )
    story_ttl_hours: float | None = Field(
        default=None, gt=0, description="close stories idle this long (default: the clusterer's 96 h)",
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
        return init_settings, env_settings, dotenv_settings, YamlConfigSource(settings_cls), file_secret_settings

    def group_instance_id(self) -> str | None:
        if self.worker_id is None:
            return f"{self.app_id}-{socket.gethostname()}"
        return None if self.worker_id.lower() == "none" else self.worker_id

    def dedup_config(self) -> DedupConfig:
        """DedupConfig with the overrides applied; unknown names are a clear error."""
        overrides = dict(self.dedup)
        if "ttl_hours" in overrides:
            overrides["ttl"] = timedelta(hours=overrides.pop("ttl_hours"))
        valid = {f.name for f in fields(DedupConfig)} - {"ttl"} | {"ttl_hours"}
        unknown = set(self.dedup) - valid
        if unknown:
            raise ValueError(f"NEWSMON_DEDUP: unknown setting(s) {sorted(unknown)}; valid: {sorted(valid)}")
        return DedupConfig(**{k: (int(v) if isinstance(getattr(DedupConfig, k, None), int) else v)
                              for k, v in overrides.items()})

    def story_config(self) -> StoryConfig | None:
        return None if self.story_ttl_hours is None else StoryConfig(ttl_hours=self.story_ttl_hours)

    @property
    def inbox_ledger(self) -> Path | None:
        return self.data_dir / "inbox-ledger.jsonl" if self.inbox_mode == "ledger" else None

    @property
    def feeds_state(self) -> Path:
        return self.data_dir / "feeds-state.json"


def load_settings(**overrides) -> Settings:
    """Settings for a command: an invalid value is a one-line ConfigError
    (``Error: kafka_sasl_username: required ...``, exit 1), not a traceback."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError("; ".join(
            (".".join(map(str, e["loc"])) + ": " if e["loc"] else "") + e["msg"].removeprefix("Value error, ")
            for e in exc.errors())) from None
