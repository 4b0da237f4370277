"""What the worker's two agents do with each message, apart from faust.

`prepare` (stateless: clean, tag, fingerprint) runs on every partition of
news.raw; `decide` (dedup, stories, rules against the state stores) runs on
the single partition of news.prepared. Both take a plain `Record` and send
through an `Outbox`, so they can be tested with in-memory topics and stores;
monitor/worker/app.py feeds them faust's events and hands them faust topics.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from monitor.log import get_logger
from monitor.models import Alert, PreparedArticle, RawArticle, StoryRecord, utcnow
from monitor.pipeline import Pipeline, Result
from monitor.settings.topics import Topics
from monitor.worker.http import Metrics
from monitor.worker.replay import ReplayFence

log = get_logger(__name__)

SWEEP_KEY = "\x00sweep"  # key of the timer's tick on news.prepared; no article id looks like it


def deadletter_record(reason: str, key: Any, payload: bytes | None, limit: int = 64 * 1024) -> bytes:
    """What goes to the dead-letter topic: the reason and (a prefix of) the payload."""
    text = (payload or b"")[:limit].decode("utf-8", "replace")
    return json.dumps({
        "reason": reason, "key": key if isinstance(key, str) else repr(key),
        "payload_bytes": len(payload or b""), "payload_prefix": text,
    }).encode()


@dataclass(frozen=True)
class Record:
    """One message as an agent sees it; `timestamp` in seconds, as faust gives it."""

    key: bytes | str | None
    value: bytes | None
    partition: int = 0
    offset: int = 0
    timestamp: float = 0.0

    def key_text(self) -> str:
        return self.key.decode("utf-8", "replace") if isinstance(self.key, bytes) else self.key  # type: ignore[return-value]


class Outbox(Protocol):
    """Where the agents send: a topic name, a key and the value's bytes."""

    async def send(self, topic: str, key: bytes | str | None, value: bytes) -> None: ...

    async def delivered(self) -> None:
        """Return once the broker has acknowledged everything sent so far."""


