"""Read any supported input file into raw articles: the offline scan's front door.

Feed files go through the feed watcher's own parser and mapping, article
files through the inbox watcher's, so an offline scan sees exactly what the
daemon would publish.
"""

from __future__ import annotations

import json
from pathlib import Path

from monitor.models import RawArticle
from monitor.watch.feeds import FeedConfig, is_feed, parse_feed_bytes, entries_to_raw
from monitor.watch.files import RejectedFile, read_articles

FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf"}
JSON_FEED_VERSION = "https://jsonfeed.org/version/"


def _is_json_feed(path: Path, max_bytes: int) -> bool:
    try:
        with path.open("rb") as fh:
            doc = json.loads(fh.read(max_bytes + 1))
    except (ValueError, OSError):
        return False
    return isinstance(doc, dict) and str(doc.get("version", "")).startswith(JSON_FEED_VERSION)


def read_path(path: Path, max_bytes: int) -> list[RawArticle]:
    """Articles in one file; raises RejectedFile (or OSError) with the reason."""
    suffix = path.suffix.lower()
    if suffix in FEED_SUFFIXES or (suffix == ".json" and _is_json_feed(path, max_bytes)):
        size = path.stat().st_size
        if size > max_bytes:
            raise RejectedFile(f"file is {size} bytes, over the limit of {max_bytes}")
        parsed = parse_feed_bytes(path.read_bytes(), name=path.stem, max_bytes=max_bytes)
        if not is_feed(parsed):
            problem = parsed.get("bozo_exception") or "no feed format recognised"
            raise RejectedFile(f"not a readable feed: {problem}")
        feed = FeedConfig.model_construct(url=path.resolve().as_uri(), name=path.stem)
        return entries_to_raw(parsed, feed)
    return read_articles(path, max_bytes, source=path.stem)
