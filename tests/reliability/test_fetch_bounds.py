"""SSRF and fetch bounds of the feed poller, against local aiohttp servers.

Already covered in tests/unit/test_feeds.py: redirect loops (at most
MAX_REDIRECTS), an oversized gzip body, 429/Retry-After; in
tests/integration/test_feed_watcher.py: a server that never answers. Here:
non-http schemes in the config and in redirects, an endless body, a body that
trickles forever, entry links with other schemes, the article-page size bound,
and `deny_private` / `deny_private_pages` (by hostname, IP literal, IPv6 and a
redirect from an allowed host to a refused one)."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest
from aiohttp import web

from monitor.watch.feeds import common as feeds
from monitor.watch.feeds import guard
from monitor.watch.feeds import (
    FeedConfig,
    FeedConfigError,
    FeedPoller,
    is_public_address,
    load_feeds,
)
from tests.http_server import LocalServer

pytestmark = pytest.mark.timeout(120)


class Recorder:
    """Publisher stand-in: the poller's HTTP side is under test, not Kafka."""

    def __init__(self):
        self.sent = []

    async def publish(self, topic, key, message):
        self.sent.append(message)


def rss(link: str = "https://news.example.org/a/1", guid: str = "g1") -> bytes:
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>One</title>'
            f"<guid>{guid}</guid><link>{link}</link><description>Short summary of one</description>"
            f"</item></channel></rss>").encode()


@pytest.fixture(autouse=True)
def fast(monkeypatch):
    monkeypatch.setattr(feeds, "MIN_INTERVAL", 0.05)


async def poll(feed: FeedConfig, tmp_path, **kw):
    pub = Recorder()
    poller = FeedPoller([feed], pub, "raw", tmp_path / "state.json", **kw)
    try:
        return await asyncio.wait_for(poller.poll_once(feed), 60), pub.sent
    finally:
        await poller.close()


# ---------------------------------------------------------------- schemes


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/feed.xml", "gopher://example.org/",
                                 "javascript:alert(1)", "data:text/xml,<rss/>", "http:///no-host",
                                 "//example.org/feed.xml", "/etc/passwd", "http://exa mple.org/"])
def test_config_accepts_only_http_and_https(url, tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text(f"feeds:\n  - name: bad\n    url: '{url}'\n")
    with pytest.raises(FeedConfigError, match=r"feeds.yaml:3.*http:// or https://"):
        load_feeds(path)


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/feed.xml", "gopher://127.0.0.1:70/"])
async def test_redirect_to_another_scheme_is_refused(target, tmp_path):
    async def handler(request):
        raise web.HTTPFound(target)

    async with LocalServer(handler) as srv:
        result, sent = await poll(FeedConfig(url=srv.url(), name="r", interval=0.1, timeout=5), tmp_path)
    assert result.outcome == "error" and "non-http" in result.error and sent == []


# ---------------------------------------------------------------- size and time


async def test_endless_body_is_cut_at_the_limit(tmp_path):
    streamed = {"bytes": 0}

    async def handler(request):
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})  # chunked, no length
        await resp.prepare(request)
        await resp.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
        chunk = b"<item><title>" + b"x" * 65_000 + b"</title></item>"
        try:
            while True:
                await resp.write(chunk)
                streamed["bytes"] += len(chunk)
        except (ConnectionResetError, RuntimeError, asyncio.CancelledError):
            return resp

    async with LocalServer(handler) as srv:
        result, sent = await poll(FeedConfig(url=srv.url(), name="big", interval=0.1, timeout=20), tmp_path,
                                  max_bytes=1_000_000)
    assert result.outcome == "error" and "over the limit of 1000000" in result.error and sent == []


async def test_trickling_body_is_cut_by_the_request_timeout(tmp_path):
    async def handler(request):
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await resp.prepare(request)
        try:
            while True:  # a byte every 0.2 s: never idle long enough for a read timeout
                await resp.write(b" ")
                await asyncio.sleep(0.2)
        except (ConnectionResetError, RuntimeError, asyncio.CancelledError):
            return resp

    async with LocalServer(handler) as srv:
        result, sent = await poll(FeedConfig(url=srv.url(), name="slow", interval=0.1, timeout=1.5), tmp_path)
    assert result.outcome == "error" and result.error == "timeout after 1.5s" and sent == []


async def test_article_page_over_its_limit_keeps_the_summary(tmp_path, monkeypatch):
    monkeypatch.setattr(feeds, "MAX_PAGE_BYTES", 50_000)

    async def handler(request):
        if request.path == "/feed.xml":
            return web.Response(body=rss(link=srv.url("/a/1")), content_type="application/rss+xml")
        return web.Response(text="<html><body><p>" + "word " * 40_000 + "</p></body></html>",
                            content_type="text/html")

    async with LocalServer(handler) as srv:
        feed = FeedConfig(url=srv.url(), name="pages", interval=0.1, timeout=5, fetch_full_text=True,
                          deny_private_pages=False)
        result, sent = await poll(feed, tmp_path)
    assert result.new == 1 and sent[0].content == "Short summary of one"
    assert "/a/1" in srv.paths


