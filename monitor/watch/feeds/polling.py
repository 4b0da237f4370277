"""`FeedPoller`: the polling loop. An item is marked seen only after
`publisher.publish` returned, i.e. the broker acknowledged it, so a crash can
at worst republish the batch in flight (downstream dedup drops exact copies),
never lose an item."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import aiohttp

from monitor.log import get_logger
from monitor.models import RawArticle, utcnow
from monitor.watch.feeds.common import (
    ACCEPT,
    DEFAULT_USER_AGENT,
    MAX_FEED_BYTES,
    MAX_REDIRECTS,
    SEEN_PER_FEED,
    UNHEALTHY_AFTER,
)
from monitor.watch.feeds.config import FeedConfig
from monitor.watch.feeds.fulltext import summary_only, with_full_text
from monitor.watch.feeds.http import Fetched, FetchError, describe, new_session, parse_retry_after, read_bounded
from monitor.watch.feeds.parsing import entries_to_raw, is_feed, parse_feed_bytes
from monitor.watch.feeds.state import STATE_FILE_NAME, FeedHealth, FeedState, load_state, save_state
from monitor.watch.publishes import Publishes

log = get_logger(__name__)


@dataclass
class PollResult:
    feed: str
    outcome: Literal["ok", "not_modified", "error"]
    status: int | None = None
    entries: int = 0
    new: int = 0
    error: str | None = None
    retry_in: float | None = None


class FeedPoller:
    """Polls feeds on their own intervals and publishes entries not seen before.

    `state_path` is the JSON state file (or a directory, in which case
    `feeds-state.json` inside it). One poller per state file."""

    def __init__(
        self, feeds: Sequence[FeedConfig], publisher: Publishes, topic: str, state_path: Path | str,
        concurrency: int = 4, user_agent: str = DEFAULT_USER_AGENT, *,
        max_backoff: float = 3600.0, max_bytes: int = MAX_FEED_BYTES,
        seen_per_feed: int = SEEN_PER_FEED, save_every: float = 10.0, stop_grace: float = 5.0,
    ):
        names = [f.name for f in feeds]
        if len(set(names)) != len(names):
            raise ValueError("feed names must be unique: they key the poller's state")
        self.feeds = list(feeds)
        self.publisher = publisher
        self.topic = topic
        path = Path(state_path)
        self.state_file = path / STATE_FILE_NAME if path.is_dir() else path
        self.user_agent = user_agent
        self.max_backoff = max_backoff
        self.max_bytes = max_bytes
        self.seen_per_feed = seen_per_feed
        self.save_every = save_every
        self.stop_grace = stop_grace
        self._concurrency = max(1, concurrency)
        self._sem = asyncio.Semaphore(self._concurrency)
        self._stopping = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self._guarded: aiohttp.ClientSession | None = None  # deny_private: its own connection pool
        self._tasks: dict[str, asyncio.Task] = {}  # feed name -> its polling loop, while running
        self._running = False
        self._states = load_state(self.state_file)
        self._last_save = time.monotonic()
        for feed in self.feeds:
            self._state(feed)

    # -- public

    @property
    def health(self) -> dict[str, FeedHealth]:
        return {f.name: self._states[f.name].health for f in self.feeds}

    def health_report(self) -> dict[str, dict[str, Any]]:
        """JSON-ready health per feed, with the derived `healthy` flag."""
        return {name: {**h.model_dump(mode="json"), "healthy": h.healthy} for name, h in self.health.items()}

    async def run(self) -> None:
        """Poll every enabled feed until `stop()`; then save state and close."""
        feeds = [f for f in self.feeds if f.enabled]
        log.info("feeds_watching", feeds=len(feeds), disabled=len(self.feeds) - len(feeds),
                 state=str(self.state_file))
        self._running = True
        for feed in feeds:
            self._start(feed)
        try:
            await self._stopping.wait()
            tasks = list(self._tasks.values())
            if tasks:  # let polls in flight finish (their items get marked seen)
                _, pending = await asyncio.wait(tasks, timeout=self.stop_grace)
                for task in pending:
                    task.cancel()
        finally:
            self._running = False
            tasks = list(self._tasks.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._tasks.clear()
            await self.close()

    def replace_feeds(self, feeds: Sequence[FeedConfig]) -> dict[str, list[str]]:
        """Poll `feeds` from now on (hot reload of feeds.yaml): new feeds start,
        removed ones stop, changed ones restart with their new settings; the
        others keep their schedule. Returns the names added, removed, changed."""
        names = [f.name for f in feeds]
        if len(set(names)) != len(names):
            raise ValueError("feed names must be unique: they key the poller's state")
        old, new = {f.name: f for f in self.feeds}, {f.name: f for f in feeds}
        diff = {"added": [n for n in new if n not in old], "removed": [n for n in old if n not in new],
                "changed": [n for n in new if n in old and new[n] != old[n]]}
        self.feeds = list(feeds)
        for feed in self.feeds:
            self._state(feed)
        if self._running:
            for name in diff["removed"] + diff["changed"]:
                task = self._tasks.pop(name, None)
                if task is not None:
                    task.cancel()
            for name in diff["added"] + diff["changed"]:
                if new[name].enabled:
                    self._start(new[name])
        return diff

    def _start(self, feed: FeedConfig) -> None:
        task = asyncio.create_task(self._loop(feed), name=f"feed:{feed.name}")
        self._tasks[feed.name] = task
        task.add_done_callback(lambda done: self._tasks.get(feed.name) is done and self._tasks.pop(feed.name))

    def stop(self) -> None:
        self._stopping.set()

    async def close(self) -> None:
        """Save state and close the HTTP session (run() does this itself)."""
        self.save()
        for session in (self._session, self._guarded):
            if session is not None:
                await session.close()
        self._session = self._guarded = None

    def save(self) -> None:
        try:
            save_state(self.state_file, self._states)
            self._last_save = time.monotonic()
        except OSError as exc:  # keep polling; the next save retries
            log.error("feed_state_save_failed", path=str(self.state_file), error=repr(exc))

    async def poll_once(self, feed: FeedConfig) -> PollResult:
        """Fetch one feed now, publish what is new, update health; never raises
        (except on cancellation)."""
        st = self._state(feed)
        started = time.monotonic()
        try:
            fetched = await self._fetch(feed, st)
            if fetched.status == 304:
                result = PollResult(feed.name, "not_modified", 304)
            else:
                parsed = await asyncio.to_thread(parse_feed_bytes, fetched.body, fetched.headers,
                                                 feed.name, self.max_bytes)
                if not is_feed(parsed):
                    raise FetchError(f"not a feed ({parsed.get('bozo_exception')!r})", fetched.status)
                articles = entries_to_raw(parsed, feed)
                new = await self._publish_new(feed, st, articles)  # saves state if new > 0
                # validators only after everything is acked: a 304 must never
                # hide an item we failed to publish
                st.etag = fetched.headers.get("etag")
                st.last_modified = fetched.headers.get("last-modified")
                result = PollResult(feed.name, "ok", fetched.status, len(articles), new)
                if parsed.get("bozo"):
                    log.info("feed_malformed", feed=feed.name, error=repr(parsed.get("bozo_exception")),
                             entries=len(articles))
            self._record_success(feed, st, result, started, len(fetched.body))
        except Exception as exc:  # noqa: BLE001 -- one feed's failure must not stop the others
            result = self._record_failure(feed, st, exc, started)
        if time.monotonic() - self._last_save >= self.save_every:
            self.save()  # health and validators; seen ids were saved when published
        return result

    # -- scheduling

    async def _loop(self, feed: FeedConfig) -> None:
        st = self._state(feed)
        now = utcnow()
        cap = timedelta(seconds=self.max_backoff if st.health.consecutive_failures else feed.interval)
        due = st.health.next_poll
        if due is None:  # never polled: spread the first polls so they do not all start at once
            due = now + timedelta(seconds=random.uniform(0, min(5.0, feed.interval / 10)))
        st.health.next_poll = min(due, now + cap)  # the config may have shortened it
        while not self._stopping.is_set():
            delay = (st.health.next_poll - utcnow()).total_seconds() if st.health.next_poll else 0
            if delay > 0:
                try:
                    await asyncio.wait_for(self._stopping.wait(), timeout=delay)
                    return
                except TimeoutError:
                    pass
            async with self._sem:
                if self._stopping.is_set():
                    return
                await self.poll_once(feed)

    def _record_success(self, feed: FeedConfig, st: FeedState, result: PollResult,
                        started: float, size: int) -> None:
        h = st.health
        now = utcnow()
        if h.consecutive_failures >= UNHEALTHY_AFTER:
            log.info("feed_recovered", feed=feed.name, after_failures=h.consecutive_failures)
        h.consecutive_failures = 0
        h.last_success, h.last_status = now, result.status
        h.next_poll = now + timedelta(seconds=feed.interval)
        log.info("feed_fetched", feed=feed.name, outcome=result.outcome, status=result.status, bytes=size,
                 entries=result.entries, new=result.new, ms=round((time.monotonic() - started) * 1000))

    def _record_failure(self, feed: FeedConfig, st: FeedState, exc: Exception, started: float) -> PollResult:
        h = st.health
        now = utcnow()
        message = describe(feed, exc)
        h.consecutive_failures += 1
        h.fetch_errors += 1
        h.last_error, h.last_error_at = message, now
        h.last_status = getattr(exc, "status", None)
        delay = self.backoff(feed, h.consecutive_failures, getattr(exc, "retry_after", None))
        h.next_poll = now + timedelta(seconds=delay)
        log.warning("feed_failed", feed=feed.name, error=message, status=h.last_status,
                    consecutive_failures=h.consecutive_failures, healthy=h.healthy,
                    retry_in=round(delay, 2), ms=round((time.monotonic() - started) * 1000),
                    exc_info=not isinstance(exc, (FetchError, aiohttp.ClientError, asyncio.TimeoutError)))
        if h.consecutive_failures == UNHEALTHY_AFTER:
            log.error("feed_unhealthy", feed=feed.name, url=feed.url, error=message)
        return PollResult(feed.name, "error", h.last_status, error=message, retry_in=delay)

    def backoff(self, feed: FeedConfig, failures: int, retry_after: float | None = None) -> float:
        """Seconds to wait after `failures` consecutive failures: the interval
        doubled per failure, jittered down by up to 20% (so feeds failing
        together spread out), capped at `max_backoff` - where a feed failing
        for days keeps being retried. A server's Retry-After is honoured up
        to the same cap."""
        delay = min(self.max_backoff, feed.interval * 2 ** min(failures, 32)) * random.uniform(0.8, 1.0)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_backoff))
        return delay

    # -- state

    def _state(self, feed: FeedConfig) -> FeedState:
        st = self._states.get(feed.name)
        if st is None:
            st = self._states[feed.name] = FeedState(url=feed.url, health=FeedHealth())
        elif st.url != feed.url:  # validators belong to the old URL; seen ids stay valid
            st.url, st.etag, st.last_modified = feed.url, None, None
        return st

    async def _publish_new(self, feed: FeedConfig, st: FeedState, articles: list[RawArticle]) -> int:
        in_feed: dict[str, RawArticle] = {}
        for article in articles:
            in_feed.setdefault(article.id, article)
        fresh = [a for a in in_feed.values() if a.id not in st.seen]
        published = 0
        try:
            for article in reversed(fresh):  # feeds list newest first; publish oldest first
                if feed.fetch_full_text and summary_only(article):
                    article = await with_full_text(await self._http(feed.deny_private_pages), feed, article)
                await self.publisher.publish(self.topic, article.id, article)
                st.touch([article.id], self.seen_per_feed)  # seen only once acked
                st.health.items_seen += 1
                published += 1
        finally:
            if published:
                self.save()
        st.touch(in_feed, max(self.seen_per_feed, len(in_feed)))
        return published

    # -- HTTP

    async def _http(self, deny_private: bool = False) -> aiohttp.ClientSession:
        """The HTTP session; with `deny_private`, a separate one whose every
        connection goes through `guarded_socket` (pooled connections of the
        other session are never shared with it). No proxy from the
        environment (trust_env is off), so the check sees the real destination."""
        session = self._guarded if deny_private else self._session
        if session is None or session.closed:
            session = new_session(self.user_agent, self._concurrency, deny_private)
            if deny_private:
                self._guarded = session
            else:
                self._session = session
        return session

    async def _fetch(self, feed: FeedConfig, st: FeedState) -> Fetched:
        headers = {"Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
        if st.etag:
            headers["If-None-Match"] = st.etag
        if st.last_modified:
            headers["If-Modified-Since"] = st.last_modified
        session = await self._http(feed.deny_private)
        async with session.get(feed.url, headers=headers, timeout=aiohttp.ClientTimeout(total=feed.timeout),
                               max_redirects=MAX_REDIRECTS) as resp:
            if resp.status == 304:
                return Fetched(304, {}, b"")
            if not 200 <= resp.status < 300:
                raise FetchError(f"HTTP {resp.status}", resp.status, parse_retry_after(resp.headers.get("Retry-After")))
            body = await read_bounded(resp, self.max_bytes)
            if any(r.status in (301, 308) for r in resp.history):
                log.info("feed_moved_permanently", feed=feed.name, url=feed.url, location=str(resp.url))
            # no Content-Location: feedparser would resolve guids against it,
            # and ids must not depend on where the feed was fetched from
            out = {k.lower(): v for k, v in resp.headers.items() if k.lower() != "content-location"}
            return Fetched(resp.status, out, body)
