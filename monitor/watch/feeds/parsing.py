"""Feed bytes to `RawArticle`s: feedparser on bytes only, with the DOCTYPE
removed first so no entity is ever declared, let alone expanded or fetched;
JSON Feed; and `entries_to_raw`, the ONE mapping from feed entries to
`RawArticle`, shared by the poller and by offline scans of saved feed files."""

from __future__ import annotations

import html
import io
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import feedparser
from feedparser.encodings import convert_to_utf8

from monitor.log import get_logger
from monitor.models import RawArticle, stable_id
from monitor.watch.feeds.common import HTML_TYPES, MAX_FEED_BYTES, is_http_url, nonblank, unique
from monitor.watch.feeds.config import FeedConfig

log = get_logger(__name__)


class FeedTooLarge(Exception):
    """The document exceeds the size bound; it is not parsed at all."""


def strip_doctype(data: bytes) -> bytes:
    """Remove every `<!DOCTYPE ...>` of the prolog, including its internal subset.

    Why: entity declarations live only there, so without a DOCTYPE no entity
    can be expanded (billion laughs) or fetched (XXE: `SYSTEM "file:..."`),
    whatever the XML parser would do. feedparser's own defence is a
    line-anchored regex; a news feed has no legitimate use for a DTD, so we
    do not depend on that. Quotes, comments and `[...]` are skipped so a `>`
    inside them does not end the declaration early.

    Only the prolog (everything before the root element's start tag; comments,
    processing instructions and CDATA there are skipped whole, so a `<name`
    inside them does not end it) can declare a DTD. A `<!DOCTYPE` after it is
    text, for instance in an item's CDATA, and is left alone: cutting it from
    `<![CDATA[<!DOCTYPE html]]>` would eat the `]]>` and every item after it."""
    out: list[bytes] = []
    keep = pos = 0
    n = len(data)
    while (i := data.find(b"<", pos)) >= 0:
        if data.startswith(b"<?", i):
            pos = _after(data, b"?>", i + 2)
        elif data.startswith(b"<!--", i):
            pos = _after(data, b"-->", i + 4)
        elif data.startswith(b"<![CDATA[", i):
            pos = _after(data, b"]]>", i + 9)
        elif data[i:i + 9].upper() == b"<!DOCTYPE":
            out.append(data[keep:i])
            keep = pos = _doctype_end(data, i + 9)
        elif i + 1 < n and (chr(data[i + 1]).isalpha() or data[i + 1] in b"_:" or data[i + 1] >= 0x80):
            break  # the root element: the prolog is over
        else:
            pos = i + 1  # a stray '<'
    out.append(data[keep:])
    return b"".join(out)


def _after(data: bytes, end: bytes, start: int) -> int:
    """Index just past the next `end` from `start`, or the end of the data."""
    j = data.find(end, start)
    return len(data) if j < 0 else j + len(end)


def _doctype_end(data: bytes, start: int) -> int:
    """Index just past the DOCTYPE whose name starts at `start`."""
    n, depth, quote, i = len(data), 0, 0, start
    while i < n:
        c = data[i]
        if quote:
            if c == quote:
                quote = 0
        elif c in b"\"'":
            quote = c
        elif data.startswith(b"<!--", i):
            end = data.find(b"-->", i + 4)
            i = n if end < 0 else end + 3
            continue
        elif c == ord("["):
            depth += 1
        elif c == ord("]"):
            depth = max(0, depth - 1)
        elif c == ord(">") and depth == 0:
            return i + 1
        i += 1
    # unbalanced quotes or brackets: cut at the first plausible end rather
    # than swallow the whole document
    for end in (b"]>", b">"):
        j = data.find(end, start)
        if j >= 0:
            return j + len(end)
    return n