@pytest.mark.parametrize("link", ["file:///etc/passwd", "ftp://127.0.0.1/x", "javascript:alert(1)"])
async def test_entry_links_with_other_schemes_are_never_fetched(link, tmp_path):
    async def handler(request):
        return web.Response(body=rss(link=link), content_type="application/rss+xml")

    async with LocalServer(handler) as srv:
        feed = FeedConfig(url=srv.url(), name="links", interval=0.1, timeout=5, fetch_full_text=True,
                          deny_private_pages=False)
        result, sent = await poll(feed, tmp_path)
    assert result.new == 1 and sent[0].url is None and sent[0].content == "Short summary of one"
    assert srv.paths == ["/feed.xml"]


# ---------------------------------------------------------------- private destinations


@pytest.mark.parametrize(("address", "public"), [
    ("8.8.8.8", True), ("2001:4860:4860::8888", True), ("127.0.0.1", False), ("10.1.2.3", False),
    ("172.16.0.1", False), ("192.168.1.1", False), ("169.254.169.254", False), ("100.64.0.1", False),
    ("0.0.0.0", False), ("255.255.255.255", False), ("224.0.0.1", False), ("::1", False), ("::", False),
    ("fe80::1", False), ("fc00::1", False), ("::ffff:127.0.0.1", False), ("::ffff:8.8.8.8", True),
    ("2002:7f00:1::", False), ("2001:0:4136:e378:8000:63bf:f5ff:fffe", False), ("ff02::1", False),
])
def test_public_address_check(address, public):
    assert is_public_address(ipaddress.ip_address(address)) is public


async def feed_handler(request):
    return web.Response(body=rss(), content_type="application/rss+xml")


async def test_feeds_may_be_local_by_default(tmp_path):
    async with LocalServer(feed_handler) as srv:
        result, sent = await poll(FeedConfig(url=srv.url(), name="local", interval=0.1, timeout=5), tmp_path)
    assert result.outcome == "ok" and len(sent) == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
async def test_deny_private_refuses_before_any_request(host, tmp_path):
    server_host = "::1" if host == "[::1]" else "127.0.0.1"
    try:
        srv_cm = LocalServer(feed_handler, host=server_host)
        await srv_cm.__aenter__()
    except OSError:
        pytest.skip(f"cannot listen on {server_host}")
    try:
        url = f"http://{host}:{srv_cm.server.port}/feed.xml"
        result, sent = await poll(FeedConfig(url=url, name="p", interval=0.1, timeout=5, deny_private=True), tmp_path)
    finally:
        await srv_cm.__aexit__(None, None, None)
    assert result.outcome == "error" and result.error.startswith("destination refused:")
    assert "not a public address (deny_private)" in result.error
    assert srv_cm.paths == [] and sent == []


async def test_deny_private_holds_for_every_redirect_hop(tmp_path, monkeypatch):
    """127.0.0.2 stands in for a public host (the check is patched to say so);
    it redirects to 127.0.0.1, which stays private: the redirect is refused."""
    monkeypatch.setattr(guard, "is_public_address", lambda ip: str(ip) == "127.0.0.2")

    async with LocalServer(feed_handler) as private:
        async def redirect(request):
            raise web.HTTPFound(private.url())

        async with LocalServer(redirect, host="127.0.0.2") as public:
            feed = FeedConfig(url=public.url(), name="hop", interval=0.1, timeout=5, deny_private=True)
            result, sent = await poll(feed, tmp_path)
    assert public.paths == ["/feed.xml"] and private.paths == []
    assert result.outcome == "error" and "127.0.0.1 is not a public address" in result.error and sent == []


async def test_article_pages_are_denied_private_by_default(tmp_path):
    async def handler(request):
        if request.path == "/feed.xml":
            return web.Response(body=rss(link=srv.url("/a/1")), content_type="application/rss+xml")
        return web.Response(text="<html><body><p>secret internal page</p></body></html>", content_type="text/html")

    async with LocalServer(handler) as srv:
        feed = FeedConfig(url=srv.url(), name="pages", interval=0.1, timeout=5, fetch_full_text=True)
        assert feed.deny_private_pages and not feed.deny_private
        result, sent = await poll(feed, tmp_path)
    assert result.new == 1 and sent[0].content == "Short summary of one"  # the summary, not the page
    assert srv.paths == ["/feed.xml"]
