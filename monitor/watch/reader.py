"""Read any supported input file into raw articles: the offline scan's front door.

Feed files go through the feed watcher's own parser and mapping, article
files through the inbox watcher's, so an offline scan sees exactly what the
daemon would publish.
"""

from __future__ import annotations

from pathlib import Path

from monitor.models import RawArticle
from monitor.watch.feeds import FeedConfig, entries_to_raw, is_feed, parse_feed_bytes, parse_json_feed
from monitor.watch.files import RejectedFile, read_articles

FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf"}


def read_path(path: Path, max_bytes: int) -> list[RawArticle]:
    """Articles in one file; raises RejectedFile (or OSError) with the reason."""
    suffix = path.suffix.lower()
    if suffix not in FEED_SUFFIXES | {".json"}:
        return read_articles(path, max_bytes, source=path.stem)
    size = path.stat().st_size
    if size > max_bytes:
        raise RejectedFile(f"file is {size} bytes, over the limit of {max_bytes}")
    data = path.read_bytes()
    if suffix == ".json":
        parsed = parse_json_feed(data)
        if parsed is None:  # an article in JSON, not a feed
            return read_articles(path, max_bytes, source=path.stem)
    else:
        parsed = parse_feed_bytes(data, name=path.stem, max_bytes=max_bytes)
    if not is_feed(parsed):
        problem = parsed.get("bozo_exception") or "no feed format recognised"
        raise RejectedFile(f"not a readable feed: {problem}")
    feed = FeedConfig.model_construct(url=path.resolve().as_uri(), name=path.stem)
    return entries_to_raw(parsed, feed)
