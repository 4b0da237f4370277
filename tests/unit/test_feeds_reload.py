"""Hot reload of feeds.yaml (monitor/watch/feeds/reload.py): a running poller
picks up an added feed, and a broken edit keeps the feeds it had."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web
from structlog.testing import capture_logs

from monitor.watch.feeds import FeedPoller, common, load_feeds
from monitor.watch.feeds.reload import watch_feeds_file
from tests.http_server import LocalServer


class Sink:
    """A publisher that keeps what it was given."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    async def publish(self, topic, key, message) -> None:  # the Publishes protocol
        self.sent.append(json.loads(message.model_dump_json()))


def rss(guid: str) -> bytes:
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>{guid}</title>'
            f"<guid>{guid}</guid><link>https://news.example.org/{guid}</link></item></channel></rss>").encode()


async def until(predicate, timeout: float = 10.0) -> None:
    for _ in range(int(timeout * 20)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def feeds_yaml(*names: str, url) -> str:
    return "feeds:\n" + "".join(f"  - {{name: {n}, url: '{url(f'/{n}.xml')}', interval: 0.2}}\n" for n in names)


async def test_an_added_feed_is_polled_and_a_broken_edit_keeps_the_feeds(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "MIN_INTERVAL", 0.05)

    async def handler(request):
        return web.Response(body=rss(request.path.strip("/").removesuffix(".xml")),
                            content_type="application/rss+xml")

    async with LocalServer(handler) as srv:
        path = tmp_path / "feeds.yaml"
        path.write_text(feeds_yaml("alpha", url=srv.url))
        poller = FeedPoller(load_feeds(path), Sink(), "raw", tmp_path)
        with capture_logs() as logs:
            running = asyncio.create_task(poller.run())
            watching = asyncio.create_task(watch_feeds_file(poller, path, debounce_ms=100))
            try:
                await until(lambda: "/alpha.xml" in srv.paths)
                await asyncio.sleep(0.5)  # the watcher is up
                path.write_text(feeds_yaml("alpha", "beta", url=srv.url))
                await until(lambda: "/beta.xml" in srv.paths)

                path.write_text(feeds_yaml("alpha", "beta", url=srv.url) + "  - {name: gamma, urll: x}\n")
                await until(lambda: any(e["event"] == "feeds_reload_failed" for e in logs))
                polled = len(srv.paths)
                await until(lambda: srv.paths[polled:].count("/beta.xml") >= 2)  # still polled
            finally:
                poller.stop()
                watching.cancel()
                await asyncio.gather(running, watching, return_exceptions=True)
    assert [f.name for f in poller.feeds] == ["alpha", "beta"]
    failed = next(e for e in logs if e["event"] == "feeds_reload_failed")
    assert f"{path}:4: 'gamma'" in failed["error"], failed
    reloaded = next(e for e in logs if e["event"] == "feeds_reloaded")
    assert reloaded["added"] == ["beta"] and reloaded["removed"] == []
