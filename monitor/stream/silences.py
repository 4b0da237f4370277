"""Silences on Kafka: the compacted topic `news.silences` is their only home.

Key = silence id, value = `Silence` JSON, a tombstone (no value) removes
one. Compaction keeps the latest record per id, so the topic read from the
beginning is always the current set, across restarts and for any number of
workers; nobody needs a database or a shared file.

The CLI publishes and removes; the worker `follow`s the topic into the
`SilenceSet` its rule engine consults.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from monitor.kafka_security import PLAINTEXT, ClientOptions
from monitor.log import get_logger
from monitor.rules.silences import Silence, SilenceSet
from monitor.sinks.console import assign_all
from monitor.stream.history import read_history, stop_consumer
from monitor.watch.publish import backoff_delays

log = get_logger(__name__)


async def _send(bootstrap: str, topic: str, key: str, value: bytes | None, security: ClientOptions) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **security)
    await producer.start()
    try:
        await producer.send_and_wait(topic, key=key.encode(), value=value)
    finally:
        await producer.stop()


async def publish_silence(bootstrap: str, topic: str, silence: Silence, *,
                          security: ClientOptions = PLAINTEXT) -> None:
    """Store a silence (acknowledged by the broker when this returns)."""
    await _send(bootstrap, topic, silence.id, silence.model_dump_json().encode(), security)


async def remove_silence(bootstrap: str, topic: str, silence_id: str, *,
                         security: ClientOptions = PLAINTEXT) -> None:
    """Write the tombstone that removes a silence."""
    await _send(bootstrap, topic, silence_id, None, security)


async def load_silences(bootstrap: str, topic: str, *, security: ClientOptions = PLAINTEXT) -> SilenceSet:
    """Every silence on the topic now (expired ones too: they stay until removed)."""
    silences = SilenceSet()
    async for record in read_history(bootstrap, topic, missing_ok=True, security=security):
        silences.apply_record(record.key, record.value)
    return silences


async def follow(bootstrap: str, topic: str, silences: SilenceSet, *,
                 ready: asyncio.Event | None = None, stop: asyncio.Event | None = None,
                 security: ClientOptions = PLAINTEXT) -> None:
    """Keep `silences` equal to the topic until `stop` is set: read it from the
    beginning, then every new record as it arrives. `ready` is set once the
    records present at start are applied. Survives broker outages (the
    consumer reconnects; a failed start is retried with backoff)."""
    stop = stop or asyncio.Event()
    delays = backoff_delays(cap=5.0)
    resume: dict[TopicPartition, int] = {}  # next offset per partition, after a reconnect
    while not stop.is_set():
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, **security)
        try:
            await consumer.start()
            tps = await assign_all(consumer, topic, stop)
            if not tps:
                return  # stopped while waiting for the topic
            ends = await consumer.end_offsets(tps)
            for tp in tps:
                if tp in resume:  # never re-read: a tombstone may be compacted away by now
                    consumer.seek(tp, resume[tp])
                else:
                    await consumer.seek_to_beginning(tp)
            log.info("silences_following", topic=topic)
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500)
                for tp, records in batches.items():
                    for record in records:
                        silences.apply_record(record.key, record.value)
                        resume[tp] = record.offset + 1
                if ready is not None and not ready.is_set():
                    if all([await consumer.position(tp) >= ends[tp] for tp in tps]):
                        log.info("silences_loaded", silences=len(silences))
                        ready.set()
            return
        except KafkaError as exc:
            delay = next(delays)
            log.warning("broker_unreachable", error=str(exc), topic=topic, retry_in=round(delay, 2))
            await asyncio.sleep(delay)
        finally:
            await stop_consumer(consumer)
