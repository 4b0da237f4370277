"""A replay of news.prepared (what a worker does after a crash that beat its
offset commit) sends no alert the alert topics already hold, and sends again
an alert the crash lost although the rule state kept it.

The crash is made exact rather than timed: the worker is stopped, its
committed offset on news.prepared is moved back to 0, and (for the lost
alert) the alert topic's records are deleted before the restart."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete
from aiokafka.errors import KafkaError

from monitor.models import RawArticle
from monitor.kafka.consumer import assign_all
from tests.daemon import newsmon_env, running, wait_until
from tests.integration.test_worker_lifecycle import CROSSING, SUMMIT, rules_with_resolve_after
from tests.kafka_util import read_topic, send_raw

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(400)]

QUIET = RawArticle(id="quiet-1", source="wire-c", content="OSLO (Wire) -- The harbour opened a new ferry "
                   "terminal on Monday, two years late and over budget, officials said.")
ARTICLES = [
    RawArticle(id="cross-1", source="wire-a", content=CROSSING.format(extra="The visit was unannounced.")),
    RawArticle(id="summit-1", source="wire-b", content=SUMMIT),
]


def _fenced(logs: str, article_id: str) -> str:
    """The worker's log line saying it did not send `article_id` again, or ''."""
    return next((line for line in logs.splitlines()
                 if '"article_already_sent"' in line and f'"{article_id}"' in line), "")


async def rewind(bootstrap: str, group: str, topic: str, to: int) -> None:
    """Commit offset `to` for the stopped worker's group: its next start replays from there."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        deadline = time.monotonic() + 60
        while True:  # the group may still be settling the stopped member's departure
            try:
                await consumer.commit({tp: to})
                return
            except KafkaError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(1)
    finally:
        await consumer.stop()


async def delete_all_records(bootstrap: str, topic: str) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await consumer.start()
    await admin.start()
    try:
        tps = await assign_all(consumer, topic, asyncio.Event())
        ends = await consumer.end_offsets(tps)
        await admin.delete_records({tp: RecordsToDelete(end) for tp, end in ends.items()})
        assert await consumer.beginning_offsets(tps) == ends
    finally:
        await consumer.stop()
        await admin.close()


async def test_replay_sends_no_alert_twice_and_restores_a_lost_one(kafka_bootstrap, tmp_path):
    env = newsmon_env(kafka_bootstrap, tmp_path, NEWSMON_WORKER_ID="none")  # leaves the group on stop
    prefix = env["NEWSMON_TOPIC_PREFIX"]
    raw, articles, alerts = (f"{prefix}news.{name}" for name in ("raw", "articles", "alerts"))
    prepared = f"{prefix}news.prepared"

    async def run_until_articles(n: int, workdir: str) -> tuple[list[dict], list[dict], str]:
        with running(["worker"], env, tmp_path / workdir) as worker:
            if workdir == "first":  # one quiet article, then the two that fire
                await send_raw(kafka_bootstrap, raw, QUIET)
                await read_topic(kafka_bootstrap, articles, until=lambda v: len(v) >= 1, timeout=180)
                await send_raw(kafka_bootstrap, raw, *ARTICLES)
            else:  # the replay: both articles come again, and are not sent again
                await wait_until(lambda: all(_fenced(worker.logs(), a.id) for a in ARTICLES),
                                 180, "the replayed articles", worker)
            outputs = await read_topic(kafka_bootstrap, articles, until=lambda v: len(v) >= n, timeout=180,
                                       settle=3)
            sent = await read_topic(kafka_bootstrap, alerts, timeout=60, settle=5,
                                    until=lambda v: len(v) >= len(ARTICLES))
            return [a["id"] for a in outputs], sent, worker.logs()

    outputs, first, logs = await run_until_articles(3, "first")
    assert outputs == ["quiet-1", "cross-1", "summit-1"], logs[-3000:]
    assert sorted((a["rule_id"], a["action"]) for a in first) == [
        ("leader-border-crossing", "new"), ("leaders-summit", "new")], logs[-3000:]
    replayed = outputs[1:]

    # a crash before the commit: the restarted worker processes both again
    await rewind(kafka_bootstrap, env["NEWSMON_APP_ID"], prepared, to=1)
    outputs, again, logs = await run_until_articles(3, "replay")
    assert outputs == ["quiet-1", *replayed], logs[-3000:]  # the replay sent no article a second time
    assert again == first, logs[-3000:]  # and no alert

    # a crash that kept the rule state but lost the alerts
    await delete_all_records(kafka_bootstrap, alerts)
    await rewind(kafka_bootstrap, env["NEWSMON_APP_ID"], prepared, to=1)
    outputs, restored, logs = await run_until_articles(3, "lost")
    assert outputs == ["quiet-1", *replayed], logs[-3000:]
    key = [(a["id"], a["revision"], a["action"]) for a in first]
    assert sorted((a["id"], a["revision"], a["action"]) for a in restored) == sorted(key), logs[-3000:]


async def test_a_resolve_notice_lost_in_a_crash_is_sent_again(kafka_bootstrap, tmp_path):
    rules = rules_with_resolve_after(tmp_path, "3s")
    env = newsmon_env(kafka_bootstrap, tmp_path, NEWSMON_RULES_DIR=str(rules), NEWSMON_SWEEP_INTERVAL="1",
                      NEWSMON_WORKER_ID="none")
    prefix = env["NEWSMON_TOPIC_PREFIX"]
    alerts = f"{prefix}news.alerts"
    with running(["worker"], env, tmp_path / "first") as worker:
        await send_raw(kafka_bootstrap, f"{prefix}news.raw", ARTICLES[0])
        first = await read_topic(kafka_bootstrap, alerts, timeout=120,
                                 until=lambda v: any(a["action"] == "resolved" for a in v))
        logs = worker.logs()
    notices = [a for a in first if a["action"] == "resolved"]
    assert len(notices) == 1, logs[-3000:]
    notice = notices[0]

    # the crash kept the closed state but lost the notice, and the tick that resolved it is replayed
    await delete_all_records(kafka_bootstrap, alerts)
    await rewind(kafka_bootstrap, env["NEWSMON_APP_ID"], f"{prefix}news.prepared", to=1)
    with running(["worker"], env, tmp_path / "restarted") as worker:
        again = await read_topic(kafka_bootstrap, alerts, timeout=120, settle=5, until=lambda v: len(v) >= 1)
        logs = worker.logs()
    assert [(a["id"], a["action"], a["revision"]) for a in again] == [
        (notice["id"], "resolved", notice["revision"])], logs[-3000:]
