"""Stories as a stream: the sample articles dropped into a running daemon's
inbox come out on the compacted news.stories, one record per change, keyed
by story id, through the real broker."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from monitor.models import StoryRecord
from tests.daemon import REPO, newsmon_env, running, wait_until

pytestmark = pytest.mark.kafka

EXAMPLES = REPO / "examples"


def example(number: str) -> Path:
    [path] = EXAMPLES.glob(f"{number}_*.txt")
    return path


async def read_stories(bootstrap: str, topic: str, until, timeout: float = 90) -> list[tuple[str, StoryRecord]]:
    """(key, record) pairs of `topic` from the start, until `until(pairs)`
    holds (`until=None`: all that the topic holds now)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    pairs: list[tuple[str, StoryRecord]] = []
    try:
        deadline = time.monotonic() + timeout
        while not consumer.partitions_for_topic(topic) and time.monotonic() < deadline:
            await consumer._client.force_metadata_update()
            await asyncio.sleep(0.3)
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps) if until is None else {}

        async def done() -> bool:
            if until is not None:
                return until(pairs)
            return all([await consumer.position(tp) >= end for tp, end in ends.items()])

        while time.monotonic() < deadline and not await done():
            for records in (await consumer.getmany(timeout_ms=200)).values():
                pairs.extend((r.key.decode(), StoryRecord.model_validate_json(r.value)) for r in records)
    finally:
        await consumer.stop()
    return pairs


def latest(pairs: list[tuple[str, StoryRecord]]) -> dict[str, StoryRecord]:
    out = {}
    for key, record in pairs:
        assert key == record.id
        out[key] = record
    return out


async def test_sample_articles_become_story_records_on_news_stories(kafka_bootstrap, tmp_path):
    env = newsmon_env(kafka_bootstrap, tmp_path)
    topic = f"{env['NEWSMON_TOPIC_PREFIX']}news.stories"
    inbox = tmp_path / "inbox"
    with running(["run"], env, tmp_path / "run") as daemon:
        await wait_until(lambda: "inbox_watching" in daemon.logs(), 120, "watcher start", daemon)
        for number in ("01", "02", "03"):  # one at a time: the order is the story's order
            shutil.copy(example(number), inbox / example(number).name)
            await wait_until(lambda n=number: (inbox / "processed" / example(n).name).exists(), 60,
                             f"{number} published", daemon)
        pairs = await read_stories(kafka_bootstrap, topic,
                                   until=lambda p: any(r.report_count >= 3 for _, r in p))
        [story] = latest(pairs).values()
        assert story.report_count == 3 and story.status == "active"
        first, other, copy = story.reports
        assert copy.duplicate_of == first.article_id and other.duplicate_of is None
        assert story.sources == ["Harbour Wire", "Northern Daily"]
        assert "Kim Jong Un" in story.names and "person:kim-jong-un" in story.entities
        assert "border_crossing" in story.event_types
        assert story.title == "Kim Jong Un crosses into Russia by armoured train"

        shutil.copy(example("04"), inbox / example("04").name)
        pairs = await read_stories(kafka_bootstrap, topic, until=lambda p: len(latest(p)) >= 2)
        stories = latest(pairs)
        assert len(stories) == 2 and stories[story.id].report_count == 3
        [putin] = [s for s in stories.values() if s.id != story.id]
        assert putin.report_count == 1 and putin.sources == ["Harbour Wire"]
        assert "border_crossing" in putin.event_types


async def test_an_idle_story_is_published_closed_once_and_stays_closed_across_restarts(kafka_bootstrap, tmp_path):
    """The closed record goes out before the story's state is dropped (the
    worker waits for the broker's acknowledgement), and the drop itself is
    kept: the next start does not close the story a second time."""
    env = newsmon_env(kafka_bootstrap, tmp_path, NEWSMON_STORY_TTL_HOURS="0.001", NEWSMON_SWEEP_INTERVAL="1")
    topic = f"{env['NEWSMON_TOPIC_PREFIX']}news.stories"
    inbox = tmp_path / "inbox"

    def statuses(pairs: list[tuple[str, StoryRecord]], story_id: str) -> list[str]:
        return [record.status for key, record in pairs if key == story_id]

    with running(["run"], env, tmp_path / "run1") as daemon:
        await wait_until(lambda: "inbox_watching" in daemon.logs(), 120, "watcher start", daemon)
        shutil.copy(example("01"), inbox / example("01").name)
        story_id = (await read_stories(kafka_bootstrap, topic, until=bool))[0][0]
    await asyncio.sleep(4)  # idle past the 3.6 s TTL; sweeps by timer run at most every few minutes
    with running(["run"], env, tmp_path / "run2"):  # a fresh start sweeps at its first tick
        pairs = await read_stories(kafka_bootstrap, topic, until=lambda p: "closed" in statuses(p, story_id))
    assert statuses(pairs, story_id)[-1] == "closed"

    with running(["run"], env, tmp_path / "run3") as daemon:
        await wait_until(lambda: "inbox_watching" in daemon.logs(), 120, "watcher start", daemon)
        shutil.copy(example("04"), inbox / example("04").name)
        await read_stories(kafka_bootstrap, topic, until=lambda p: len(latest(p)) >= 2)
        await asyncio.sleep(3)  # ticks go on: a story still in the tables would be closed again
        pairs = await read_stories(kafka_bootstrap, topic, until=None)
    assert statuses(pairs, story_id) == ["active", "closed"]
