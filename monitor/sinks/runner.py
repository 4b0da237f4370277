"""The loop every sink shares: consume an alert topic, deliver, then commit.

Why it is built this way:

* **Its own consumer group per sink** (``<app_id>-sink-<name>``): each sink
  gets every alert and keeps its own position, so a slow or broken sink only
  falls behind itself; the worker and the other sinks never wait for it.
* **Commit after delivery** (``enable_auto_commit=False``): an offset is
  committed only once the alert was delivered, filtered out, or written to the
  dead-letter topic (acknowledged by the broker). A crash in between means the
  alert is delivered again: at-least-once, so receivers dedupe by alert id and
  revision.
* **Bounded retries, then the dead-letter topic**: one alert a receiver
  rejects for good must not stop every later alert. After ``max_attempts`` it
  goes to ``news.alerts.deadletter`` with the reason, and the sink moves on.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from pydantic import ValidationError

from monitor.alerts.filter import alert_filter
from monitor.kafka import admin
from monitor.kafka.backoff import backoff_delays
from monitor.kafka.consumer import new_consumer
from monitor.kafka.producer import Publisher
from monitor.kafka.security import aiokafka_options
from monitor.log import get_logger
from monitor.models import Alert
from monitor.settings import Settings
from monitor.sinks.base import DeliveryError, PermanentDeliveryError, Sink, describe

log = get_logger(__name__)


def group_id(settings: Settings, sink_name: str) -> str:
    return f"{settings.app_id}-sink-{sink_name}"


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep; True if `stop` was set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
        return True
    except TimeoutError:
        return False


class SinkRunner:
    """One sink's consumer loop (see the module docstring)."""

    def __init__(self, sink: Sink, settings: Settings) -> None:
        self.sink, self.settings = sink, settings
        cfg = sink.config
        self.topic = cfg.topic or settings.topics.alerts
        self.deadletter_topic = settings.topics.alerts_deadletter
        self.group_id = group_id(settings, sink.name)
        self.wanted: Callable[[Alert], bool] = alert_filter(cfg.rules, cfg.min_severity, cfg.entities)
        self.log = log.bind(sink=sink.name, topic=self.topic)

    async def run(self, stop: asyncio.Event) -> None:
        await admin.ensure_topics(self.settings, [self.topic, self.deadletter_topic])
        bootstrap, security = self.settings.resolved_bootstrap(), aiokafka_options(self.settings)
        consumer = new_consumer(
            bootstrap, self.topic, group_id=self.group_id, security=security,
            client_id=f"newsmon-sink-{self.sink.name}",
            auto_offset_reset=self.sink.config.start,
            # retries of one alert may take minutes; staying in the group meanwhile
            # avoids a rebalance that would hand the same alert to a restarted copy
            max_poll_interval_ms=3600_000,
        )
        publisher = Publisher(bootstrap, client_id=f"newsmon-sink-{self.sink.name}", security=security)
        try:
            await consumer.start()
            await self.sink.open()
            self.log.info("sink_started", group_id=self.group_id, type=self.sink.config.type)  # type: ignore[attr-defined]
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500)
                for tp, records in batches.items():
                    for record in records:
                        if stop.is_set():
                            return  # the rest is not committed: delivered after a restart
                        if tp not in consumer.assignment():
                            break  # a rebalance took the partition: its new owner resumes at our last commit
                        if not await self._handle(record, publisher, stop):
                            return  # stopped while retrying: left uncommitted
                        if not await self._commit(consumer, tp, record.offset + 1):
                            if tp in consumer.assignment():
                                consumer.seek(tp, record.offset + 1)  # fetch the rest of the batch again
                            break
        finally:
            self.log.info("sink_stopping")
            await asyncio.gather(self.sink.close(), consumer.stop(), publisher.stop(), return_exceptions=True)

    async def _commit(self, consumer, tp: TopicPartition, offset: int) -> bool:
        try:
            await consumer.commit({tp: offset})
            return True
        except (CommitFailedError, IllegalStateError) as exc:  # partition moved in a rebalance
            self.log.warning("sink_commit_failed", partition=tp.partition, offset=offset, error=describe(exc))
            return False

    async def _handle(self, record: ConsumerRecord, publisher: Publisher, stop: asyncio.Event) -> bool:
        """Deliver or dead-letter one record; False if `stop` interrupted the retries."""
        try:
            alert = Alert.model_validate_json(record.value)
        except ValidationError as exc:
            await self._dead_letter(publisher, record, None, f"unreadable alert: {exc.errors()[0]['msg']}", 0)
            return True
        if not self.wanted(alert):
            return True
        cfg = self.sink.config
        delays = backoff_delays(cfg.retry_base, cfg.retry_cap, jitter=0.5)
        bound = self.log.bind(alert_id=alert.id, rule_id=alert.rule_id, revision=alert.revision)
        attempt = 0
        while True:
            attempt += 1
            try:
                await self.sink.deliver(alert, record.value)
                bound.info("sink_delivered", attempts=attempt)
                return True
            except asyncio.CancelledError:
                raise
            except PermanentDeliveryError as exc:
                reason = describe(exc)
                break
            except Exception as exc:  # noqa: BLE001 -- any failure is retried, then dead-lettered
                reason = describe(exc)
                if attempt >= cfg.max_attempts:
                    break
                delay = next(delays)
                if isinstance(exc, DeliveryError) and exc.retry_after is not None:
                    delay = max(delay, min(exc.retry_after, cfg.retry_cap))
                bound.warning("sink_retry", attempt=attempt, error=reason, retry_in=round(delay, 3))
                if await _sleep_or_stop(stop, delay):
                    return False
        bound.error("sink_dead_lettered", attempts=attempt, reason=reason)
        await self._dead_letter(publisher, record, alert, reason, attempt)
        return True

    async def _dead_letter(self, publisher: Publisher, record: ConsumerRecord, alert: Alert | None,
                           reason: str, attempts: int) -> None:
        """Publish and wait for the broker's ack, so the commit that follows never loses the alert."""
        body = {
            "reason": reason,
            "sink": self.sink.name,
            "sink_type": self.sink.config.type,  # type: ignore[attr-defined]
            "attempts": attempts,
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "failed_at": datetime.now(UTC).isoformat(),
            "alert_id": alert.id if alert else None,
            "alert": json.loads(record.value) if alert else None,
            "payload_prefix": None if alert else (record.value or b"")[:4096].decode("utf-8", "replace"),
        }
        key = alert.id if alert else (record.key or b"").decode("utf-8", "replace")
        await publisher.publish(self.deadletter_topic, key, json.dumps(body).encode())


async def run_sinks(settings: Settings, sinks: list[Sink], stop: asyncio.Event | None = None) -> None:
    """Run each sink in its own task until `stop` is set (or the task is cancelled).
    A sink that crashes is restarted with backoff; the others carry on."""
    stop = stop or asyncio.Event()

    async def supervised(sink: Sink) -> None:
        delays = backoff_delays(base=1.0, cap=60.0)
        while not stop.is_set():
            try:
                await SinkRunner(sink, settings).run(stop)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # one sink's failure must not end the others
                delay = next(delays)
                log.error("sink_crashed", sink=sink.name, error=describe(exc), restart_in=round(delay, 2),
                          exc_info=not isinstance(exc, (KafkaError, OSError)))
                if await _sleep_or_stop(stop, delay):
                    return

    await asyncio.gather(*(supervised(sink) for sink in sinks))
