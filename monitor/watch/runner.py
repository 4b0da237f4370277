"""Run the configured watchers together on one producer."""

from __future__ import annotations

import asyncio

from monitor.kafka.producer import Publisher
from monitor.kafka.security import aiokafka_options
from monitor.log import get_logger
from monitor.settings import Settings
from monitor.watch.feeds import FeedPoller, load_feeds
from monitor.watch.feeds.reload import watch_feeds_file
from monitor.watch.files import InboxWatcher

log = get_logger(__name__)


class Watchers:
    """Inbox watcher and/or feed poller, publishing to news.raw.

    The feed poller runs only when the feeds file exists, so a fresh
    checkout works with the inbox alone."""

    def __init__(self, settings: Settings, *, inbox: bool = True, feeds: bool = True):
        self.publisher = Publisher(settings.resolved_bootstrap(), security=aiokafka_options(settings))
        topic = settings.topics.raw
        self.parts: list = []
        if inbox:
            self.parts.append(InboxWatcher(settings.inbox_dirs, self.publisher, topic, settings.max_file_bytes,
                                           ledger=settings.inbox_ledger))
        self.feeds_file = settings.feeds_file if feeds else None
        if feeds:  # watched for edits (monitor/watch/feeds/reload.py), also when absent at start
            if settings.feeds_file.exists():
                feed_list = load_feeds(settings.feeds_file)  # invalid feeds.yaml: clear error at start
            else:
                feed_list = []
                log.info("feeds_not_configured", feeds_file=str(settings.feeds_file))
            self.parts.append(FeedPoller(feed_list, self.publisher, topic, settings.feeds_state))

    def feed_health(self) -> dict:
        """Feed name -> FeedHealth of the poller (empty without feeds)."""
        return next((part.health for part in self.parts if isinstance(part, FeedPoller)), {})

    async def run(self) -> None:
        poller = next((part for part in self.parts if isinstance(part, FeedPoller)), None)
        reload = (asyncio.create_task(watch_feeds_file(poller, self.feeds_file))
                  if poller is not None and self.feeds_file is not None else None)
        try:
            await self.publisher.start()
            await asyncio.gather(*(part.run() for part in self.parts))
        finally:
            if reload is not None:
                reload.cancel()
            self.stop()
            await self.publisher.stop()

    def stop(self) -> None:
        for part in self.parts:
            part.stop()
