"""Client options for a secured Kafka cluster: every Kafka client newsmon makes
gets them from here, aiokafka producers, consumers and admin clients through
`aiokafka_options`, the faust worker through `faust_credentials`. The
settings themselves, and their check, are monitor/settings/connection.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from monitor.settings.connection import KafkaConnection, sasl_password, ssl_context, uses_sasl, uses_tls

# keyword arguments for AIOKafkaProducer / AIOKafkaConsumer / AIOKafkaAdminClient
ClientOptions = Mapping[str, Any]
PLAINTEXT: ClientOptions = MappingProxyType({})  # the default: no TLS, no SASL


def aiokafka_options(settings: KafkaConnection) -> dict[str, Any]:
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


def faust_credentials(settings: KafkaConnection) -> Any:
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
