"""Follow a topic without a consumer group: read what it holds, then every new
record, until told to stop. The worker's silences and the dashboard's
materialised view are both kept this way, so both survive a broker outage
the same way and never take a record from anyone else."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from monitor.kafka.backoff import backoff_delays, wait_for_broker
from monitor.kafka.consumer import assign_all, new_consumer, seek_to_time, stop_consumer
from monitor.kafka.security import PLAINTEXT, ClientOptions
from monitor.log import get_logger

log = get_logger(__name__)


async def follow_topic(bootstrap: str, topic: str, apply: Callable[[ConsumerRecord], None], *,
                       since_ms: int | None = None, ready: asyncio.Event | None = None,
                       stop: asyncio.Event | None = None, ready_if_absent: bool = False,
                       security: ClientOptions = PLAINTEXT, poll_ms: int = 500,
                       **consumer_options) -> None:
    """Call `apply` on each record of `topic`, from `since_ms` (None: the
    beginning), then live, until `stop` is set. `ready` is set once the records
    present at start are applied; with `ready_if_absent`, at once when the topic
    does not exist yet (there is nothing to load; it is followed once it
    appears). After a reconnect each partition resumes where it was: never
    re-read, a tombstone may be compacted away by then."""
    stop = stop or asyncio.Event()
    delays = backoff_delays(cap=5.0)
    resume: dict[TopicPartition, int] = {}  # next offset per partition, after a reconnect
    while not stop.is_set():
        consumer = new_consumer(bootstrap, security=security, **consumer_options)
        try:
            await consumer.start()
            if ready_if_absent and ready is not None and not ready.is_set() and topic not in await consumer.topics():
                log.info("topic_absent", topic=topic)
                ready.set()
            tps = await assign_all(consumer, topic, stop)
            if not tps:
                return  # stopped while waiting for the topic
            ends = await consumer.end_offsets(tps)
            fresh = [tp for tp in tps if tp not in resume]
            for tp in tps:
                if tp in resume:
                    consumer.seek(tp, resume[tp])
            if fresh and since_ms is None:
                await consumer.seek_to_beginning(*fresh)
            elif fresh:
                await seek_to_time(consumer, fresh, since_ms)
            log.info("topic_following", topic=topic)
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=poll_ms)
                for tp, records in batches.items():
                    for record in records:
                        apply(record)
                        resume[tp] = record.offset + 1
                if ready is not None and not ready.is_set() and all(
                        [await consumer.position(tp) >= ends[tp] for tp in tps]):
                    log.info("topic_loaded", topic=topic)
                    ready.set()
            return
        except KafkaError as exc:
            await wait_for_broker(delays, exc, log, topic=topic)
        finally:
            await stop_consumer(consumer)
