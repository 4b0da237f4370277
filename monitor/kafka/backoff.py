"""The one backoff: exponential delays with jitter, forever. Used while the
broker is unreachable (producer, admin, silences follower), between sink
delivery retries and sink restarts."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from typing import Any


def backoff_delays(base: float = 0.5, cap: float = 30.0, *, jitter: float = 1.0) -> Iterator[float]:
    """The n-th delay lies in [d * (1 - jitter), d], d = min(cap, base * 2**n):
    jitter 1.0 is full jitter (from 0), 0.5 keeps at least half of d."""
    attempt = 0
    while True:
        ceiling = min(cap, base * 2**attempt)
        yield random.uniform(ceiling * (1 - jitter), ceiling)
        attempt += 1


async def wait_for_broker(delays: Iterator[float], exc: BaseException, log: Any, **context: Any) -> None:
    """Log `broker_unreachable` (with `context`) and sleep the next delay."""
    delay = next(delays)
    log.warning("broker_unreachable", error=str(exc), **context, retry_in=round(delay, 2))
    await asyncio.sleep(delay)