def parse_feed_bytes(data: bytes, headers: dict[str, str] | None = None, name: str = "feed",
                     max_bytes: int = MAX_FEED_BYTES) -> feedparser.FeedParserDict:
    """feedparser on bytes we fetched ourselves; never raises.

    feedparser must never see a URL or path (it would fetch or open it: even
    a bytes argument is first tried as a file name, hence the BytesIO). The
    document is decoded to UTF-8 first (as feedparser would, honouring the
    HTTP charset) so the DOCTYPE can be stripped from any encoding; then
    feedparser parses with its strict parser, falling back to its lenient one
    on ill-formed input (`bozo` set, entries still recovered)."""
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    if len(data) > max_bytes:
        log.warning("feed_too_large", feed=name, bytes=len(data), limit=max_bytes)
        return _bozo_result(FeedTooLarge(f"feed is {len(data)} bytes, over the limit of {max_bytes}"))
    if not data:
        return _bozo_result(None)
    if data.lstrip()[:1] == b"{":
        json_feed = parse_json_feed(data)
        if json_feed is not None:
            return json_feed
    pre = feedparser.FeedParserDict(bozo=False)
    try:
        utf8 = convert_to_utf8(hdrs, data, pre)
    except Exception as exc:  # noqa: BLE001 -- feedparser internals, never fatal
        utf8, pre["encoding"] = data, ""
        pre.update(bozo=True, bozo_exception=exc)
    passed = {k: v for k, v in hdrs.items() if k in ("content-location", "content-language")}
    if pre.get("encoding"):
        passed["content-type"] = "application/xml; charset=utf-8"  # it is UTF-8 now
    elif "content-type" in hdrs:
        passed["content-type"] = hdrs["content-type"]
    try:
        parsed = feedparser.parse(io.BytesIO(strip_doctype(utf8)), response_headers=passed,
                                  sanitize_html=True, resolve_relative_uris=True)
    except Exception as exc:  # noqa: BLE001 -- a watcher must survive any document
        log.warning("feed_parse_crashed", feed=name, error=repr(exc))
        return _bozo_result(exc)
    if pre.get("bozo") and not parsed.get("bozo"):
        parsed["bozo"], parsed["bozo_exception"] = True, pre["bozo_exception"]
    parsed["encoding"] = pre.get("encoding") or parsed.get("encoding")
    return parsed


JSON_FEED_VERSION = "https://jsonfeed.org/version/"


def parse_json_feed(data: bytes) -> feedparser.FeedParserDict | None:
    """A JSON Feed (1.0/1.1) in feedparser's shape, so `entries_to_raw` maps it
    like any other feed (feedparser itself reads only XML). None if it is not one."""
    try:
        doc = json.loads(data)
    except ValueError:
        return None
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith(JSON_FEED_VERSION):
        return None

    def when(value: Any) -> time.struct_time | None:
        try:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC).timetuple()  # noqa: FURB162 -- any "Z", as always
        except ValueError:
            return None

    entries = []
    for item in doc.get("items") or []:
        if not isinstance(item, dict):
            continue
        content = [{"value": item["content_html"], "type": "text/html"}] if item.get("content_html") else []
        content += [{"value": item["content_text"], "type": "text/plain"}] if item.get("content_text") else []
        authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
        entries.append(feedparser.FeedParserDict(
            id=nonblank(item.get("id")), link=nonblank(item.get("url") or item.get("external_url")),
            title=nonblank(item.get("title")), summary=nonblank(item.get("summary")), content=content,
            published_parsed=when(item.get("date_published")) if item.get("date_published") else None,
            updated_parsed=when(item.get("date_modified")) if item.get("date_modified") else None,
            author=next((nonblank(a.get("name")) for a in authors if isinstance(a, dict)), None),
            language=nonblank(item.get("language")),
            tags=[{"term": str(t)} for t in item.get("tags") or []],
        ))
    return feedparser.FeedParserDict(
        bozo=False, entries=entries, version="json" + str(doc["version"]).rsplit("/", 1)[-1],
        feed=feedparser.FeedParserDict(title=nonblank(doc.get("title")), language=nonblank(doc.get("language"))),
        headers={},
    )


def _bozo_result(exc: BaseException | None) -> feedparser.FeedParserDict:
    result = feedparser.FeedParserDict(bozo=exc is not None, entries=[], feed=feedparser.FeedParserDict(),
                                       headers={}, version="")
    if exc is not None:
        result["bozo_exception"] = exc
    return result


def is_feed(parsed: Any) -> bool:
    """False for documents that are not feeds at all (an HTML login page,
    an error page): no entries and no recognised feed format."""
    return bool(parsed.get("entries")) or bool(parsed.get("version"))


def read_feed_file(path: Path | str, feed: FeedConfig, max_bytes: int = MAX_FEED_BYTES) -> list[RawArticle]:
    """Articles from a saved feed document: the same parse and mapping as the poller."""
    path = Path(path)
    with path.open("rb") as fh:
        data = fh.read(max_bytes + 1)
    return entries_to_raw(parse_feed_bytes(data, name=feed.name, max_bytes=max_bytes), feed)


