"""Full text for feeds that carry only a summary (`fetch_full_text`): the
article page, fetched within bounds, its main text extracted by trafilatura;
on any failure the summary is published as it is."""

from __future__ import annotations

import asyncio

import aiohttp

from monitor.log import get_logger
from monitor.models import RawArticle
from monitor.watch.feeds import common
from monitor.watch.feeds.common import HTML_TYPES, is_http_url
from monitor.watch.feeds.config import FeedConfig
from monitor.watch.feeds.http import FetchError, describe, read_bounded

log = get_logger(__name__)


def summary_only(article: RawArticle) -> bool:
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


async def with_full_text(session: aiohttp.ClientSession, feed: FeedConfig, article: RawArticle) -> RawArticle:
    """The article with its page's main text as content, or unchanged if
    the page cannot be had (the summary is still worth publishing)."""
    if not is_http_url(article.url):
        return article
    try:
        async with session.get(article.url, headers={"Accept": "text/html,application/xhtml+xml"},
                               timeout=aiohttp.ClientTimeout(total=feed.timeout),
                               max_redirects=common.MAX_REDIRECTS) as resp:
            if resp.status != 200:
                raise FetchError(f"HTTP {resp.status}", resp.status)
            if resp.content_type not in HTML_TYPES:
                raise FetchError(f"not HTML: {resp.content_type}")
            body = await read_bounded(resp, common.MAX_PAGE_BYTES)
            charset = resp.charset
        text = await asyncio.to_thread(extract_main_text, body, charset, article.url)
    except Exception as exc:  # noqa: BLE001 -- fall back to the summary
        log.info("full_text_failed", feed=feed.name, url=article.url, error=describe(feed, exc))
        return article
    if not text:
        log.info("full_text_empty", feed=feed.name, url=article.url)
        return article
    return article.model_copy(update={"content": text, "content_type": "text"})



