"""Read what a topic holds now: from a point in time (or the start) up to the
end offsets seen when reading began.

Used by the backtest (`rules test --from-topic`) and to load silences. Like
`alerts tail` it uses no consumer group: partitions are assigned by hand,
nothing is committed, and no other subscriber loses a message. Because the
end is a snapshot, a reader of a busy topic still finishes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from monitor.kafka.consumer import assign_all, new_consumer, seek_to_time, stop_consumer
from monitor.kafka.security import PLAINTEXT, ClientOptions
from monitor.log import get_logger
from monitor.models import Article

log = get_logger(__name__)

MAX_IDLE_POLLS = 20  # empty polls (0.5 s each) before giving up on an end offset


class TopicNotFound(LookupError):
    pass


async def read_history(bootstrap: str, topic: str, *, since_ms: int | None = None, missing_ok: bool = False,
                       security: ClientOptions = PLAINTEXT) -> AsyncIterator[ConsumerRecord]:
    """Records of every partition of `topic` published since `since_ms`
    (record timestamps; None = from the beginning), up to the end offsets
    snapshotted at start. Records come in offset order per partition, with
    partitions interleaved as the broker's batches arrive.

    Raises TopicNotFound unless `missing_ok`, in which case a missing topic
    simply has no history."""
    consumer = new_consumer(bootstrap, security=security)
    await consumer.start()
    try:
        if topic not in await consumer.topics():
            if missing_ok:
                return
            raise TopicNotFound(f"topic {topic!r} does not exist on {bootstrap}")
        tps = await assign_all(consumer, topic, asyncio.Event())
        ends = await consumer.end_offsets(tps)  # before seeking: the snapshot we stop at
        if since_ms is None:
            await consumer.seek_to_beginning(*tps)
        else:
            await seek_to_time(consumer, tps, since_ms)
        async for record in _until_ends(consumer, tps, ends):
            yield record
    finally:
        await stop_consumer(consumer)


async def _until_ends(consumer: AIOKafkaConsumer, tps: list[TopicPartition],
                      ends: dict[TopicPartition, int]) -> AsyncIterator[ConsumerRecord]:
    pending = {tp for tp in tps if await consumer.position(tp) < ends[tp]}
    idle = 0
    while pending:
        batches = await consumer.getmany(*pending, timeout_ms=500)
        idle = 0 if any(batches.values()) else idle + 1
        for tp, records in batches.items():
            for record in records:
                if record.offset < ends[tp]:
                    yield record
        for tp in list(pending):
            if await consumer.position(tp) >= ends[tp]:
                pending.discard(tp)
        if pending and idle >= MAX_IDLE_POLLS:
            # the broker reports an end it never delivers up to (e.g. records
            # removed under us by retention): stop rather than hang
            log.warning("history_incomplete", partitions=sorted(tp.partition for tp in pending))
            return


@dataclass
class HistoricArticle:
    label: str  # topic[partition]@offset: where to find it again
    at: datetime  # when the daemon processed it: the `now` its rules saw
    article: Article


async def read_articles(bootstrap: str, topic: str, since_ms: int | None = None, *,
                        security: ClientOptions = PLAINTEXT) -> tuple[list[HistoricArticle], int]:
    """Article messages of `topic` in the order the daemon processed them
    (across partitions too), and how many records were not Articles.
    Held in memory, to be sorted: fine for days of news, not for years."""
    found: list[tuple[HistoricArticle, int, int]] = []
    unreadable = 0
    async for record in read_history(bootstrap, topic, since_ms=since_ms, security=security):
        try:
            article = Article.model_validate_json(record.value or b"")
        except ValidationError:
            unreadable += 1
            continue
        at = article.processed_at or datetime.fromtimestamp(record.timestamp / 1000, UTC)
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        label = f"{record.topic}[{record.partition}]@{record.offset}"
        found.append((HistoricArticle(label, at, article), record.partition, record.offset))
    found.sort(key=lambda item: (item[0].at, item[1], item[2]))
    return [item[0] for item in found], unreadable


def first_of_each(history: list[HistoricArticle]) -> tuple[list[HistoricArticle], int]:
    """Each article once (its first message), and how many repeats were left
    out: a replay after a crash may have published an article again, and a
    backtest must count it once."""
    seen: set[str] = set()
    unique = []
    for item in history:
        if item.article.id not in seen:
            seen.add(item.article.id)
            unique.append(item)
    return unique, len(history) - len(unique)
