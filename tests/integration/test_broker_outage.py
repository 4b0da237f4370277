"""The broker goes away while the inbox watcher runs: nothing is lost, nothing doubled.

Uses its own broker (not the session one), since it stops and restarts it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from monitor.kafka.local import LocalKafka, pick_port
from monitor.watch.files import InboxWatcher
from monitor.kafka.producer import Publisher
from tests.kafka_util import read_topic, send_raw

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(400)]

TEXT = "OSLO, Jan {n} (Wire) -- Report number {n} about the ferry strike, with its own details: {detail}.\n"


async def wait_for(check, timeout: float, what: str) -> None:
    for _ in range(int(timeout * 10)):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} not reached in {timeout}s")


async def test_inbox_watcher_survives_broker_restart(own_broker, tmp_path):
    inbox: Path = tmp_path / "inbox"
    inbox.mkdir()
    topic = "outage.news.raw"
    publisher = Publisher(own_broker.bootstrap)
    await publisher.start()
    watcher = InboxWatcher([inbox], publisher, topic, settle_seconds=0.2)
    task = asyncio.create_task(watcher.run())
    processed = inbox / "processed"
    try:
        (inbox / "before.txt").write_text(TEXT.format(n=1, detail="talks stalled"))
        await wait_for(lambda: (processed / "before.txt").exists(), 30, "first publish")

        await asyncio.to_thread(own_broker.down, 10)
        (inbox / "during.txt").write_text(TEXT.format(n=2, detail="ferries idle"))
        await asyncio.sleep(3)
        # not acknowledged, so not marked done
        assert (inbox / "during.txt").exists() and not (processed / "during.txt").exists()

        await asyncio.to_thread(own_broker.up, 180)
        (inbox / "after.txt").write_text(TEXT.format(n=3, detail="deal reached"))
        await wait_for(lambda: (processed / "during.txt").exists() and (processed / "after.txt").exists(),
                       120, "publish after restart")
    finally:
        watcher.stop()
        await asyncio.wait_for(task, 30)
        await publisher.stop()

    values = await read_topic(own_broker.bootstrap, topic, until=lambda v: len(v) >= 3, timeout=30, settle=2)
    assert sorted(v["content"] for v in values) == sorted(TEXT.format(n=n, detail=d) for n, d in
                                                           [(1, "talks stalled"), (2, "ferries idle"), (3, "deal reached")])


async def test_feed_poller_survives_broker_restart(own_broker, tmp_path, monkeypatch):
    from tests.integration.test_feed_watcher import ChangingFeed
    from monitor.watch.feeds import common as feeds
    from monitor.watch.feeds import FeedConfig, FeedPoller

    monkeypatch.setattr(feeds, "MIN_INTERVAL", 0.05)
    topic = "outage.feed.raw"
    server = ChangingFeed()
    await server.server.start_server()
    publisher = Publisher(own_broker.bootstrap)
    await publisher.start()
    feed = FeedConfig(name="wire", url=server.url, interval=0.3)
    poller = FeedPoller([feed], publisher, topic, tmp_path / "state.json")
    task = asyncio.create_task(poller.run())
    try:
        server.add("g1", "Ferry strike begins")
        await wait_for(lambda: poller.health["wire"].items_seen >= 1, 30, "first item")
        await asyncio.to_thread(own_broker.down, 10)
        server.add("g2", "Ferry strike spreads")
        await asyncio.sleep(3)
        await asyncio.to_thread(own_broker.up, 180)
        server.add("g3", "Ferry strike ends")
        await wait_for(lambda: poller.health["wire"].items_seen >= 3, 120, "items after restart")
    finally:
        poller.stop()
        await asyncio.wait_for(task, 30)
        await publisher.stop()
        server.release.set()
        await server.server.close()

    values = await read_topic(own_broker.bootstrap, topic, until=lambda v: len(v) >= 3, timeout=30, settle=2)
    assert sorted(v["guid"] for v in values) == ["g1", "g2", "g3"]


async def test_worker_started_before_its_broker_waits_then_works(tmp_path):
    from monitor.models import RawArticle
    from tests.daemon import newsmon_env, running

    kafka = LocalKafka(port=pick_port(19492), data_dir=tmp_path / "kafka")
    env = newsmon_env(kafka.bootstrap, tmp_path)
    try:
        with running(["worker"], env, tmp_path / "worker") as worker:
            await wait_for(lambda: worker.logs().count("broker_unreachable") >= 2, 60, "retries logged")
            assert worker.proc.poll() is None  # waiting, not crashed

            await asyncio.to_thread(kafka.up, 180)
            raw = RawArticle(id="late-1", source="wire", content="OSLO (Wire) -- The ferries run again.")
            await send_raw(kafka.bootstrap, f"{env['NEWSMON_TOPIC_PREFIX']}news.raw", raw)
            articles = await read_topic(kafka.bootstrap, f"{env['NEWSMON_TOPIC_PREFIX']}news.articles",
                                        until=lambda v: len(v) >= 1, timeout=120)
            assert [a["id"] for a in articles] == ["late-1"]
    finally:
        await asyncio.to_thread(kafka.down, 10)