class Agents:
    """The agents' logic over one pipeline; `fence` drops alerts already sent
    before a crash (monitor/worker/replay.py); `clock` is the time decisions
    are made at (tests move it)."""

    def __init__(self, pipeline: Pipeline, topics: Topics, outbox: Outbox, metrics: Metrics | None = None, *,
                 max_raw_bytes: int = 16 * 1024 * 1024, fence: ReplayFence | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.pipeline, self.topics, self.outbox, self.clock = pipeline, topics, outbox, clock
        self.metrics = metrics or Metrics()
        self.max_raw_bytes = max_raw_bytes
        self.fence = fence or ReplayFence()
        self.processed_offsets: dict[int, int] = {}  # partition of news.raw -> last offset handled, for lag

    async def prepare(self, record: Record) -> None:
        """Stateless: runs on every partition of news.raw, on every worker."""
        key = record.key_text()
        self.processed_offsets[record.partition] = record.offset
        size = len(record.value or b"")
        if size > self.max_raw_bytes:  # refused before parsing: bounded memory and time
            await self._poison(record, key, f"payload too large: {size} bytes > limit {self.max_raw_bytes}",
                               "too_large")
            return
        try:
            raw = RawArticle.model_validate_json(record.value)
        except ValidationError as exc:
            await self._poison(record, key, f"invalid RawArticle: {exc.errors()[0]['msg']} at {exc.errors()[0]['loc']}",
                               "invalid")
            return
        try:
            prepared = self.pipeline.prepare(raw)
        except Exception as exc:  # noqa: BLE001 -- one bad article never stops the stream
            await self._failed(record, key, raw.id, exc)
            return
        await self.outbox.send(self.topics.prepared, raw.id.encode(), prepared.model_dump_json().encode())

    async def decide(self, record: Record) -> None:
        """Stateful: dedup, stories and rules, against the stores. The caller
        waits until the stores are recovered, silences read and the fence loaded."""
        self.fence.passed(int(record.timestamp * 1000))
        replay_start = self.fence.take_replay_start()
        if replay_start is not None:  # resolve notices a crash may have lost (the tables are recovered now)
            since = datetime.fromtimestamp(replay_start / 1000, UTC)
            await self.publish_alerts(self.pipeline.engine.resolved_since(since), None)
        key = record.key_text()
        if key == SWEEP_KEY:  # the timer's tick: resolve quiet alert groups, close idle stories
            await self._sweep(self.clock())
            return
        try:
            prepared = PreparedArticle.model_validate_json(record.value)
            result = self.pipeline.decide(prepared, self.clock())
        except Exception as exc:  # noqa: BLE001 -- one bad article never stops the stream
            await self._failed(record, key, key, exc)
            return
        article = result.article
        target = "duplicates" if article.is_duplicate else "articles"
        if not self.fence.article_already_sent(article.id):  # a replay re-sends nothing already out
            await self._send_json(getattr(self.topics, target), article.id, article)
            self.fence.article_sent(article.id)
        await self.publish_stories(result.stories)  # before the alerts, which name the story
        await self.publish_alerts(result.alerts, article.id)
        log.info("article_processed", article_id=article.id, duplicate_of=article.duplicate_of,
                 story_id=article.story_id, alerts=len(result.alerts))
        observe(self.metrics, result)

    async def _sweep(self, now: datetime) -> None:
        for what, work in (("alerts", self._sweep_alerts), ("stories", self._sweep_stories)):
            try:
                await work(now)
            except Exception as exc:  # noqa: BLE001 -- a failed sweep is retried at the next tick
                log.error("sweep_failed", part=what, error=f"{type(exc).__name__}: {exc}",
                          tb=traceback.format_exc(limit=5))

    async def _sweep_alerts(self, now: datetime) -> None:
        await self.publish_alerts(self.pipeline.sweep(now), None)

    async def _sweep_stories(self, now: datetime) -> None:
        await self.publish_stories(self.pipeline.expire_due(now))

    async def publish_stories(self, stories: list[StoryRecord]) -> None:
        """On the compacted news.stories, keyed by story id: the latest record
        of each story wins (a replay re-sends the current one: harmless). A
        closed story's state is dropped only once the broker has its closed
        record: a crash before that closes it again after the restart."""
        for story in stories:
            await self._send_json(self.topics.stories, story.id, story)
        if any(story.status == "closed" for story in stories):
            await self.outbox.delivered()
            self.pipeline.stories_published(stories)

    async def publish_alerts(self, alerts: list[Alert], article_id: str | None) -> None:
        topics, metrics = self.topics, self.metrics
        for alert in alerts:
            targets = [name for name in [topics.alerts, *(topics.name(d) for d in alert.destinations)]
                       if not self.fence.already_sent(name, alert)]
            if not targets:
                metrics.replayed.inc()
                continue
            for topic_name in targets:
                await self._send_json(topic_name, alert.id, alert)
                self.fence.sent(topic_name, alert)
            metrics.alerts.labels(alert.rule_id, alert.severity, alert.action).inc()
            log.info("alert", alert_id=alert.id, rule_id=alert.rule_id, action=alert.action,
                     revision=alert.revision, article_id=article_id)
        metrics.sync_silenced(self.pipeline.engine.silenced)

    async def _send_json(self, topic_name: str, key: str, model: BaseModel) -> None:
        await self.outbox.send(topic_name, key.encode(), model.model_dump_json().encode())

    async def _dead_letter(self, record: Record, key: str, reason: str, label: str) -> None:
        await self.outbox.send(self.topics.deadletter, record.key, deadletter_record(reason, key, record.value))
        self.metrics.deadletters.labels(label).inc()

    async def _poison(self, record: Record, key: str, reason: str, label: str) -> None:
        log.warning("poison_message", key=key, reason=reason)
        await self._dead_letter(record, key, reason, label)

    async def _failed(self, record: Record, key: str, article_id: str, exc: Exception) -> None:
        reason = f"processing failed: {type(exc).__name__}: {exc}"
        log.error("article_failed", article_id=article_id, reason=reason, tb=traceback.format_exc(limit=5))
        await self._dead_letter(record, key, reason, "processing_failed")


def observe(metrics: Metrics, result: Result) -> None:
    """Count one processed article (its alerts are counted where they are published)."""
    article = result.article
    metrics.articles.labels("duplicate" if article.is_duplicate else "unique").inc()
    if article.is_duplicate:
        metrics.duplicates.labels(article.dup_kind or "unknown").inc()
    for entity in article.entities:
        metrics.entities.labels(entity.type).inc()
    for event in article.events:
        metrics.events.labels(event.type, event.modality).inc()
    latency = (utcnow() - article.ingested_at).total_seconds()
    if latency >= 0:
        metrics.latency.observe(latency)
