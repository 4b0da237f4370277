"""The worker's agents without a broker: in-memory topics (an Outbox that
keeps what is sent) and in-memory state stores, the shipped rules."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from monitor.models import RawArticle, StoryRecord, utcnow
from monitor.pipeline import Pipeline
from monitor.settings import REPO_ROOT
from monitor.settings.topics import Topics
from monitor.watch.reader import read_path
from monitor.worker.agents import SWEEP_KEY, Agents, Record

SUMMIT = ("MOSCOW, May 5 (Wire) -- Vladimir Putin and Kim Jong Un held talks at a space centre "
          "in the Far East on Wednesday.")


class MemoryTopics:
    def __init__(self) -> None:
        self.sent: dict[str, list[tuple[bytes | str | None, bytes]]] = defaultdict(list)

    async def send(self, topic: str, key: bytes | str | None, value: bytes) -> None:
        self.sent[topic].append((key, value))

    async def delivered(self) -> None:
        """In memory, a record is there once sent."""

    def values(self, topic: str) -> list[dict]:
        return [json.loads(value) for _key, value in self.sent[topic]]


class BrokerGoneOnce(MemoryTopics):
    """Records are sent, but the first wait for their acknowledgement fails
    (the broker went away, or the worker died, before it acknowledged)."""

    failed = False

    async def delivered(self) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("broker gone")
        await super().delivered()


def agents(max_raw_bytes: int = 1024 * 1024, clock: Callable[[], datetime] = utcnow,
           topics: MemoryTopics | None = None) -> tuple[Agents, MemoryTopics]:
    topics = topics or MemoryTopics()
    pipeline = Pipeline.from_rules_dir(REPO_ROOT / "rules", confirm_closes=True)  # as the daemon builds it
    return Agents(pipeline, Topics(prefix="t."), topics, max_raw_bytes=max_raw_bytes, clock=clock), topics


def raw_record(raw: RawArticle, offset: int = 0) -> Record:
    return Record(raw.id.encode(), raw.model_dump_json().encode(), partition=0, offset=offset)


async def test_an_article_goes_through_both_agents_and_fires_its_rule():
    worker, topics = agents()
    await worker.prepare(raw_record(RawArticle(id="a1", source="wire", content=SUMMIT), offset=7))
    [(key, prepared)] = topics.sent["t.news.prepared"]
    assert key == b"a1" and worker.processed_offsets == {0: 7}

    await worker.decide(Record(key, prepared, timestamp=1.0))
    assert [a["id"] for a in topics.values("t.news.articles")] == ["a1"]
    assert [a["rule_id"] for a in topics.values("t.news.alerts")] == ["leaders-summit"]


async def test_a_copy_goes_to_duplicates_and_repeats_no_alert():
    worker, topics = agents()
    for article_id in ("a1", "a2"):
        await worker.prepare(raw_record(RawArticle(id=article_id, source="wire", content=SUMMIT)))
    for key, prepared in list(topics.sent["t.news.prepared"]):
        await worker.decide(Record(key, prepared, timestamp=1.0))
    assert [a["id"] for a in topics.values("t.news.duplicates")] == ["a2"]
    assert [a["action"] for a in topics.values("t.news.alerts")] == ["new"]


async def test_poison_messages_are_dead_lettered_with_the_reason():
    worker, topics = agents(max_raw_bytes=2048)
    await worker.prepare(Record(b"bad-json", b"{this is not json"))
    await worker.prepare(Record(b"big", b"x" * 4096))
    await worker.decide(Record(b"bad-prepared", b"[]"))
    dead = {d["key"]: d for d in topics.values("t.news.deadletter")}
    assert "invalid RawArticle" in dead["bad-json"]["reason"]
    assert dead["big"]["reason"] == "payload too large: 4096 bytes > limit 2048"
    assert dead["bad-prepared"]["reason"].startswith("processing failed:")
    assert "t.news.prepared" not in topics.sent


async def test_the_sweep_tick_is_not_an_article():
    worker, topics = agents()
    await worker.decide(Record(SWEEP_KEY.encode(), b"{}"))
    assert not topics.sent


EXAMPLES = REPO_ROOT / "examples"


async def decide_examples(worker: Agents, topics: MemoryTopics, *numbers: str) -> None:
    for number in numbers:
        [path] = EXAMPLES.glob(f"{number}_*.txt")
        [raw] = read_path(path, 1024 * 1024)
        await worker.prepare(raw_record(raw))
        key, prepared = topics.sent["t.news.prepared"][-1]
        await worker.decide(Record(key, prepared, timestamp=1.0))


def latest_stories(topics: MemoryTopics) -> dict[str, StoryRecord]:
    """news.stories as a compacted topic reads: the last record per key."""
    latest = {}
    for key, value in topics.sent["t.news.stories"]:
        story = StoryRecord.model_validate_json(value)
        assert key == story.id.encode()
        latest[story.id] = story
    return latest


async def test_each_article_publishes_its_story_keyed_by_story_id():
    worker, topics = agents()
    await decide_examples(worker, topics, "01", "02", "03")
    assert len(topics.sent["t.news.stories"]) == 3  # one record per report
    [story] = latest_stories(topics).values()
    assert story.report_count == 3 and len(story.reports) == 3
    first, _other, copy = story.reports
    assert copy.duplicate_of == first.article_id
    assert story.sources == ["Harbour Wire", "Northern Daily"]  # the copy's dateline names Harbour Wire
    assert "Kim Jong Un" in story.names and "border_crossing" in story.event_types
    assert {a["story_id"] for a in topics.values("t.news.alerts")} == {story.id}

    await decide_examples(worker, topics, "04")
    assert len(latest_stories(topics)) == 2


async def test_a_replayed_article_republishes_the_same_story_record():
    worker, topics = agents()
    await decide_examples(worker, topics, "01", "02")
    key, prepared = topics.sent["t.news.prepared"][-1]
    await worker.decide(Record(key, prepared, timestamp=1.0))
    *_, before, replayed = topics.sent["t.news.stories"]
    assert replayed[0] == before[0]
    assert StoryRecord.model_validate_json(replayed[1]).report_count == 2


async def test_the_tick_closes_idle_stories_on_a_quiet_stream_at_most_every_few_minutes():
    now = [datetime(2026, 3, 1, tzinfo=UTC)]
    worker, topics = agents(clock=lambda: now[0])
    await worker.decide(Record(SWEEP_KEY.encode(), b"{}"))  # first tick: a sweep (nothing to close)
    await decide_examples(worker, topics, "01")
    [story] = latest_stories(topics).values()

    now[0] += timedelta(hours=97)  # past the story TTL (96 h idle)
    await worker.decide(Record(SWEEP_KEY.encode(), b"{}"))
    closed = latest_stories(topics)[story.id]
    assert closed.status == "closed" and closed.report_count == 1

    await decide_examples(worker, topics, "04")
    now[0] += timedelta(hours=97)
    await worker.decide(Record(SWEEP_KEY.encode(), b"{}"))  # another sweep: due, 97 h after the last
    other = [s for s in latest_stories(topics).values() if s.id != story.id]
    assert [s.status for s in other] == ["closed"]


async def test_tick_sweeps_are_spaced_by_a_few_minutes():
    now = [datetime(2026, 3, 1, tzinfo=UTC)]
    worker, topics = agents(clock=lambda: now[0])
    await decide_examples(worker, topics, "01")
    now[0] += timedelta(hours=95, minutes=59)
    await worker.decide(Record(SWEEP_KEY.encode(), b"{}"))  # sweeps: the story is still live
    now[0] += timedelta(minutes=2)  # now idle past the TTL, but the last sweep was 2 min ago
    await worker.decide(Record(SWEEP_KEY.encode(), b"{}"))
    assert {s.status for s in latest_stories(topics).values()} == {"active"}
    now[0] += timedelta(minutes=4)
    await worker.decide(Record(SWEEP_KEY.encode(), b"{}"))
    assert {s.status for s in latest_stories(topics).values()} == {"closed"}


async def test_a_story_closes_for_good_only_once_the_broker_has_its_closed_record():
    now = [datetime(2026, 3, 1, tzinfo=UTC)]
    worker, topics = agents(clock=lambda: now[0], topics=BrokerGoneOnce())
    await worker.decide(Record(SWEEP_KEY.encode(), b"{}"))
    await decide_examples(worker, topics, "01")
    [story] = latest_stories(topics).values()

    now[0] += timedelta(hours=97)
    await worker.decide(Record(SWEEP_KEY.encode(), b"{}"))  # closed record sent, never acknowledged
    assert latest_stories(topics)[story.id].status == "closed"
    assert story.id in worker.pipeline.stores.stories  # so its state stays

    now[0] += timedelta(minutes=6)
    await worker.decide(Record(SWEEP_KEY.encode(), b"{}"))  # the next sweep closes it again
    statuses = [StoryRecord.model_validate_json(v).status for _k, v in topics.sent["t.news.stories"]]
    assert statuses == ["active", "closed", "closed"]
    assert story.id not in worker.pipeline.stores.stories
    assert not any(k.startswith(f"{story.id}/") for k in worker.pipeline.stores.story_reports)

    now[0] += timedelta(minutes=6)
    await worker.decide(Record(SWEEP_KEY.encode(), b"{}"))  # dropped: not closed a third time
    assert len(topics.sent["t.news.stories"]) == 3
