"""structlog set-up: JSON lines in production, readable output on a terminal.

Third-party libraries log through the standard `logging` module; at INFO
their start-up chatter (faust's tables and banners, aiokafka's group joins,
watchfiles' "1 change detected") buried the lines that matter, so below
DEBUG they only speak at WARNING and above."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(level: str = "INFO", fmt: str = "auto") -> None:
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    quiet_third_party(level)


NOISY_LOGGERS = ("faust", "mode", "aiokafka", "watchfiles")


class HarmlessWarnings(logging.Filter):
    """faust warns `Missing sensor state for rebalance #N` on every start: its
    sensors keep no state when none is installed (SensorDelegate returns an
    empty dict, which faust reads as missing); newsmon uses no faust sensor."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Missing sensor state for rebalance" not in str(record.msg)


def quiet_third_party(level: str = "INFO") -> None:
    """faust, mode, aiokafka and watchfiles at WARNING unless `level` is DEBUG;
    faust's harmless sensor warning never."""
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING)
    faust_app = logging.getLogger("faust.app.base")
    if not any(isinstance(f, HarmlessWarnings) for f in faust_app.filters):
        faust_app.addFilter(HarmlessWarnings())


def get_logger(name: str | None = None):
    return structlog.get_logger(name)
