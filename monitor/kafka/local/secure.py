"""TLS and SASL listeners for a secured local broker (the secured-cluster tests)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclasses.dataclass(frozen=True)
class SecureListeners:
    """Optional SSL / SASL_SSL / SASL_PLAINTEXT listeners beside the PLAINTEXT one,
    to test newsmon against a secured broker (tests/integration/test_secure_kafka.py).

    The PLAINTEXT listener stays: inter-broker traffic and the readiness probe
    use it. Every SASL listener takes PLAIN and SCRAM-SHA-256/512 for ``users``
    (PLAIN from the JAAS config; SCRAM credentials written into the metadata
    log when the storage is formatted, ``kafka-storage format --add-scram``, so
    they exist only on a fresh data dir). With a ``truststore``, the SSL
    listener requires a client certificate signed by a CA in it (mutual TLS)."""

    keystore: Path  # PKCS12: the broker's key and certificate chain
    keystore_password: str
    ssl_port: int | None = None
    sasl_ssl_port: int | None = None
    sasl_plaintext_port: int | None = None
    users: tuple[tuple[str, str], ...] = ()  # (name, password) for SASL
    truststore: Path | None = None  # PKCS12 of trusted CAs for client certificates
    truststore_password: str | None = None

    def listeners(self) -> dict[str, int]:
        """Listener name (= its security protocol) -> port."""
        ports = {"SSL": self.ssl_port, "SASL_SSL": self.sasl_ssl_port, "SASL_PLAINTEXT": self.sasl_plaintext_port}
        return {name: port for name, port in ports.items() if port is not None}

    def properties(self) -> dict[str, Any]:
        props: dict[str, Any] = {
            "ssl.keystore.type": "PKCS12",
            "ssl.keystore.location": str(self.keystore),
            "ssl.keystore.password": self.keystore_password,
        }
        if self.truststore is not None:
            props.update({
                "ssl.truststore.type": "PKCS12",
                "ssl.truststore.location": str(self.truststore),
                "ssl.truststore.password": self.truststore_password or "",
                "listener.name.ssl.ssl.client.auth": "required",
            })
        sasl = [name for name in self.listeners() if name.startswith("SASL_")]
        if sasl:
            props["sasl.enabled.mechanisms"] = ",".join(SASL_MECHANISMS)
            plain_users = " ".join(f'user_{name}="{password}"' for name, password in self.users)
            for listener in sasl:
                prefix = f"listener.name.{listener.lower()}"
                props[f"{prefix}.plain.sasl.jaas.config"] = (
                    f"org.apache.kafka.common.security.plain.PlainLoginModule required {plain_users};")
                for mechanism in SASL_MECHANISMS[1:]:
                    props[f"{prefix}.{mechanism.lower()}.sasl.jaas.config"] = (
                        "org.apache.kafka.common.security.scram.ScramLoginModule required;")
        return props

    def format_args(self) -> list[str]:
        """``kafka-storage format`` arguments creating the SCRAM users."""
        return [arg for name, password in self.users for mechanism in SASL_MECHANISMS[1:]
                for arg in ("--add-scram", f"{mechanism}=[name={name},password={password}]")]
