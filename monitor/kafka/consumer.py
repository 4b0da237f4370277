"""Consumers that read without a consumer group: partitions are assigned by
hand, nothing is committed, and no other subscriber loses a message (the
alert tail, the history reader, the silences follower, the replay fence).
Also the one place consumers are built (`new_consumer`)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from monitor.kafka.security import PLAINTEXT, ClientOptions


def new_consumer(bootstrap: str, *topics: str, security: ClientOptions = PLAINTEXT, group_id: str | None = None,
                 **options: Any) -> AIOKafkaConsumer:
    """An aiokafka consumer; without `group_id` it has no group and commits nothing."""
    return AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=group_id,
                            enable_auto_commit=False, **options, **security)


async def assign_all(consumer: AIOKafkaConsumer, topic: str, stop: asyncio.Event) -> list[TopicPartition]:
    """Wait for the topic to exist, then take every partition of it."""
    while not stop.is_set():
        partitions = consumer.partitions_for_topic(topic)
        if partitions:
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            consumer.assign(tps)
            return tps
        await consumer._client.force_metadata_update()
        await asyncio.sleep(0.5)
    return []


async def seek_to_time(consumer: AIOKafkaConsumer, tps: list[TopicPartition], ms: int) -> None:
    """Start at the first alert published since `ms`, even if the topic
    only appeared after we started waiting for it."""
    # End offsets first: anything appended after this snapshot is newer than
    # `ms`, so seeking to the snapshot (never to a lazily resolved "end")
    # cannot skip an alert that arrives while we look.
    ends = await consumer.end_offsets(tps)
    found = await consumer.offsets_for_times({tp: ms for tp in tps})
    for tp in tps:
        consumer.seek(tp, ends[tp] if found.get(tp) is None else found[tp].offset)


async def stop_consumer(consumer: AIOKafkaConsumer) -> None:
    """consumer.stop(), minus an aiokafka quirk: a group-less consumer stopped
    before its background task first ran raises CancelledError from stop()
    although nobody cancelled us. A real cancellation still propagates."""
    try:
        await consumer.stop()
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
