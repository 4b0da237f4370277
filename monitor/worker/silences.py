"""The worker's view of the silences topic (monitor/kafka/silences.py):
`follow` keeps a `SilenceSet` equal to the topic while the worker runs."""

from __future__ import annotations

import asyncio

from monitor.kafka.follow import follow_topic
from monitor.kafka.security import PLAINTEXT, ClientOptions
from monitor.log import get_logger
from monitor.rules.silences import SilenceSet

log = get_logger(__name__)


async def follow(bootstrap: str, topic: str, silences: SilenceSet, *,
                 ready: asyncio.Event | None = None, stop: asyncio.Event | None = None,
                 security: ClientOptions = PLAINTEXT) -> None:
    """Keep `silences` equal to the topic until `stop` is set: read it from the
    beginning, then every new record as it arrives. `ready` is set once the
    records present at start are applied (logged as `silences_loaded`).
    Survives broker outages (monitor/kafka/follow.py)."""
    loaded = ready or asyncio.Event()

    async def announce() -> None:
        await loaded.wait()
        log.info("silences_loaded", silences=len(silences))

    announcer = asyncio.create_task(announce())
    try:
        await follow_topic(bootstrap, topic, lambda r: silences.apply_record(r.key, r.value),
                           ready=loaded, stop=stop, security=security)
    finally:
        announcer.cancel()
