"""Reading topics in tests: no consumer group, from the beginning, bounded in time."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition


async def read_topic(
    bootstrap: str, topic: str, *, until: Callable[[list[dict]], bool] | None = None,
    timeout: float = 60.0, settle: float = 0.0, security: Mapping[str, Any] | None = None,
) -> list[dict]:
    """JSON values on `topic`, read from the start until `until(values)` holds
    or `timeout` passes; then keep reading `settle` seconds more to catch extras.
    `security`: TLS / SASL options (monitor.kafka.security.aiokafka_options)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                **(security or {}))
    await consumer.start()
    values: list[dict] = []
    try:
        deadline = time.monotonic() + timeout
        partitions = None
        while time.monotonic() < deadline:
            partitions = consumer.partitions_for_topic(topic)
            if partitions:
                break
            await consumer._client.force_metadata_update()
            await asyncio.sleep(0.3)
        if not partitions:
            return values
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        settle_deadline = None
        while True:
            now = time.monotonic()
            if settle_deadline is None and (now > deadline or (until is not None and until(values))):
                settle_deadline = now + settle
            if settle_deadline is not None and now >= settle_deadline:
                break
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                values.extend(json.loads(r.value) for r in records)
    finally:
        await consumer.stop()
    return values


async def send_raw(bootstrap: str, topic: str, *raws, partition: int | None = None,
                   security: Mapping[str, Any] | None = None) -> None:
    """Publish RawArticles to `topic`, keyed by id (or to one `partition`),
    and wait for the broker's ack."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **(security or {}))
    await producer.start()
    try:
        for raw in raws:
            await producer.send_and_wait(topic, key=raw.id.encode(), value=raw.model_dump_json().encode(),
                                         partition=partition)
    finally:
        await producer.stop()
