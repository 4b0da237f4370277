"""Feed watcher: poll RSS/Atom/RDF feeds and publish new entries to `news.raw`.

Four parts, each in one place:

* configuration: `FeedConfig`, `load_feeds` (feeds.yaml) and `import_opml`;
* parsing: `parse_feed_bytes` (feedparser on bytes only, with the DOCTYPE
  removed first so no entity is ever declared, let alone expanded or fetched)
  and `entries_to_raw`, the ONE mapping from feed entries to `RawArticle`,
  shared by the poller and by offline scans of saved feed files
  (`read_feed_file`);
* `FeedState`: per-feed health, conditional-GET validators and the ids
  already published, kept in one small JSON file written atomically;
* `FeedPoller`: the polling loop. An item is marked seen only after
  `publisher.publish` returned, i.e. the broker acknowledged it, so a crash
  can at worst republish the batch in flight (downstream dedup drops exact
  copies), never lose an item.
"""

from __future__ import annotations

import asyncio
import errno
import html
import io
import ipaddress
import json
import os
import random
import re
import socket
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urljoin, urlsplit

import aiohttp
import feedparser
from feedparser.encodings import convert_to_utf8
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from monitor.errors import FeedConfigError, RuleFileError
from monitor.yamldoc import YamlDoc, did_you_mean, read_yaml
from monitor.log import get_logger
from monitor.models import RawArticle, stable_id, utcnow

log = get_logger(__name__)

# Lower bound on a feed's poll interval: polite to publishers. Tests lower it
# (monkeypatch this constant, or pass `min_interval` to `load_feeds`).
MIN_INTERVAL = 30.0
DEFAULT_INTERVAL = 300.0
MAX_FEED_BYTES = 10 * 1024 * 1024  # a feed bigger than this is an error, not a feed
MAX_PAGE_BYTES = 2 * 1024 * 1024  # full-text article pages
MAX_REDIRECTS = 5
SEEN_PER_FEED = 5_000
UNHEALTHY_AFTER = 3  # consecutive failures before a feed is reported unhealthy
DEFAULT_USER_AGENT = "newsmon/0.1 (+https://github.com/newsmon)"
_ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml, "
           "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")


# ---------------------------------------------------------------- configuration


def _is_http_url(url: str | None) -> bool:
    if not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


