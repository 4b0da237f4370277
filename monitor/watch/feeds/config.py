"""feeds.yaml and OPML: what a feed is (`FeedConfig`), read with file:line errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from monitor.errors import FeedConfigError, RuleFileError
from monitor.log import get_logger
from monitor.watch.feeds import common
from monitor.watch.feeds.common import DEFAULT_INTERVAL, is_http_url, unique
from monitor.yamldoc import YamlDoc, did_you_mean, read_yaml

log = get_logger(__name__)


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
        if not is_http_url(v) or any(c.isspace() for c in v):
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
        low = (info.context or {}).get("min_interval", common.MIN_INTERVAL)
        if v < low:
            raise ValueError(f"must be at least {low:g} seconds, got {v:g}")
        return v

    @field_validator("tags")
    @classmethod
    def _clean_tags(cls, v: list[str]) -> list[str]:
        return unique(t.strip() for t in v)


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
    context = {"min_interval": common.MIN_INTERVAL if min_interval is None else min_interval}
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
            if not is_http_url(url):
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
