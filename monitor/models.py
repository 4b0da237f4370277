"""Message models shared by every stage.

Each model is the JSON schema of one Kafka topic (see README, "Topics and
message schemas"), so fields are only ever added, never renamed.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ContentType = Literal["text", "html", "markdown"]
DupKind = Literal["exact", "near", "version"]
Modality = Literal["asserted", "planned", "speculative", "denied", "conditional", "historical"]
Severity = Literal["info", "low", "medium", "high", "critical"]
AlertAction = Literal["new", "update", "resolved"]
EntityType = Literal[
    "person", "organization", "country", "place", "facility", "weapon_system", "other"
]


def utcnow() -> datetime:
    return datetime.now(UTC)


def stable_id(*parts: str | None) -> str:
    """A short deterministic id: the same inputs always give the same id."""
    digest = hashlib.sha256("\x1f".join(p or "" for p in parts).encode("utf-8"))
    return digest.hexdigest()[:16]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=False)


class RawArticle(_Model):
    """What a watcher saw, before any cleaning. Topic `news.raw`, key `id`."""

    id: str
    source: str = Field(description="feed name, or 'inbox' for dropped files")
    source_kind: Literal["feed", "file", "api"] = "file"
    url: str | None = None
    guid: str | None = None
    title: str | None = None
    summary: str | None = None
    content: str = ""
    content_type: ContentType = "text"
    published: datetime | None = None
    updated: datetime | None = None
    author: str | None = None
    language: str | None = None
    tags: list[str] = Field(default_factory=list)
    path: str | None = Field(default=None, description="file name, for inbox files")
    ingested_at: datetime = Field(default_factory=utcnow)


class Mention(_Model):
    surface: str
    start: int = Field(description="character offset into Article.text")
    end: int
    paragraph: int


class EntityTag(_Model):
    id: str
    type: EntityType
    name: str
    mentions: list[Mention] = Field(default_factory=list)
    in_headline: bool = False

    @property
    def count(self) -> int:
        return len(self.mentions)


_KEY_DROP = re.compile(r"[.'’]")
_KEY_SPACE = re.compile(r"[-\s]+")


def fold_name(s: str) -> str:
    """The matching key of a name (`NameTag.key`, rules' `name:`): accents,
    case, dots, apostrophes and hyphens do not count.
    "Kim Jong-un" and "KIM JONG UN" -> "kim jong un"."""
    if not s.isascii():
        s = unicodedata.normalize("NFKD", s)
        s = "".join(c for c in s if not unicodedata.combining(c))
    return _KEY_SPACE.sub(" ", _KEY_DROP.sub("", s.casefold())).strip()


class NameTag(_Model):
    """A salient proper name found in the text whether or not any watchlist
    lists it (open vocabulary): what lets unwatched news group into stories."""

    key: str = Field(description="folded form used for matching, e.g. 'kim jong un'")
    name: str = Field(description="the most complete surface form seen")
    kind: Literal["person", "organization", "place", "other"] = "other"
    count: int = 1
    in_headline: bool = False


class Evidence(_Model):
    sentence: str
    start: int
    end: int
    paragraph: int


class EventTag(_Model):
    type: str
    modality: Modality
    trigger: str
    arguments: dict[str, list[str]] = Field(
        default_factory=dict, description="slot name -> entity ids"
    )
    evidence: Evidence
    confidence: float = 0.5
    reported_by: str | None = Field(
        default=None, description="who the sentence attributes the claim to"
    )


class Article(_Model):
    """A cleaned, deduplicated, tagged article. Topic `news.articles` (unique)
    or `news.duplicates` (copies, with `duplicate_of` set), key `id`."""

    id: str
    source: str
    url: str | None = None
    canonical_url: str | None = None
    guid: str | None = None
    title: str | None = None
    title_derived: bool = Field(
        default=False, description="the source gave no headline: `title` is the lead sentence, shortened"
    )
    published: datetime | None = None
    dateline: str | None = None
    agency: str | None = None
    byline: str | None = None
    language: str | None = None
    feed_tags: list[str] = Field(default_factory=list)
    text: str = ""
    paragraphs: list[str] = Field(
        default_factory=list,
        description="cleaned paragraphs; text == '\\n\\n'.join(paragraphs)",
    )
    content_hash: str = ""
    duplicate_of: str | None = None
    dup_kind: DupKind | None = None
    similarity: float | None = None
    entities: list[EntityTag] = Field(default_factory=list)
    events: list[EventTag] = Field(default_factory=list)
    names: list[NameTag] = Field(default_factory=list, description="salient open-vocabulary names")
    story_id: str | None = None
    ingested_at: datetime = Field(default_factory=utcnow)
    processed_at: datetime | None = None

    @property
    def is_duplicate(self) -> bool:
        return self.duplicate_of is not None

    @property
    def headline(self) -> str | None:
        """The source's own headline: None when `title` was derived from the
        text, so the lead sentence is not weighted twice as a headline."""
        return None if self.title_derived else self.title


class Fingerprint(_Model):
    """What dedup compares, computed once where the article is cleaned:
    shingle count, MinHash signature and paragraph hashes (base64 uint32)."""

    n: int
    s: str
    p: str = ""


class PreparedArticle(_Model):
    """A cleaned and tagged article on its way to dedup, stories and rules.
    Internal topic `news.prepared` (one partition), key `id`."""

    article: Article
    fingerprint: Fingerprint | None = None


class ArticleRef(_Model):
    id: str
    url: str | None = None
    source: str
    published: datetime | None = None
    title: str | None = None
    title_derived: bool = Field(default=False, description="`title` was derived from the text (Article.title_derived)")


class Alert(_Model):
    """One alert and its revisions. Topic `news.alerts`, key `id`.

    `id` is derived from rule, group key and story, so a replay of the same
    input yields the same id and subscribers can dedupe on it."""

    id: str
    rule_id: str
    rule_version: str
    severity: Severity
    action: AlertAction = "new"
    revision: int = 1
    title: str
    summary: str = ""
    group_key: str = ""
    story_id: str | None = None
    articles: list[ArticleRef] = Field(default_factory=list)
    entities: list[EntityTag] = Field(default_factory=list)
    events: list[EventTag] = Field(default_factory=list)
    corroboration: int = 1
    sources: list[str] = Field(default_factory=list)
    destinations: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    ingested_at: datetime | None = Field(
        default=None, description="ingest time of the triggering article"
    )


StoryStatus = Literal["active", "closed"]


class StoryReport(_Model):
    """One report in a story's timeline."""

    article_id: str
    source: str
    title: str | None = None
    url: str | None = None
    published: datetime | None = None
    seen_at: datetime
    modality: Modality | None = Field(default=None, description="modality of its main event, if any")
    event_types: list[str] = Field(default_factory=list)
    evidence: str | None = Field(default=None, description="the sentence of its main event")
    duplicate_of: str | None = Field(default=None, description="set when the report is a copy")


class StoryRecord(_Model):
    """A story as subscribers see it. Compacted topic `news.stories`, key `id`;
    a new record replaces the previous one whenever the story changes, and a
    story that expires is published once more with status `closed`."""

    id: str
    title: str
    status: StoryStatus = "active"
    first_report: StoryReport
    latest_report: StoryReport
    reports: list[StoryReport] = Field(default_factory=list, description="oldest first, capped")
    report_count: int = Field(description="all reports, copies included, even past the cap")
    sources: list[str] = Field(default_factory=list, description="distinct sources, first seen first")
    names: list[str] = Field(default_factory=list, description="main names, watched or not")
    entities: list[str] = Field(default_factory=list, description="main watched entity ids")
    event_types: list[str] = Field(default_factory=list)
    first_seen: datetime
    updated: datetime
