"""`rules test --from-topic`: candidate rules replayed over what the daemon
published to news.articles, read without a consumer group, emitting nothing."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from monitor.settings import REPO_ROOT, Settings
from monitor.models import Article, RawArticle, stable_id, utcnow
from monitor.pipeline import Pipeline
from monitor.kafka.admin import ensure_topics
from tests.daemon import newsmon_env
from tests.texts import FIRST, SECOND, UNRELATED

pytestmark = pytest.mark.kafka

CANDIDATE = """
rules:
  - id: leader-crossing
    title: Watched leader crossed a border
    severity: high
    match:
      event: {type: border_crossing, actor: [person:kim-jong-un, person:vladimir-putin]}
  - id: crossing-confirmed
    title: Crossing confirmed by two sources
    severity: critical
    match:
      event: {type: border_crossing, actor: person:kim-jong-un}
    group_by: [rule]
    threshold: {count: 2, distinct_sources: 2, within: 1d}
"""

OLD = """Putin arrives in China for talks

BEIJING, March 30 (Silk Road Wire) -- Russian President Vladimir Putin crossed into China on Monday on his way to talks with Chinese leader Xi Jinping, state media reported.
"""


def candidate_rules(tmp_path: Path) -> Path:
    rules = tmp_path / "candidate"
    shutil.copytree(REPO_ROOT / "rules" / "watchlists", rules / "watchlists")
    (rules / "candidate.yaml").write_text(CANDIDATE)
    return rules


def daemon_saw(*reports: tuple[str, str, timedelta]) -> list[tuple[Article, datetime]]:
    """What a daemon with the shipped rules published to news.articles, and when."""
    pipeline = Pipeline.from_rules_dir(REPO_ROOT / "rules")
    seen = []
    for source, text, age in reports:
        at = utcnow() - age
        article = pipeline.process(RawArticle(id=stable_id("backtest", text), source=source, content=text), at).article
        assert not article.is_duplicate
        seen.append((article.model_copy(update={"processed_at": at}), at))
    return seen


def publish(env: dict[str, str], articles: list[tuple[Article, datetime]]) -> Settings:
    """Create the prefixed topics (so a stray alert would land somewhere we
    look), then publish the articles with their processing times as timestamps."""
    prefix = env["NEWSMON_TOPIC_PREFIX"]
    settings = Settings(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"], topics={"prefix": prefix})

    async def go() -> None:
        await ensure_topics(settings, [settings.topics.articles, settings.topics.alerts], attempts=5)
        producer = AIOKafkaProducer(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"])
        await producer.start()
        try:
            for article, at in articles:
                await producer.send_and_wait(settings.topics.articles, key=article.id.encode(),
                                             value=article.model_dump_json().encode(),
                                             timestamp_ms=int(at.timestamp() * 1000))
        finally:
            await producer.stop()

    asyncio.run(go())
    return settings


def messages_on(bootstrap: str, topic: str) -> int:
    async def go() -> int:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
        await consumer.start()
        try:
            assert topic in await consumer.topics()  # created up front, so 0 below means nothing was sent
            await consumer._client.force_metadata_update()
            tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
            return sum((await consumer.end_offsets(tps)).values())
        finally:
            await consumer.stop()
    return asyncio.run(go())


def rules_test(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monitor.cli", "rules", "test", *args], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=180)


def fired(report: dict) -> dict[str, list[tuple[str, str]]]:
    return {r["rule_id"]: [(f["article_title"], f["action"]) for f in r["firings"]] for r in report["rules"]}


KIM_NEW = ("Kim Jong Un arrives in Russia by armoured train", "new")
KIM_UPDATE = ("North Korea's Kim reaches Russian border station", "update")
PUTIN_NEW = ("Putin arrives in China for talks", "new")


def test_backtest_reports_what_the_candidate_would_fire_and_emits_nothing(kafka_bootstrap, tmp_path):
    env = newsmon_env(kafka_bootstrap, tmp_path)
    seen = daemon_saw(("harbour", FIRST, timedelta(hours=3)), ("steppe", SECOND, timedelta(hours=2)),
                      ("baltic", UNRELATED, timedelta(hours=1)))
    settings = publish(env, seen)
    rules = str(candidate_rules(tmp_path))

    result = rules_test(env, rules, "--from-topic", settings.topics.articles, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["articles"] == 3
    assert fired(report) == {"leader-crossing": [KIM_NEW, KIM_UPDATE], "crossing-confirmed": [(KIM_UPDATE[0], "new")]}
    firing = next(r for r in report["rules"] if r["rule_id"] == "leader-crossing")["firings"][0]
    assert firing["story_id"] == seen[0][0].story_id  # the daemon's story, so the daemon's alert ids
    assert "armoured train early on Thursday" in firing["evidence"][0]["sentence"]
    assert firing["input"] == f"{settings.topics.articles}[0]@0"

    text = rules_test(env, rules, "--from-topic", settings.topics.articles)
    assert text.returncode == 0, text.stderr
    assert "leader-crossing  [high]  1 alert(s), 2 emission(s)" in text.stdout

    assert messages_on(kafka_bootstrap, settings.topics.alerts) == 0
    assert messages_on(kafka_bootstrap, settings.topics.articles) == 3


def test_since_leaves_out_older_history(kafka_bootstrap, tmp_path):
    env = newsmon_env(kafka_bootstrap, tmp_path)
    settings = publish(env, daemon_saw(("silk", OLD, timedelta(hours=48)), ("harbour", FIRST, timedelta(hours=2))))
    rules = str(candidate_rules(tmp_path))

    last_day = rules_test(env, rules, "--from-topic", settings.topics.articles, "--since", "24h", "--json")
    assert last_day.returncode == 0, last_day.stderr
    assert json.loads(last_day.stdout)["articles"] == 1
    assert fired(json.loads(last_day.stdout))["leader-crossing"] == [KIM_NEW]

    everything = rules_test(env, rules, "--from-topic", settings.topics.articles, "--json")
    assert fired(json.loads(everything.stdout))["leader-crossing"] == [PUTIN_NEW, KIM_NEW]


def test_a_missing_topic_is_a_clear_error(kafka_bootstrap, tmp_path):
    env = newsmon_env(kafka_bootstrap, tmp_path)
    result = rules_test(env, str(candidate_rules(tmp_path)), "--from-topic", f"{env['NEWSMON_TOPIC_PREFIX']}nope")
    assert result.returncode == 1 and "does not exist" in result.stderr


def test_an_article_published_again_by_a_replay_counts_once(kafka_bootstrap, tmp_path):
    env = newsmon_env(kafka_bootstrap, tmp_path)
    first, second = daemon_saw(("harbour", FIRST, timedelta(hours=3)), ("steppe", SECOND, timedelta(hours=2)))
    settings = publish(env, [first, first, second, first, second])  # a worker crash re-sent both
    result = rules_test(env, str(candidate_rules(tmp_path)), "--from-topic", settings.topics.articles, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["articles"] == 2
    assert fired(json.loads(result.stdout))["leader-crossing"] == [KIM_NEW, KIM_UPDATE]
    assert "counted 3 repeated message(s)" in result.stderr
