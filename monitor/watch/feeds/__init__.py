"""Feed watcher: poll RSS/Atom/RDF feeds and publish new entries to `news.raw`.

One module per concern:

* config.py: `FeedConfig`, `load_feeds` (feeds.yaml) and `import_opml`;
* parsing.py: `parse_feed_bytes` (feedparser on bytes only, no DOCTYPE) and
  `entries_to_raw`, the ONE mapping from feed entries to `RawArticle`, shared
  by the poller and by offline scans of saved feed files (`read_feed_file`);
* state.py: `FeedState`, per-feed health, validators and seen ids;
* polling.py: `FeedPoller`, the loop; http.py its bounded HTTP;
* guard.py: the SSRF guard of `deny_private`; fulltext.py: article pages;
* common.py: the limits (tests lower them there) and small helpers.
"""


from monitor.errors import FeedConfigError
from monitor.watch.feeds.common import MAX_FEED_BYTES, MAX_PAGE_BYTES, MAX_REDIRECTS, MIN_INTERVAL
from monitor.watch.feeds.config import FeedConfig, import_opml, load_feeds
from monitor.watch.feeds.guard import is_public_address
from monitor.watch.feeds.http import FetchError, parse_retry_after
from monitor.watch.feeds.parsing import (
    FeedTooLarge,
    entries_to_raw,
    is_feed,
    parse_feed_bytes,
    parse_json_feed,
    read_feed_file,
    strip_doctype,
)
from monitor.watch.feeds.polling import FeedPoller, PollResult
from monitor.watch.feeds.state import FeedHealth, FeedState, load_state, save_state

__all__ = [
    "MAX_FEED_BYTES", "MAX_PAGE_BYTES", "MAX_REDIRECTS", "MIN_INTERVAL", "FeedConfig", "FeedConfigError",
    "FeedHealth", "FeedPoller", "FeedState", "FeedTooLarge", "FetchError", "PollResult", "entries_to_raw",
    "import_opml", "is_feed", "is_public_address", "load_feeds", "load_state", "parse_feed_bytes",
    "parse_json_feed", "parse_retry_after", "read_feed_file", "save_state", "strip_doctype",
]
