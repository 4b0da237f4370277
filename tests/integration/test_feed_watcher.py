"""The feed poller against a local HTTP server and the real broker:
what gets published, once; conditional GET; backoff and recovery; restarts."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from monitor.watch.feeds import common as feeds
from monitor.watch.feeds import FeedConfig, FeedPoller
from monitor.kafka.producer import Publisher
from tests.kafka_util import read_topic

pytestmark = pytest.mark.kafka

LAST_MODIFIED = "Tue, 02 May 2023 10:00:00 GMT"


@pytest.fixture(autouse=True)
def fast_intervals(monkeypatch):
    monkeypatch.setattr(feeds, "MIN_INTERVAL", 0.05)


def new_topic() -> str:
    return f"t-{uuid.uuid4().hex[:8]}.news.raw"


class ChangingFeed:
    """A feed server whose content, validators and failures the test controls."""

    def __init__(self, etag: bool = True):
        self.items: list[tuple[str, str]] = []  # (guid, title), newest first
        self.version = 0
        self.etag = etag
        self.mode = "ok"  # ok | 500 | slow
        self.release = asyncio.Event()  # frees "slow" handlers at teardown
        self.log: list[tuple[str, dict[str, str], int]] = []  # (mode, request headers, status)
        app = web.Application()
        app.router.add_get("/feed.xml", self.handle)
        self.server = TestServer(app, host="127.0.0.1")

    def add(self, guid: str, title: str) -> None:
        self.items.insert(0, (guid, title))
        self.version += 1

    @property
    def url(self) -> str:
        return str(self.server.make_url("/feed.xml"))

    def statuses(self) -> list[int]:
        return [status for _, _, status in self.log]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        headers = dict(request.headers)
        if self.mode == "500":
            self.log.append(("500", headers, 500))
            return web.Response(status=500, text="boom")
        if self.mode == "slow":
            self.log.append(("slow", headers, 0))
            try:
                await asyncio.wait_for(self.release.wait(), 3)
            except asyncio.TimeoutError:
                pass
            return web.Response(status=503)
        etag = f'"v{self.version}"'
        if self.etag and request.headers.get("If-None-Match") == etag:
            self.log.append(("ok", headers, 304))
            return web.Response(status=304, headers={"ETag": etag})
        body = "".join(
            f"<item><title>{t}</title><guid isPermaLink='false'>{g}</guid>"
            f"<link>https://news.example.org/{g}</link><description>About {t}.</description></item>"
            for g, t in self.items)
        xml = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{body}</channel></rss>'
        extra = {"ETag": etag, "Last-Modified": LAST_MODIFIED} if self.etag else {}
        self.log.append(("ok", headers, 200))
        return web.Response(text=xml, content_type="application/rss+xml", headers=extra)

    async def __aenter__(self) -> ChangingFeed:
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc) -> None:
        self.release.set()
        await self.server.close()


async def wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def published(bootstrap: str, topic: str, expected: int) -> list[dict]:
    return await read_topic(bootstrap, topic, until=lambda v: len(v) >= expected, timeout=20, settle=1.0)


@pytest.fixture
async def publisher(kafka_bootstrap):
    pub = Publisher(kafka_bootstrap)
    await pub.start()
    yield pub
    await pub.stop()


@pytest.mark.timeout(60)
async def test_new_entries_published_once_and_etag_honoured(kafka_bootstrap, publisher, tmp_path):
    topic = new_topic()
    async with ChangingFeed() as srv:
        srv.add("a1", "First")
        srv.add("a2", "Second")
        feed = FeedConfig(url=srv.url, name="wire", interval=0.1, timeout=2)
        poller = FeedPoller([feed], publisher, topic, tmp_path)
        task = asyncio.create_task(poller.run())
        try:
            await wait_for(lambda: srv.statuses().count(304) >= 2)  # polled again and again: nothing new
            assert poller.health["wire"].items_seen == 2
            srv.add("a3", "Third")  # the feed changes between polls
            await wait_for(lambda: poller.health["wire"].items_seen == 3 and srv.statuses()[-1] == 304)
        finally:
            poller.stop()
            await asyncio.wait_for(task, 10)

    assert srv.statuses()[0] == 200 and srv.statuses().count(200) == 2  # one per feed version
    later = [h for _, h, _ in srv.log[1:]]
    assert all(h.get("If-None-Match", "").startswith('"v') for h in later)
    assert all(h.get("If-Modified-Since") == LAST_MODIFIED for h in later)
    assert poller.health["wire"].healthy and poller.health["wire"].last_status in (200, 304)

    values = await published(kafka_bootstrap, topic, 3)
    assert [v["guid"] for v in values] == ["a1", "a2", "a3"]  # exactly once each, oldest first
    assert len({v["id"] for v in values}) == 3
    assert all(v["source"] == "wire" and v["source_kind"] == "feed" for v in values)
    assert values[2]["title"] == "Third" and values[2]["url"] == "https://news.example.org/a3"


@pytest.mark.timeout(60)
async def test_failures_back_off_then_recover(kafka_bootstrap, publisher, tmp_path):
    topic = new_topic()
    async with ChangingFeed() as srv:
        srv.add("b1", "Only")
        feed = FeedConfig(url=srv.url, name="flaky", interval=0.2, timeout=0.3)
        poller = FeedPoller([feed], publisher, topic, tmp_path, max_backoff=5)
        health = poller.health["flaky"]

        srv.mode = "500"
        pushed_out = []
        for n in (1, 2):
            before = datetime.now(timezone.utc)
            result = await poller.poll_once(feed)
            assert result.outcome == "error" and result.status == 500 and "HTTP 500" in health.last_error
            assert health.consecutive_failures == n
            pushed_out.append(health.next_poll - before)
        assert pushed_out[0] > timedelta(seconds=feed.interval)  # later than a normal poll
        assert pushed_out[1] > pushed_out[0]  # and later still after another failure

        srv.mode = "slow"
        started = time.monotonic()
        result = await poller.poll_once(feed)
        assert time.monotonic() - started < 2  # the request timeout, not the server, decided
        assert "timeout" in result.error and health.consecutive_failures == 3 and not health.healthy
        assert health.last_success is None

        srv.mode = "ok"
        result = await poller.poll_once(feed)
        assert (result.outcome, result.new) == ("ok", 1)
        assert health.consecutive_failures == 0 and health.healthy and health.last_success is not None
        assert health.next_poll - health.last_success == timedelta(seconds=feed.interval)
        await poller.close()

    values = await published(kafka_bootstrap, topic, 1)
    assert [v["guid"] for v in values] == ["b1"]


@pytest.mark.timeout(60)
async def test_run_keeps_retrying_a_failing_feed_at_the_cap(kafka_bootstrap, publisher, tmp_path):
    topic = new_topic()
    async with ChangingFeed() as srv:
        srv.add("c1", "Back")
        srv.mode = "500"
        feed = FeedConfig(url=srv.url, name="down", interval=0.05, timeout=1)
        poller = FeedPoller([feed], publisher, topic, tmp_path, max_backoff=0.3)
        task = asyncio.create_task(poller.run())
        try:
            await asyncio.sleep(1.5)
            failures = len(srv.log)
            # without backoff a 0.05 s interval would mean ~30 requests; with it, a handful
            assert 3 <= failures <= 12
            assert poller.health["down"].consecutive_failures == failures
            assert not poller.health["down"].healthy
            srv.mode = "ok"
            await wait_for(lambda: poller.health["down"].items_seen == 1, timeout=3)
            assert poller.health["down"].healthy
        finally:
            poller.stop()
            await asyncio.wait_for(task, 10)

    values = await published(kafka_bootstrap, topic, 1)
    assert [v["guid"] for v in values] == ["c1"]


@pytest.mark.timeout(60)
async def test_restarted_poller_publishes_nothing_old(kafka_bootstrap, publisher, tmp_path):
    topic = new_topic()
    state = tmp_path / "state" / "feeds-state.json"
    async with ChangingFeed(etag=False) as srv:  # no validators: only the seen set prevents repeats
        srv.add("d1", "One")
        srv.add("d2", "Two")
        feed = FeedConfig(url=srv.url, name="wire", interval=0.1, timeout=2)

        first = FeedPoller([feed], publisher, topic, state)
        task = asyncio.create_task(first.run())
        await wait_for(lambda: first.health["wire"].items_seen == 2)
        first.stop()
        await asyncio.wait_for(task, 10)
        assert state.exists()

        second = FeedPoller([feed], publisher, topic, state)
        assert second.health["wire"].items_seen == 2  # health survives the restart too
        assert (await second.poll_once(feed)).new == 0
        srv.add("d3", "Three")
        result = await second.poll_once(feed)
        assert (result.entries, result.new) == (3, 1)
        await second.close()
        assert srv.statuses() and set(srv.statuses()) == {200}

    values = await published(kafka_bootstrap, topic, 3)
    assert [v["guid"] for v in values] == ["d1", "d2", "d3"]
