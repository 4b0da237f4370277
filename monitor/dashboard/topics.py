"""Every Kafka access of the dashboard, in one place.

Reads: the compacted topics (`news.stories`, `news.silences`, `news.acks`)
from the beginning and `news.alerts` from a bounded window back, then each
as it grows, with no consumer group (partitions assigned by hand, nothing
committed), so any number of dashboards never take a record from anyone.
Writes: silences exactly as `newsmon alerts silence` does, and
acknowledgements to the compacted `news.acks` (key = alert id).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from monitor.dashboard.view import Ack, Change, DashboardState
from monitor.kafka.admin import ensure_topics
from monitor.kafka.backoff import backoff_delays, wait_for_broker
from monitor.kafka.consumer import assign_all, new_consumer, seek_to_time, stop_consumer
from monitor.kafka.producer import send_one
from monitor.kafka.security import aiokafka_options
from monitor.kafka.silences import publish_silence, remove_silence
from monitor.log import get_logger
from monitor.rules.silences import Silence
from monitor.settings import Settings

log = get_logger(__name__)

Notify = Callable[[Change], None]


def topic_names(settings: Settings) -> dict[str, str]:
    """Record kind (as DashboardState.apply_record takes it) -> topic name."""
    t = settings.topics
    return {"alerts": t.alerts, "stories": t.stories, "silences": t.silences, "acks": t.acks}


async def ensure_dashboard_topics(settings: Settings, attempts: int | None = 3) -> None:
    """The compacted topics the dashboard writes to, created as the worker creates them."""
    t = settings.topics
    await ensure_topics(settings, [t.silences, t.acks], attempts=attempts)


async def follow(settings: Settings, kind: str, topic: str, state: DashboardState, notify: Notify, *,
                 since_ms: int | None, ready: asyncio.Event, stop: asyncio.Event) -> None:
    """Apply `topic`'s records to `state` until `stop`: from `since_ms` (None =
    the beginning), then live. `ready` is set once what the topic held at
    start is applied (at once for a topic that does not exist yet, which
    it then waits for). Survives broker outages, resuming where it was."""
    bootstrap, security = settings.resolved_bootstrap(), aiokafka_options(settings)
    delays = backoff_delays(cap=5.0)
    resume: dict[TopicPartition, int] = {}
    while not stop.is_set():
        consumer = new_consumer(bootstrap, security=security, max_partition_fetch_bytes=8 * 1024 * 1024)
        try:
            await consumer.start()
            if topic not in await consumer.topics() and not ready.is_set():
                log.info("dashboard_topic_absent", topic=topic)  # nothing to load; follow it once it exists
                ready.set()
            tps = await assign_all(consumer, topic, stop)
            if not tps:
                return
            ends = await consumer.end_offsets(tps)
            fresh = [tp for tp in tps if tp not in resume]
            for tp in tps:
                if tp in resume:
                    consumer.seek(tp, resume[tp])
            if fresh and since_ms is None:
                await consumer.seek_to_beginning(*fresh)
            elif fresh:
                await seek_to_time(consumer, fresh, since_ms)
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=300)
                for tp, records in batches.items():
                    for record in records:
                        change = state.apply_record(kind, record.key, record.value)
                        resume[tp] = record.offset + 1
                        if change is not None and ready.is_set():
                            notify(change)
                if not ready.is_set() and all([await consumer.position(tp) >= ends[tp] for tp in tps]):
                    log.info("dashboard_topic_loaded", topic=topic)
                    ready.set()
            return
        except KafkaError as exc:
            await wait_for_broker(delays, exc, log, topic=topic)
        finally:
            await stop_consumer(consumer)


def start_followers(settings: Settings, state: DashboardState, notify: Notify, stop: asyncio.Event,
                    ready: dict[str, asyncio.Event]) -> list[asyncio.Task]:
    """One follower task per topic; `ready[kind]` is set once it has caught up."""
    window_ms = int(settings.dashboard.history_hours * 3600 * 1000)
    tasks = []
    for kind, topic in topic_names(settings).items():
        since_ms = int(time.time() * 1000) - window_ms if kind == "alerts" else None
        tasks.append(asyncio.create_task(follow(settings, kind, topic, state, notify, since_ms=since_ms,
                                                ready=ready[kind], stop=stop), name=f"dashboard-{kind}"))
    return tasks


class Writer:
    """The dashboard's two write actions, each acknowledged by the broker
    before it returns (KafkaError otherwise)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bootstrap, self.security = settings.resolved_bootstrap(), aiokafka_options(settings)
        self.topics = topic_names(settings)

    async def silence(self, silence: Silence) -> None:
        await publish_silence(self.bootstrap, self.topics["silences"], silence, security=self.security)

    async def unsilence(self, silence_id: str) -> None:
        await remove_silence(self.bootstrap, self.topics["silences"], silence_id, security=self.security)

    async def ack(self, ack: Ack) -> None:
        await self._send(self.topics["acks"], ack.alert_id, ack.model_dump_json().encode())

    async def unack(self, alert_id: str) -> None:
        await self._send(self.topics["acks"], alert_id, None)

    async def _send(self, topic: str, key: str, value: bytes | None) -> None:
        await send_one(self.bootstrap, topic, key, value, security=self.security)
