"""The worker's view of the silences topic (monitor/kafka/silences.py):
`follow` keeps a `SilenceSet` equal to the topic while the worker runs."""

from __future__ import annotations

import asyncio

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from monitor.kafka.backoff import backoff_delays, wait_for_broker
from monitor.kafka.consumer import assign_all, new_consumer, stop_consumer
from monitor.kafka.security import PLAINTEXT, ClientOptions
from monitor.log import get_logger
from monitor.rules.silences import SilenceSet

log = get_logger(__name__)


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
        consumer = new_consumer(bootstrap, security=security)
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
                if ready is not None and not ready.is_set() and all(
                        [await consumer.position(tp) >= ends[tp] for tp in tps]):
                    log.info("silences_loaded", silences=len(silences))
                    ready.set()
            return
        except KafkaError as exc:
            await wait_for_broker(delays, exc, log, topic=topic)
        finally:
            await stop_consumer(consumer)
