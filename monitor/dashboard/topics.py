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

from monitor.dashboard.view import Ack, Change, DashboardState
from monitor.kafka.admin import ensure_topics
from monitor.kafka.follow import follow_topic
from monitor.kafka.producer import send_one
from monitor.kafka.security import aiokafka_options
from monitor.kafka.silences import publish_silence, remove_silence
from monitor.rules.silences import Silence
from monitor.settings import Settings

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
    it then waits for). Changes after that are passed to `notify`."""

    def apply(record) -> None:
        change = state.apply_record(kind, record.key, record.value)
        if change is not None and ready.is_set():
            notify(change)

    await follow_topic(settings.resolved_bootstrap(), topic, apply, since_ms=since_ms, ready=ready, stop=stop,
                       ready_if_absent=True, security=aiokafka_options(settings), poll_ms=300,
                       max_partition_fetch_bytes=8 * 1024 * 1024)


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
