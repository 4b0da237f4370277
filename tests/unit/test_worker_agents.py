"""The worker's agents without a broker: in-memory topics (an Outbox that
keeps what is sent) and in-memory state stores, the shipped rules."""

from __future__ import annotations

import json
from collections import defaultdict

from monitor.models import RawArticle
from monitor.pipeline import Pipeline
from monitor.settings import REPO_ROOT
from monitor.settings.topics import Topics
from monitor.worker.agents import SWEEP_KEY, Agents, Record

SUMMIT = ("MOSCOW, May 5 (Wire) -- Vladimir Putin and Kim Jong Un held talks at a space centre "
          "in the Far East on Wednesday.")


class MemoryTopics:
    def __init__(self) -> None:
        self.sent: dict[str, list[tuple[bytes | str | None, bytes]]] = defaultdict(list)

    async def send(self, topic: str, key: bytes | str | None, value: bytes) -> None:
        self.sent[topic].append((key, value))

    def values(self, topic: str) -> list[dict]:
        return [json.loads(value) for _key, value in self.sent[topic]]


def agents(max_raw_bytes: int = 1024 * 1024) -> tuple[Agents, MemoryTopics]:
    topics = MemoryTopics()
    pipeline = Pipeline.from_rules_dir(REPO_ROOT / "rules")
    return Agents(pipeline, Topics(prefix="t."), topics, max_raw_bytes=max_raw_bytes), topics


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
