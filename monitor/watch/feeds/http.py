"""HTTP for the feed watcher: bounded reads, Retry-After, one-line
descriptions of what went wrong, and the client sessions (a guarded one for
`deny_private`, see guard.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

import aiohttp

from monitor.models import utcnow
from monitor.watch.feeds.common import MAX_REDIRECTS
from monitor.watch.feeds.config import FeedConfig
from monitor.watch.feeds.guard import guarded_socket


class FetchError(Exception):
    """A fetch that did not give us a feed document."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


@dataclass
class Fetched:
    status: int
    headers: dict[str, str]
    body: bytes


async def read_bounded(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """The (decompressed) body, refusing more than `limit` bytes: a bound on
    memory for huge responses and gzip bombs alike."""
    if resp.content_length is not None and resp.content_length > limit:
        raise FetchError(f"response of {resp.content_length} bytes is over the limit of {limit}", resp.status)
    buf = bytearray()
    async for chunk in resp.content.iter_chunked(64 * 1024):
        buf += chunk
        if len(buf) > limit:
            raise FetchError(f"response is over the limit of {limit} bytes", resp.status)
    return bytes(buf)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - utcnow()).total_seconds())


def describe(feed: FeedConfig, exc: Exception) -> str:
    """One line for logs and feed health: what went wrong with a fetch."""
    if isinstance(exc, asyncio.TimeoutError):
        return f"timeout after {feed.timeout:g}s"
    if isinstance(exc, FetchError):
        return str(exc)
    if isinstance(exc, aiohttp.TooManyRedirects):
        return f"too many redirects (more than {MAX_REDIRECTS})"
    if isinstance(exc, aiohttp.ClientConnectorError) and "(deny_private)" in str(exc.os_error):
        # one address or several (then aiohappyeyeballs joins their messages)
        return f"destination refused: {exc.os_error.strerror or exc.os_error}"
    if isinstance(exc, aiohttp.NonHttpUrlRedirectClientError):
        return f"redirect to a non-http(s) URL refused: {exc}"
    return f"{type(exc).__name__}: {exc}"


def new_session(user_agent: str, concurrency: int, deny_private: bool) -> aiohttp.ClientSession:
    """A session for feeds and pages; with `deny_private`, every connection goes
    through `guarded_socket`. No proxy from the environment (trust_env is off),
    so the check sees the real destination."""
    return aiohttp.ClientSession(
        headers={"User-Agent": user_agent},
        connector=aiohttp.TCPConnector(limit=concurrency * 2, ttl_dns_cache=300,
                                       socket_factory=guarded_socket if deny_private else None),
        cookie_jar=aiohttp.DummyCookieJar(),  # feeds need no cookies; don't track
        auto_decompress=True,
    )
