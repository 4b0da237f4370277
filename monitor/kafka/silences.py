"""Silences on Kafka: the compacted topic `news.silences` is their only home.

Key = silence id, value = `Silence` JSON, a tombstone (no value) removes
one. Compaction keeps the latest record per id, so the topic read from the
beginning is always the current set, across restarts and for any number of
workers; nobody needs a database or a shared file.

The CLI publishes and removes (here); the worker follows the topic into the
`SilenceSet` its rule engine consults (monitor/worker/silences.py).
"""

from __future__ import annotations

from monitor.kafka.history import read_history
from monitor.kafka.producer import send_one
from monitor.kafka.security import PLAINTEXT, ClientOptions
from monitor.rules.silences import Silence, SilenceSet


async def publish_silence(bootstrap: str, topic: str, silence: Silence, *,
                          security: ClientOptions = PLAINTEXT) -> None:
    """Store a silence (acknowledged by the broker when this returns)."""
    await send_one(bootstrap, topic, silence.id, silence.model_dump_json().encode(), security=security)


async def remove_silence(bootstrap: str, topic: str, silence_id: str, *,
                         security: ClientOptions = PLAINTEXT) -> None:
    """Write the tombstone that removes a silence."""
    await send_one(bootstrap, topic, silence_id, None, security=security)


async def load_silences(bootstrap: str, topic: str, *, security: ClientOptions = PLAINTEXT) -> SilenceSet:
    """Every silence on the topic now (expired ones too: they stay until removed)."""
    silences = SilenceSet()
    async for record in read_history(bootstrap, topic, missing_ok=True, security=security):
        silences.apply_record(record.key, record.value)
    return silences