_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def entries_to_raw(parsed: Any, feed: FeedConfig) -> list[RawArticle]:
    """Map parsed entries to RawArticles, in document order; never raises.

    `content` is the entry's full content when it has one, else its summary
    (so downstream cleaning, which reads only `content`, always has text);
    `summary` keeps the summary as given. An entry that fails to map is
    logged and skipped; entries with nothing in them are dropped."""
    out: list[RawArticle] = []
    feed_lang = nonblank((parsed.get("feed") or {}).get("language"))
    for index, entry in enumerate(parsed.get("entries") or []):
        try:
            article = _entry_to_raw(entry, feed, feed_lang)
        except Exception as exc:  # noqa: BLE001 -- one bad entry must not hide the others
            log.warning("feed_entry_skipped", feed=feed.name, index=index, error=repr(exc))
            continue
        if article is not None:
            out.append(article)
    return out


def _entry_to_raw(entry: Any, feed: FeedConfig, feed_lang: str | None) -> RawArticle | None:
    guid = nonblank(entry.get("id"))
    url = _entry_url(entry, feed.url)
    title = _title(entry)
    summary = _summary(entry)
    content, ctype = _content(entry)
    if not content and summary:
        content = summary
        ctype = "html" if _detail_type(entry.get("summary_detail")) in HTML_TYPES else "text"
    if not (guid or url or title or content):
        return None
    if guid:
        article_id = stable_id("feed", feed.name, "guid", guid)
    elif url:
        article_id = stable_id("feed", feed.name, "link", url)
    else:
        article_id = stable_id("feed", feed.name, "hash", title, summary or content)
    # dict.get: FeedParserDict would answer `updated_parsed` with the
    # published date (a deprecated fallback), which is not an update time
    published = _utc(dict.get(entry, "published_parsed")) or _utc(dict.get(entry, "created_parsed"))
    updated = _utc(dict.get(entry, "updated_parsed"))
    return RawArticle(
        id=article_id, source=feed.name, source_kind="feed", url=url, guid=guid, title=title,
        summary=summary, content=content, content_type=ctype,
        published=published or updated, updated=updated,
        author=nonblank(entry.get("author")), language=_language(entry) or feed_lang,
        tags=unique([*feed.tags, *(nonblank(t.get("term")) or nonblank(t.get("label")) for t in entry.get("tags") or [])]),
    )


def _detail_type(detail: Any) -> str:
    return (detail or {}).get("type") or ""


def _entry_url(entry: Any, base: str) -> str | None:
    """The entry's link, absolute and http(s) only. When feedparser copied a
    permalink guid into `link` it is used only if already absolute: a guid
    like "12345" is not a relative URL."""
    link = nonblank(entry.get("link"))
    if not link:
        return None
    if not (entry.get("guidislink") and link == entry.get("id")):
        link = urljoin(base, link)
    return link if is_http_url(link) else None


def _title(entry: Any) -> str | None:
    title = nonblank(entry.get("title"))
    if title and _detail_type(entry.get("title_detail")) in HTML_TYPES:
        title = _html_to_text(title)
    return title or None


def _html_to_text(value: str) -> str:
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", value))).strip()


def _summary(entry: Any) -> str | None:
    """The entry's own summary. feedparser copies Atom content into `summary`
    when there is none; that copy (no `summary_detail`) is not a summary."""
    if "summary_detail" in entry:
        return nonblank(entry["summary_detail"].get("value"))
    summary = nonblank(entry.get("summary"))
    contents = [c.get("value") for c in entry.get("content") or []]
    return None if summary in contents else summary


def _content(entry: Any) -> tuple[str, str]:
    """(full content, "html" | "text"): the first HTML part, else the first part."""
    parts = [c for c in entry.get("content") or [] if nonblank(c.get("value"))]
    if not parts:
        return "", "text"
    best = next((c for c in parts if _detail_type(c) in HTML_TYPES), parts[0])
    return best["value"], "html" if _detail_type(best) in HTML_TYPES else "text"


def _language(entry: Any) -> str | None:
    candidates = [entry.get("language")]
    candidates += [c.get("language") for c in entry.get("content") or []]
    candidates += [(entry.get(k) or {}).get("language") for k in ("title_detail", "summary_detail")]
    return next((s for s in map(nonblank, candidates) if s), None)


def _utc(value: Any) -> datetime | None:
    """feedparser's *_parsed values are struct_time already in UTC."""
    if not value:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None
