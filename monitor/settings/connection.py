"""Where Kafka is and how to talk to it: `KafkaConnection`, the bootstrap
address and the ``kafka_*`` security settings, which `Settings` extends.

Kafka helpers (monitor/kafka/) take this model, not the whole Settings, so
they depend on what they use. A component that took a bootstrap address alone
would connect in plaintext and fail against a secured cluster with a vague
timeout, so the settings are checked up front (`check`): every combination
that would be ignored or cannot work is refused with the name of the setting
at fault. monitor/kafka/security.py turns them into client options.

Secrets (the SASL password, a client key's password) come only from the
environment or a file (monitor/settings/file.py refuses them in newsmon.yaml);
they are `SecretStr` and never logged.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]

_SSL_FILES = ("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile")
_SASL_FIELDS = ("kafka_sasl_username", "kafka_sasl_password", "kafka_sasl_password_file")


class KafkaConnection(BaseSettings):
    """The cluster's address and security settings (environment ``NEWSMON_KAFKA_*``,
    ``KAFKA_BOOTSTRAP_SERVERS``), checked when built."""

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
    # client options by monitor/kafka/security.py
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

    @model_validator(mode="after")
    def _kafka_security(self) -> KafkaConnection:
        check(self)
        return self

    def resolved_bootstrap(self) -> str:
        return self.bootstrap_servers or f"127.0.0.1:{self.kafka_port}"


def uses_tls(protocol: str) -> bool:
    return protocol in ("SSL", "SASL_SSL")


def uses_sasl(protocol: str) -> bool:
    return protocol.startswith("SASL_")


def check(settings: KafkaConnection) -> None:
    """Raise ValueError naming every security setting that is missing,
    contradictory or unreadable (before anything connects)."""
    problems = _problems(settings)
    if not problems:
        try:
            ssl_context(settings)  # unreadable PEM, wrong key password: say so now, not at connect
        except (OSError, ssl.SSLError, ValueError) as exc:
            problems.append(f"kafka_ssl_*: cannot load the TLS files: {exc}")
    if problems:
        raise ValueError("; ".join(problems))


def _problems(s: KafkaConnection) -> list[str]:
    protocol = s.kafka_security_protocol
    problems: list[str] = []
    if protocol != "PLAINTEXT" and not s.bootstrap_servers:
        problems.append(f"kafka_security_protocol={protocol} needs KAFKA_BOOTSTRAP_SERVERS "
                        "(the embedded local broker speaks PLAINTEXT only)")
    if uses_sasl(protocol):
        if not s.kafka_sasl_username:
            problems.append(f"kafka_sasl_username: required with kafka_security_protocol={protocol}")
        if s.kafka_sasl_password is None and s.kafka_sasl_password_file is None:
            problems.append(f"kafka_sasl_password (environment NEWSMON_KAFKA_SASL_PASSWORD) or "
                            f"kafka_sasl_password_file: required with kafka_security_protocol={protocol}")
        if s.kafka_sasl_password is not None and s.kafka_sasl_password_file is not None:
            problems.append("kafka_sasl_password and kafka_sasl_password_file: set one, not both")
    else:
        ignored = [name for name in _SASL_FIELDS if getattr(s, name) is not None]
        if ignored:
            problems.append(f"{', '.join(ignored)}: set, but kafka_security_protocol={protocol} does not "
                            "authenticate with SASL (use SASL_SSL or SASL_PLAINTEXT)")
    if not uses_tls(protocol):
        ignored = [name for name in (*_SSL_FILES, "kafka_ssl_key_password") if getattr(s, name) is not None]
        if ignored:
            problems.append(f"{', '.join(ignored)}: set, but kafka_security_protocol={protocol} does not "
                            "use TLS (use SSL or SASL_SSL)")
    if s.kafka_ssl_keyfile is not None and s.kafka_ssl_certfile is None:
        problems.append("kafka_ssl_keyfile: needs kafka_ssl_certfile (the client certificate)")
    for name in (*_SSL_FILES, "kafka_sasl_password_file"):
        path: Path | None = getattr(s, name)
        if path is not None and not path.is_file():
            problems.append(f"{name}: no such file: {path}")
    if not problems and s.kafka_sasl_password_file is not None and uses_sasl(protocol):
        try:
            if not sasl_password(s):
                problems.append(f"kafka_sasl_password_file: {s.kafka_sasl_password_file} is empty")
        except OSError as exc:
            problems.append(f"kafka_sasl_password_file: cannot read {s.kafka_sasl_password_file}: {exc.strerror}")
    return problems


def sasl_password(settings: KafkaConnection) -> str | None:
    """The SASL password: the setting, else the file's first line (read at
    each connection, so a rotated file is picked up by a restarted client)."""
    if settings.kafka_sasl_password is not None:
        return settings.kafka_sasl_password.get_secret_value()
    if settings.kafka_sasl_password_file is not None:
        text = settings.kafka_sasl_password_file.read_text(encoding="utf-8")
        return text.splitlines()[0] if text.strip() else ""
    return None


def ssl_context(settings: KafkaConnection) -> ssl.SSLContext | None:
    """The TLS context for SSL / SASL_SSL, None otherwise. Verifies the
    broker's certificate (against kafka_ssl_cafile, else the system CAs) and,
    unless kafka_ssl_check_hostname is off, its host name."""
    if not uses_tls(settings.kafka_security_protocol):
        return None
    from aiokafka.helpers import create_ssl_context

    key_password = settings.kafka_ssl_key_password
    context = create_ssl_context(
        cafile=settings.kafka_ssl_cafile,
        certfile=settings.kafka_ssl_certfile,
        keyfile=settings.kafka_ssl_keyfile,
        # never None: OpenSSL would prompt on the terminal for an encrypted key
        password=key_password.get_secret_value() if key_password is not None else _no_key_password,
    )
    if not settings.kafka_ssl_check_hostname:
        context.check_hostname = False  # the chain is still verified
    return context


def _no_key_password() -> str:
    raise ValueError("kafka_ssl_keyfile is encrypted: set NEWSMON_KAFKA_SSL_KEY_PASSWORD")