class FeedConfig(BaseModel):
    """One feed. `name` is the article `source` and keys the feed's state."""

    model_config = ConfigDict(extra="forbid")

    url: str
    name: str = Field(min_length=1, max_length=200)
    interval: float = Field(default=DEFAULT_INTERVAL, description="seconds between polls")
    tags: list[str] = Field(default_factory=list)
    enabled: bool = True
    fetch_full_text: bool = False
    timeout: float = Field(default=20.0, gt=0, le=600, description="seconds per request")
    deny_private: bool = Field(
        default=False, description="refuse to connect to private, loopback, link-local and other "
        "non-global addresses for the feed itself (and its redirects); off by default, since local feeds are common")
    deny_private_pages: bool = Field(
        default=True, description="the same for article pages fetched with fetch_full_text: their URLs come "
        "from the feed's content, not from you, so this is on by default")

    @field_validator("url")
    @classmethod
    def _http_only(cls, v: str) -> str:
        v = v.strip()
        if not _is_http_url(v) or any(c.isspace() for c in v):
            raise ValueError(f"must be an http:// or https:// URL, got {v!r}")
        return v

    @field_validator("name")
    @classmethod
    def _strip_name(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v.strip()

    @field_validator("interval")
    @classmethod
    def _polite_interval(cls, v: float, info: ValidationInfo) -> float:
        low = (info.context or {}).get("min_interval", MIN_INTERVAL)
        if v < low:
            raise ValueError(f"must be at least {low:g} seconds, got {v:g}")
        return v

    @field_validator("tags")
    @classmethod
    def _clean_tags(cls, v: list[str]) -> list[str]:
        return _unique(t.strip() for t in v)


def load_feeds(path: Path | str, min_interval: float | None = None) -> list[FeedConfig]:
    """Read feeds.yaml (`feeds: [{name, url, ...}, ...]`), disabled feeds included.

    Every mistake is reported as `file:line: 'feed': what is wrong`, with a
    did-you-mean for unknown keys, because this file is edited by hand."""
    path = Path(path)
    if not path.exists():
        raise FeedConfigError("file not found", str(path))
    try:
        doc = read_yaml(path)
    except RuleFileError as exc:
        raise FeedConfigError(exc.detail, exc.file, exc.line, exc.item_id) from None
    data = doc.data
    if not isinstance(data, dict):
        raise FeedConfigError("expected a mapping with a 'feeds:' list", str(path), doc.line())
    for key in data:
        if key != "feeds":
            raise FeedConfigError(f"unknown top-level key {key!r}{did_you_mean(str(key), ['feeds'])}",
                                  str(path), doc.key_line(key))
    if "feeds" not in data:
        raise FeedConfigError("expected a mapping with a 'feeds:' list", str(path), doc.line())
    items = data["feeds"] or []
    if not isinstance(items, list):
        raise FeedConfigError("'feeds' must be a list", str(path), doc.line("feeds"))
    context = {"min_interval": MIN_INTERVAL if min_interval is None else min_interval}
    feeds: list[FeedConfig] = []
    by_name: dict[str, int] = {}
    by_url: dict[str, str] = {}
    for i, item in enumerate(items):
        who = _item_label(item, i)
        if not isinstance(item, dict):
            raise FeedConfigError("each feed must be a mapping with at least name and url",
                                  str(path), doc.line("feeds", i), who)
        feed = _validate_feed(item, doc, i, who, context)
        line = doc.line("feeds", i)
        if feed.name in by_name:
            raise FeedConfigError(f"duplicate feed name (first defined at line {by_name[feed.name]})",
                                  str(path), doc.line("feeds", i, "name"), who)
        if feed.url in by_url:
            raise FeedConfigError(f"duplicate url (also used by feed {by_url[feed.url]!r})",
                                  str(path), doc.line("feeds", i, "url"), who)
        by_name[feed.name] = line or 0
        by_url[feed.url] = feed.name
        feeds.append(feed)
    return feeds


def _item_label(item: Any, index: int) -> str:
    if isinstance(item, dict):
        for key in ("name", "url"):
            if isinstance(item.get(key), str) and item[key].strip():
                return item[key].strip()
    return f"feeds[{index}]"


def _validate_feed(item: dict, doc: YamlDoc, i: int, who: str, context: dict) -> FeedConfig:
    try:
        return FeedConfig.model_validate(item, context=context)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = list(err["loc"])
        if err["type"] == "extra_forbidden":
            key = str(loc[-1])
            msg = f"unknown key {key!r}{did_you_mean(key, FeedConfig.model_fields)}"
            line = doc.key_line("feeds", i, key)
        else:
            where = ".".join(map(str, loc)) or "feed"
            msg = f"{where}: {err['msg'].removeprefix('Value error, ')}"
            line = doc.line("feeds", i, *loc)
        raise FeedConfigError(msg, str(doc.path), line, who) from None


def import_opml(path: Path | str, max_bytes: int = 5 * 1024 * 1024) -> list[FeedConfig]:
    """Feeds from an OPML subscription list (as exported by feed readers).

    Parsed with defusedxml, DTDs forbidden: an OPML file is someone else's
    XML. Folder outlines become tags; outlines without an http(s) `xmlUrl`
    are skipped with a warning; duplicate URLs are dropped and duplicate
    names get a numeric suffix, since names key the poller's state."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise FeedConfigError(f"cannot read: {exc.strerror or exc}", str(path)) from None
    if len(data) > max_bytes:
        raise FeedConfigError(f"OPML file larger than {max_bytes} bytes", str(path))
    try:
        root = fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise FeedConfigError(f"unsafe OPML refused: {exc}", str(path)) from None
    except ParseError as exc:
        line = getattr(exc, "position", (None,))[0]
        raise FeedConfigError(f"invalid OPML: {exc}", str(path), line) from None
    body = next((el for el in root.iter() if _local(el.tag) == "body"), None)
    if _local(root.tag) != "opml" or body is None:
        raise FeedConfigError("not an OPML document (no <opml><body>)", str(path))

    feeds: list[FeedConfig] = []
    names: set[str] = set()
    urls: set[str] = set()

    def walk(node: Any, folders: list[str]) -> None:
        for outline in (c for c in node if _local(c.tag) == "outline"):
            attrs = {_local(k).lower(): v for k, v in outline.attrib.items()}
            label = (attrs.get("title") or attrs.get("text") or "").strip()
            url = (attrs.get("xmlurl") or "").strip()
            if not url:
                walk(outline, folders + [label] if label else folders)
                continue
            if not _is_http_url(url):
                log.warning("opml_feed_skipped", file=str(path), url=url, reason="not http(s)")
                continue
            if url in urls:
                continue
            categories = re.split(r"[,/]", attrs.get("category", ""))
            name = base = label or urlsplit(url).hostname or url
            n = 2
            while name in names:
                name, n = f"{base} ({n})", n + 1
            feeds.append(FeedConfig(url=url, name=name, tags=folders + categories))
            names.add(name)
            urls.add(url)

    walk(body, [])
    return feeds


def _local(tag: Any) -> str:
    """Element/attribute name without its `{namespace}`."""
    return str(tag).rsplit("}", 1)[-1]


# ---------------------------------------------------------------- parsing


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
            return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(timezone.utc).timetuple()
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
            id=_str(item.get("id")), link=_str(item.get("url") or item.get("external_url")),
            title=_str(item.get("title")), summary=_str(item.get("summary")), content=content,
            published_parsed=when(item.get("date_published")) if item.get("date_published") else None,
            updated_parsed=when(item.get("date_modified")) if item.get("date_modified") else None,
            author=next((_str(a.get("name")) for a in authors if isinstance(a, dict)), None),
            language=_str(item.get("language")),
            tags=[{"term": str(t)} for t in item.get("tags") or []],
        ))
    return feedparser.FeedParserDict(
        bozo=False, entries=entries, version="json" + str(doc["version"]).rsplit("/", 1)[-1],
        feed=feedparser.FeedParserDict(title=_str(doc.get("title")), language=_str(doc.get("language"))),
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


_HTML_TYPES = ("text/html", "application/xhtml+xml")
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def entries_to_raw(parsed: Any, feed: FeedConfig) -> list[RawArticle]:
    """Map parsed entries to RawArticles, in document order; never raises.

    `content` is the entry's full content when it has one, else its summary
    (so downstream cleaning, which reads only `content`, always has text);
    `summary` keeps the summary as given. An entry that fails to map is
    logged and skipped; entries with nothing in them are dropped."""
    out: list[RawArticle] = []
    feed_lang = _str((parsed.get("feed") or {}).get("language"))
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
    guid = _str(entry.get("id"))
    url = _entry_url(entry, feed.url)
    title = _title(entry)
    summary = _summary(entry)
    content, ctype = _content(entry)
    if not content and summary:
        content = summary
        ctype = "html" if _detail_type(entry.get("summary_detail")) in _HTML_TYPES else "text"
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
        author=_str(entry.get("author")), language=_language(entry) or feed_lang,
        tags=_unique([*feed.tags, *(_str(t.get("term")) or _str(t.get("label")) for t in entry.get("tags") or [])]),
    )


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _unique(items: Iterable[str | None]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        if item and item.strip():
            seen.setdefault(item.strip()[:100], None)
    return list(seen)


def _detail_type(detail: Any) -> str:
    return (detail or {}).get("type") or ""


def _entry_url(entry: Any, base: str) -> str | None:
    """The entry's link, absolute and http(s) only. When feedparser copied a
    permalink guid into `link` it is used only if already absolute: a guid
    like "12345" is not a relative URL."""
    link = _str(entry.get("link"))
    if not link:
        return None
    if not (entry.get("guidislink") and link == entry.get("id")):
        link = urljoin(base, link)
    return link if _is_http_url(link) else None


def _title(entry: Any) -> str | None:
    title = _str(entry.get("title"))
    if title and _detail_type(entry.get("title_detail")) in _HTML_TYPES:
        title = _html_to_text(title)
    return title or None


def _html_to_text(value: str) -> str:
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", value))).strip()


def _summary(entry: Any) -> str | None:
    """The entry's own summary. feedparser copies Atom content into `summary`
    when there is none; that copy (no `summary_detail`) is not a summary."""
    if "summary_detail" in entry:
        return _str(entry["summary_detail"].get("value"))
    summary = _str(entry.get("summary"))
    contents = [c.get("value") for c in entry.get("content") or []]
    return None if summary in contents else summary


def _content(entry: Any) -> tuple[str, str]:
    """(full content, "html" | "text"): the first HTML part, else the first part."""
    parts = [c for c in entry.get("content") or [] if _str(c.get("value"))]
    if not parts:
        return "", "text"
    best = next((c for c in parts if _detail_type(c) in _HTML_TYPES), parts[0])
    return best["value"], "html" if _detail_type(best) in _HTML_TYPES else "text"


def _language(entry: Any) -> str | None:
    candidates = [entry.get("language")]
    candidates += [c.get("language") for c in entry.get("content") or []]
    candidates += [(entry.get(k) or {}).get("language") for k in ("title_detail", "summary_detail")]
    return next((s for s in map(_str, candidates) if s), None)


def _utc(value: Any) -> datetime | None:
    """feedparser's *_parsed values are struct_time already in UTC."""
    if not value:
        return None
    try:
        return datetime(*value[:6], tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- state


class FeedHealth(BaseModel):
    """What an operator asks of a feed: is it working, and when is it next polled."""

    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_status: int | None = None
    next_poll: datetime | None = None
    items_seen: int = Field(default=0, description="new items published, ever")
    consecutive_failures: int = 0
    fetch_errors: int = Field(default=0, description="failed fetches, ever")

    @property
    def healthy(self) -> bool:
        return self.consecutive_failures < UNHEALTHY_AFTER


@dataclass
class FeedState:
    """Everything kept per feed between polls and across restarts."""

    url: str
    health: FeedHealth
    etag: str | None = None
    last_modified: str | None = None
    seen: dict[str, None] = field(default_factory=dict)  # insertion-ordered set, oldest first

    def touch(self, ids: Iterable[str], limit: int) -> None:
        """Mark ids as seen now; keep the `limit` most recent. Ids still in
        the feed are re-touched every poll, so only items that left the feed
        can be forgotten (unless the feed itself holds more than `limit`)."""
        for item_id in ids:
            self.seen.pop(item_id, None)
            self.seen[item_id] = None
        for old in list(self.seen)[: max(0, len(self.seen) - limit)]:
            del self.seen[old]

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "etag": self.etag, "last_modified": self.last_modified,
                "health": self.health.model_dump(mode="json"), "seen": list(self.seen)}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> FeedState:
        return cls(url=str(obj.get("url") or ""), health=FeedHealth.model_validate(obj.get("health") or {}),
                   etag=_str(obj.get("etag")), last_modified=_str(obj.get("last_modified")),
                   seen=dict.fromkeys(str(x) for x in obj.get("seen") or []))


STATE_FILE_NAME = "feeds-state.json"
STATE_VERSION = 1


def load_state(path: Path) -> dict[str, FeedState]:
    """Feed name -> state. An unreadable file is moved aside, not fatal:
    starting empty can only republish (downstream dedup), never lose."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return {str(name): FeedState.from_json(obj) for name, obj in doc["feeds"].items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        try:
            os.replace(path, aside)
        except OSError:
            aside = None
        log.error("feed_state_unreadable", path=str(path), error=repr(exc), moved_to=str(aside))
        return {}


def save_state(path: Path, states: dict[str, FeedState]) -> None:
    doc = {"version": STATE_VERSION, "saved_at": utcnow().isoformat(),
           "feeds": {name: st.to_json() for name, st in states.items()}}
    write_atomic(path, json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def write_atomic(path: Path, data: bytes) -> None:
    """Temp file in the same directory, fsync, rename: readers (and a
    restarted poller) see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable (POSIX)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


# ---------------------------------------------------------------- polling


class Publishes(Protocol):
    """What the poller needs of monitor.kafka.producer.Publisher."""

    async def publish(self, topic: str, key: str, message: BaseModel | bytes) -> None: ...


class FetchError(Exception):
    """A fetch that did not give us a feed document."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


@dataclass
class PollResult:
    feed: str
    outcome: Literal["ok", "not_modified", "error"]
    status: int | None = None
    entries: int = 0
    new: int = 0
    error: str | None = None
    retry_in: float | None = None


@dataclass
class _Fetched:
    status: int
    headers: dict[str, str]
    body: bytes


class PrivateAddressError(OSError):
    """A connection to a non-global address was refused (deny_private)."""


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for globally routable unicast addresses: False for private,
    loopback, link-local, shared (CGNAT), reserved, unspecified and multicast
    ones, also when wrapped in IPv6 (IPv4-mapped, 6to4, Teredo)."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is not None and not is_public_address(inner):
            return False
    return ip.is_global and not ip.is_multicast


def guarded_socket(addr_info: tuple) -> socket.socket:
    """aiohttp socket factory that refuses non-global destinations. It runs
    with the address actually being connected to, after DNS, for every
    connection, redirects included, so neither a hostname that resolves to
    127.0.0.1 nor DNS rebinding between a check and the connect gets past it."""
    family, type_, proto, _, sockaddr = addr_info
    ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
    if not is_public_address(ip):
        raise PrivateAddressError(errno.EACCES, f"{ip} is not a public address (deny_private)")
    return socket.socket(family=family, type=type_, proto=proto)


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
        tasks = [asyncio.create_task(self._loop(f), name=f"feed:{f.name}") for f in feeds]
        try:
            await self._stopping.wait()
            if tasks:  # let polls in flight finish (their items get marked seen)
                _, pending = await asyncio.wait(tasks, timeout=self.stop_grace)
                for task in pending:
                    task.cancel()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.close()

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
                except asyncio.TimeoutError:
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
        message = self._describe(feed, exc)
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

    @staticmethod
    def _describe(feed: FeedConfig, exc: Exception) -> str:
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
                if feed.fetch_full_text and _summary_only(article):
                    article = await self._with_full_text(feed, article)
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
            session = aiohttp.ClientSession(
                headers={"User-Agent": self.user_agent},
                connector=aiohttp.TCPConnector(limit=self._concurrency * 2, ttl_dns_cache=300,
                                               socket_factory=guarded_socket if deny_private else None),
                cookie_jar=aiohttp.DummyCookieJar(),  # feeds need no cookies; don't track
                auto_decompress=True,
            )
            if deny_private:
                self._guarded = session
            else:
                self._session = session
        return session

    async def _fetch(self, feed: FeedConfig, st: FeedState) -> _Fetched:
        headers = {"Accept": _ACCEPT, "Accept-Encoding": "gzip, deflate"}
        if st.etag:
            headers["If-None-Match"] = st.etag
        if st.last_modified:
            headers["If-Modified-Since"] = st.last_modified
        session = await self._http(feed.deny_private)
        async with session.get(feed.url, headers=headers, timeout=aiohttp.ClientTimeout(total=feed.timeout),
                               max_redirects=MAX_REDIRECTS) as resp:
            if resp.status == 304:
                return _Fetched(304, {}, b"")
            if not 200 <= resp.status < 300:
                raise FetchError(f"HTTP {resp.status}", resp.status, parse_retry_after(resp.headers.get("Retry-After")))
            body = await _read_bounded(resp, self.max_bytes)
            if any(r.status in (301, 308) for r in resp.history):
                log.info("feed_moved_permanently", feed=feed.name, url=feed.url, location=str(resp.url))
            # no Content-Location: feedparser would resolve guids against it,
            # and ids must not depend on where the feed was fetched from
            out = {k.lower(): v for k, v in resp.headers.items() if k.lower() != "content-location"}
            return _Fetched(resp.status, out, body)

    async def _with_full_text(self, feed: FeedConfig, article: RawArticle) -> RawArticle:
        """The article with its page's main text as content, or unchanged if
        the page cannot be had (the summary is still worth publishing)."""
        if not _is_http_url(article.url):
            return article
        try:
            session = await self._http(feed.deny_private_pages)
            async with session.get(article.url, headers={"Accept": "text/html,application/xhtml+xml"},
                                   timeout=aiohttp.ClientTimeout(total=feed.timeout),
                                   max_redirects=MAX_REDIRECTS) as resp:
                if resp.status != 200:
                    raise FetchError(f"HTTP {resp.status}", resp.status)
                if resp.content_type not in _HTML_TYPES:
                    raise FetchError(f"not HTML: {resp.content_type}")
                body = await _read_bounded(resp, MAX_PAGE_BYTES)
                charset = resp.charset
            text = await asyncio.to_thread(extract_main_text, body, charset, article.url)
        except Exception as exc:  # noqa: BLE001 -- fall back to the summary
            log.info("full_text_failed", feed=feed.name, url=article.url, error=self._describe(feed, exc))
            return article
        if not text:
            log.info("full_text_empty", feed=feed.name, url=article.url)
            return article
        return article.model_copy(update={"content": text, "content_type": "text"})


def _summary_only(article: RawArticle) -> bool:
    """True when the entry had no content of its own (content is its summary)."""
    return not article.content or article.content == article.summary


def extract_main_text(body: bytes, charset: str | None, url: str | None) -> str | None:
    import trafilatura  # heavy; only feeds with fetch_full_text need it

    try:
        doc: str | bytes = body.decode(charset) if charset else body
    except (LookupError, UnicodeDecodeError):
        doc = body
    try:
        return trafilatura.extract(doc, url=url, favor_precision=True, include_comments=False,
                                   include_tables=False, deduplicate=False) or None
    except Exception:  # noqa: BLE001 -- lxml errors on broken pages
        return None


async def _read_bounded(resp: aiohttp.ClientResponse, limit: int) -> bytes:
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
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - utcnow()).total_seconds())
