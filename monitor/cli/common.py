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

    Returns True when this process owns it (and so should stop it): it
    started it, or adopted one an earlier, now dead run left behind
    (monitor/kafka/local/owner.py). A broker someone else runs is used and
    left alone."""
    from monitor.kafka.local.owner import claim, recorded_owner

    if settings.bootstrap_servers:
        return False
    kafka = local_kafka(settings)
    status = kafka.status()
    if status.running:
        owner = recorded_owner(kafka.data_dir)
        if owner is None or owner.alive():
            who = f"newsmon pid {owner.pid}" if owner else "not by newsmon run"
            click.echo(f"using the local Kafka broker already running on {kafka.bootstrap} (pid {status.pid}, "
                       f"started {who}); it keeps running when we stop", err=True)
            if not status.answering:
                kafka.up()  # still starting: wait for it
            return False
        click.echo(f"adopting local Kafka broker left by an earlier run (pid {owner.pid}): "
                   f"broker pid {status.pid} on {kafka.bootstrap}, stopped when we stop", err=True)
        claim(kafka.data_dir)
        if not status.answering:
            kafka.up()
        return True
    click.echo(f"starting local Kafka broker on {kafka.bootstrap} ...", err=True)
    claim(kafka.data_dir)  # before the JVM exists: a kill during start-up still leaves an owner
    try:
        kafka.up()
    except BaseException:
        from monitor.kafka.local.owner import release

        release(kafka.data_dir)
        raise
    return True
