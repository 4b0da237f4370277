"""What a sink is: it delivers one alert, or raises. Retries, offsets and
dead letters are the runner's job (monitor/sinks/runner.py)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from monitor.models import Alert
from monitor.settings.sinks import SinkConfigBase


class DeliveryError(Exception):
    """A failed delivery worth retrying; ``retry_after`` (seconds) if the receiver said."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """A failure retrying cannot fix (e.g. HTTP 400, 404): dead-letter at once."""


class Sink(ABC):
    """Delivers one alert. Retries, offsets and dead-letters are the loop's job."""

    def __init__(self, config: SinkConfigBase) -> None:
        self.config = config

    @property
    def name(self) -> str:
        return self.config.name

    def check(self) -> None:
        """Raise ValueError/ImportError if the sink cannot work (before anything starts)."""

    async def open(self) -> None:
        """Acquire resources (HTTP session, file) before the first delivery."""

    async def close(self) -> None:
        """Release them; called once, also after an error or cancellation."""

    @abstractmethod
    async def deliver(self, alert: Alert, raw: bytes) -> None:
        """Deliver once, or raise. ``raw`` is the alert's JSON exactly as on the topic."""


def describe(exc: BaseException) -> str:
    """A reason for logs and dead-letter records (timeouts have no message)."""
    text = str(exc)
    if isinstance(exc, DeliveryError) or not text:
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}"
