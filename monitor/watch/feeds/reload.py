"""Hot reload of feeds.yaml, like rules: an edit takes effect within a second
or so without a restart; an invalid edit is logged with its file:line error
and the feeds being polled stay as they were.

The file's directory is watched (not recursively), not the file itself:
editors save by replacing the file, which a watch on the file would lose.
"""

from __future__ import annotations

from pathlib import Path

from watchfiles import awatch

from monitor.errors import FeedConfigError
from monitor.log import get_logger
from monitor.watch.feeds.config import load_feeds
from monitor.watch.feeds.polling import FeedPoller

log = get_logger(__name__)


def reload_feeds(poller: FeedPoller, path: Path) -> bool:
    """Load `path` and hand its feeds to `poller`; False (previous feeds kept) if invalid.
    A file that was removed means no feeds."""
    try:
        feeds = load_feeds(path) if path.exists() else []
        diff = poller.replace_feeds(feeds)
    except (FeedConfigError, ValueError) as exc:
        log.error("feeds_reload_failed", file=str(path), error=str(exc), kept="previous feeds")
        return False
    log.info("feeds_reloaded", file=str(path), feeds=len(poller.feeds), **diff)
    return True


async def watch_feeds_file(poller: FeedPoller, path: Path, debounce_ms: int = 500) -> None:
    """Reload `path` into `poller` whenever it changes (until cancelled)."""
    path = Path(path).absolute()
    path.parent.mkdir(parents=True, exist_ok=True)

    def is_ours(_change, changed: str) -> bool:
        return Path(changed).name == path.name

    async for _changes in awatch(path.parent, watch_filter=is_ours, debounce=debounce_ms, recursive=False):
        reload_feeds(poller, path)
