"""Sink types: the config model under `sinks:` (monitor/settings/sinks.py)
to the class that delivers, and `build_sinks`, which checks them all before
anything starts."""

from __future__ import annotations

from monitor.errors import ConfigError
from monitor.settings import Settings
from monitor.settings.sinks import SinkConfigBase
from monitor.sinks.base import Sink
from monitor.sinks.email import EmailSink
from monitor.sinks.jsonl import JsonlSink
from monitor.sinks.webhook import WebhookSink

SINK_CLASSES: dict[str, type[Sink]] = {"webhook": WebhookSink, "jsonl": JsonlSink, "email": EmailSink}


def build_sink(config: SinkConfigBase) -> Sink:
    return SINK_CLASSES[config.type](config)  # type: ignore[attr-defined]


def build_sinks(settings: Settings, configs: list[SinkConfigBase] | None = None) -> list[Sink]:
    """Sinks for `configs` (default: the configured ones), checked before anything
    starts: a secret's environment variable missing or an extra not installed
    is a ConfigError naming the sink."""
    sinks = []
    for cfg in settings.sinks if configs is None else configs:
        try:
            sink = build_sink(cfg)
            sink.check()
        except (ValueError, ImportError) as exc:
            raise ConfigError(f"sink {cfg.name!r}: {exc}") from None
        sinks.append(sink)
    return sinks
