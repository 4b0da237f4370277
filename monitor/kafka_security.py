"""Talking to a secured Kafka cluster: the ``kafka_*`` security settings
turned into client options, in one place.

Every Kafka client newsmon makes gets its options from here: aiokafka
producers, consumers and admin clients through `aiokafka_options`, the faust
worker through `faust_credentials`. A component that took a bootstrap address
alone would connect in plaintext and fail against a secured cluster with a
vague timeout, so the settings are also checked up front (`check`): every
combination that would be ignored or cannot work is refused with the name of
the setting at fault.

Secrets (the SASL password, a client key's password) come only from the
environment or a file (monitor/configfile.py refuses them in newsmon.yaml);
they are `SecretStr` and never logged.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from monitor.config import Settings

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]

# keyword arguments for AIOKafkaProducer / AIOKafkaConsumer / AIOKafkaAdminClient
ClientOptions = Mapping[str, Any]
PLAINTEXT: ClientOptions = MappingProxyType({})  # the default: no TLS, no SASL

_SSL_FILES = ("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile")
_SASL_FIELDS = ("kafka_sasl_username", "kafka_sasl_password", "kafka_sasl_password_file")


def uses_tls(protocol: str) -> bool:
    return protocol in ("SSL", "SASL_SSL")


def uses_sasl(protocol: str) -> bool:
    return protocol.startswith("SASL_")


def check(settings: Settings) -> None:
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


def _problems(s: Settings) -> list[str]:
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


def sasl_password(settings: Settings) -> str | None:
    """The SASL password: the setting, else the file's first line (read at
    each connection, so a rotated file is picked up by a restarted client)."""
    if settings.kafka_sasl_password is not None:
        return settings.kafka_sasl_password.get_secret_value()
    if settings.kafka_sasl_password_file is not None:
        text = settings.kafka_sasl_password_file.read_text(encoding="utf-8")
        return text.splitlines()[0] if text.strip() else ""
    return None


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
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


def aiokafka_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for every aiokafka client (producer, consumer, admin):
    ``AIOKafkaConsumer(bootstrap_servers=..., **aiokafka_options(settings))``."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return {}
    options: dict[str, Any] = {"security_protocol": protocol}
    if uses_tls(protocol):
        options["ssl_context"] = ssl_context(settings)
    if uses_sasl(protocol):
        options.update(sasl_mechanism=settings.kafka_sasl_mechanism,
                       sasl_plain_username=settings.kafka_sasl_username,
                       sasl_plain_password=sasl_password(settings))
    return options


def faust_credentials(settings: Settings) -> Any:
    """``faust.App(broker_credentials=...)``: the same security for the worker's
    own consumer, producer and topic creation; None for PLAINTEXT."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    import faust

    if protocol == "SSL":
        return faust.SSLCredentials(ssl_context(settings))
    return faust.SASLCredentials(
        username=settings.kafka_sasl_username, password=sasl_password(settings),
        ssl_context=ssl_context(settings),  # None for SASL_PLAINTEXT; faust then says SASL_PLAINTEXT
        mechanism=settings.kafka_sasl_mechanism,
    )
