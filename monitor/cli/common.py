"""What every command needs: the settings, logging, and the embedded broker when no external one is set."""

from __future__ import annotations

import click

from monitor.log import configure_logging
from monitor.settings import Settings, load_settings


def settings_for(**overrides) -> Settings:
    """The settings for a command (None overrides ignored), logging configured."""
    settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    configure_logging(settings.log_level, settings.log_format)
    return settings


def local_kafka(settings: Settings):
    from monitor.kafka.local import LocalKafka

    return LocalKafka(port=settings.kafka_port)


def ensure_broker(settings: Settings) -> bool:
    """Start the embedded broker unless an external one is configured.

    Returns True when this process started it (and so should stop it)."""
    if settings.bootstrap_servers:
        return False
    kafka = local_kafka(settings)
    if kafka.status().answering:
        return False
    click.echo(f"starting local Kafka broker on {kafka.bootstrap} ...", err=True)
    kafka.up()
    return True
