"""What every part of the feed watcher shares: limits (tests lower some of
them: monkeypatch this module), the Accept headers, and two small helpers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

# Lower bound on a feed's poll interval: polite to publishers. Tests lower it
# (monkeypatch this constant here, or pass `min_interval` to `load_feeds`).
MIN_INTERVAL = 30.0
DEFAULT_INTERVAL = 300.0
MAX_FEED_BYTES = 10 * 1024 * 1024  # a feed bigger than this is an error, not a feed
MAX_PAGE_BYTES = 2 * 1024 * 1024  # full-text article pages
MAX_REDIRECTS = 5
SEEN_PER_FEED = 5_000
UNHEALTHY_AFTER = 3  # consecutive failures before a feed is reported unhealthy
DEFAULT_USER_AGENT = "newsmon/0.1 (+https://github.com/newsmon)"
ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml, "
           "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
HTML_TYPES = ("text/html", "application/xhtml+xml")


def is_http_url(url: str | None) -> bool:
    if not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def unique(items: Iterable[str | None]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        if item and item.strip():
            seen.setdefault(item.strip()[:100], None)
    return list(seen)


def nonblank(value: Any) -> str | None:
    """The string stripped, or None if it is blank or not a string."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None
