"""Story clustering: group articles about the same developing story.

A story is one plain-data record in the ``stories`` store; the ``index``
store maps article id -> story id. Both may be faust tables, so records are
JSON-plain and always replaced, never mutated in place.

An article joins the best-scoring live story when the two share main
entities (at least one that is not a country, or two countries), their event
types are compatible, the story was updated within ``window_hours``, and the
combined score (entity overlap, term cosine, event compatibility) reaches
``threshold``. Exact/near duplicates join their original's story directly.
Candidate search scans live stories: fine for the few thousand a 72h window
holds; an entity -> stories posting list would be the next step beyond that.
"""

from __future__ import annotations

import heapq
import math
import operator
import re
from collections import Counter
from datetime import UTC, datetime
from itertools import repeat
from typing import Any

from pydantic import BaseModel, Field

from monitor.models import Article, stable_id, utcnow
from monitor.state import Store

_TOKEN = re.compile(r"[^\W\d_]{3,}")
_ASCII_TOKEN = re.compile(r"[A-Za-z]{3,}")  # _TOKEN on ASCII text
_STOP = frozenset(
    """the and for that with was were are has have had this from his her its their they them
    said says will would could should may might not but also been being which who whom what when
    where while after before about over into than then there these those such other more most
    some any all one two three first last new year years day days week monday tuesday wednesday
    thursday friday saturday sunday told reported according reuters yonhap image photo""".split())


class StoryConfig(BaseModel):
    window_hours: float = Field(default=72.0, gt=0, description="max gap to the story's last update")
    ttl_hours: float = Field(default=96.0, gt=0, description="expire() drops stories idle this long")
    threshold: float = Field(default=0.4, ge=0, le=1)
    entity_weight: float = 0.55
    text_weight: float = 0.30
    event_weight: float = 0.15
    max_entities: int = 12
    max_terms: int = 60
    max_article_ids: int = 500
    # event types that may appear in one story; types not listed are compatible only with themselves
    event_groups: list[list[str]] = Field(default_factory=lambda: [
        ["border_crossing", "summit", "arms_transfer", "sanctions"],
        ["military_exercise", "missile_launch", "troop_movement", "border_crossing", "sanctions"],
    ])


def _ts(dt: datetime | None) -> float | None:
    if dt is None:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


def _normalize(weights: dict[str, float], keep: int) -> dict[str, float]:
    top = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:keep]
    total = sum(w for _, w in top) or 1.0
    return {k: round(w / total, 5) for k, w in top}


def article_entities(article: Article, keep: int = 12) -> dict[str, float]:
    """Main entities with weights summing to 1: mentions (+2 in the headline),
    countries count half because nearly every story names some."""
    raw = {}
    for e in article.entities:
        w = (len(e.mentions) + (2 if e.in_headline else 0)) * (0.5 if e.type == "country" else 1.0)
        if w > 0:
            raw[e.id] = w
    return _normalize(raw, keep)


def article_terms(article: Article, keep: int = 60) -> dict[str, float]:
    """Sub-linear term frequencies of content words (title counted twice).

    The same as ``_normalize({t: 1 + log(count)}, keep)``, but the top terms
    are picked by count (1 + log is increasing, so the order by weight and
    name is the same) and only they are weighted; ASCII text is tokenized
    with the ASCII form of ``_TOKEN``."""
    text = f"{article.title or ''} {article.title or ''} {article.text}".lower()
    tokens = _ASCII_TOKEN.findall(text) if text.isascii() else _TOKEN.findall(text)
    counts = Counter(t for t in tokens if t not in _STOP)
    top = heapq.nsmallest(keep, counts.items(), key=lambda kv: (-kv[1], kv[0]))
    weights = [(t, 1 + math.log(c)) for t, c in top]
    total = sum(w for _, w in weights) or 1.0
    return {t: round(w / total, 5) for t, w in weights}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    dot = sum(w * b.get(k, 0.0) for k, w in a.items())
    na, nb = math.sqrt(sum(w * w for w in a.values())), math.sqrt(sum(w * w for w in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def _norm(a: dict[str, float]) -> float:
    return math.sqrt(sum(w * w for w in a.values()))


def _dot(a: dict[str, float], b: dict[str, float]) -> float:
    """``sum(w * b.get(k, 0.0) for k, w in a.items())``, same order, in C."""
    return sum(map(operator.mul, a.values(), map(b.get, a.keys(), repeat(0.0))))


def _overlap(a: dict[str, float], b: dict[str, float]) -> float:
    """Histogram intersection of two weight vectors that each sum to 1."""
    return sum(min(w, b[k]) for k, w in a.items() if k in b)


class StoryClusterer:
    """Assigns ``story_id`` to articles; keeps compact per-story profiles."""

    def __init__(self, stories: Store, index: Store, config: StoryConfig | None = None) -> None:
        self.stories, self.index = stories, index
        self.config = config or StoryConfig()
        # story id -> (its terms dict, that dict's norm); valid while the
        # story record holds that very dict (records are replaced, never mutated)
        self._norms: dict[str, tuple[dict[str, float], float]] = {}

    # ------------------------------------------------------------ scoring

    def _compatible(self, a: set[str], b: set[str]) -> float:
        """1 if the event types fit together, 0.5 if either side has none, else 0."""
        if not a or not b:
            return 0.5
        if a & b:
            return 1.0
        groups = [set(g) for g in self.config.event_groups]
        return 1.0 if any(g & a and g & b for g in groups) else 0.0

    def score(self, story: dict[str, Any], ents: dict[str, float], terms: dict[str, float],
              events: set[str]) -> float:
        """Similarity of an article profile to a story, 0 when it must not join."""
        shared = set(ents) & set(story["entities"])
        if not any(not e.startswith("country:") for e in shared) and len(shared) < 2:
            return 0.0
        compat = self._compatible(events, set(story["event_types"]))
        if compat == 0.0:
            return 0.0
        c = self.config
        return (c.entity_weight * _overlap(ents, story["entities"])
                + c.text_weight * _cosine(terms, story["terms"]) + c.event_weight * compat)

    def _score(self, sid: str, story: dict[str, Any], ents: dict[str, float], terms: dict[str, float],
               article_norm: float, events: set[str], groups: list[set[str]]) -> float:
        """``score`` with the article's norm and the event groups computed
        once per article and the story's norm cached: the same float."""
        shared = ents.keys() & story["entities"].keys()
        if not any(not e.startswith("country:") for e in shared) and len(shared) < 2:
            return 0.0
        story_events = set(story["event_types"])
        if not events or not story_events:
            compat = 0.5
        elif events & story_events or any(g & events and g & story_events for g in groups):
            compat = 1.0
        else:
            return 0.0
        story_terms = story["terms"]
        cached = self._norms.get(sid)
        if cached is None or cached[0] is not story_terms:
            cached = self._norms[sid] = (story_terms, _norm(story_terms))
        story_norm = cached[1]
        cosine = (_dot(terms, story_terms) / (article_norm * story_norm)
                  if article_norm and story_norm else 0.0)
        c = self.config
        return c.entity_weight * _overlap(ents, story["entities"]) + c.text_weight * cosine + c.event_weight * compat

    # ---------------------------------------------------------- assignment

    def _in_window(self, story: dict[str, Any], published: float | None, seen: float) -> bool:
        """Same time frame: by publication dates when both sides have them
        (replayed history stays coherent), else by when they were processed."""
        window = self.config.window_hours * 3600
        lo, hi = story.get("published_min"), story.get("published_max")
        if published is not None and lo is not None:
            return lo - window <= published <= hi + window
        return abs(seen - story["updated"]) <= window

    def assign(self, article: Article, now: datetime | None = None) -> Article:
        """A copy of ``article`` with ``story_id`` set (a new story if nothing fits).
        Re-assigning an article already indexed is a no-op (safe on replay)."""
        seen = _ts(now) or _ts(article.ingested_at) or utcnow().timestamp()
        published = _ts(article.published)
        known = self.index.get(article.id)
        if known and known in self.stories:
            return article.model_copy(update={"story_id": known})
        if article.duplicate_of:
            sid = self.index.get(article.duplicate_of)
            if sid and sid in self.stories:
                self._update(sid, article, seen, published, profile=False)
                return article.model_copy(update={"story_id": sid})

        ents = article_entities(article, self.config.max_entities)
        terms = article_terms(article, self.config.max_terms)
        events = {e.type for e in article.events}
        best, best_score = None, self.config.threshold
        # a story sharing no entity scores 0, so with a threshold above 0 it
        # is skipped before anything else (most live stories, cheaply)
        skip_disjoint = best_score > 0
        ent_keys = ents.keys()
        named = {e for e in ents if not e.startswith("country:")}
        article_norm = _norm(terms)
        groups = [set(g) for g in self.config.event_groups]
        for sid, story in list(self.stories.items()):
            if skip_disjoint:  # the entity test of score(), inline: most stories fail it
                story_ents = story["entities"]
                if ent_keys.isdisjoint(story_ents) or (
                        named.isdisjoint(story_ents) and len(ent_keys & story_ents.keys()) < 2):
                    continue
            if not self._in_window(story, published, seen):
                continue
            s = self._score(sid, story, ents, terms, article_norm, events, groups)
            if s >= best_score and (best is None or s > best_score or sid < best):
                best, best_score = sid, s
        if best is None:
            best = stable_id("story", article.id)
            self.stories[best] = {
                "id": best, "first_article": article.id, "first_source": article.source,
                "first_seen": seen, "title": article.title, "updated": seen, "article_count": 0,
                "published_min": published, "published_max": published,
                "sources": [], "articles": [], "entities": {}, "terms": {}, "event_types": [],
            }
        self._update(best, article, seen, published, profile=True, ents=ents, terms=terms, events=events)
        return article.model_copy(update={"story_id": best})

    def _update(self, sid: str, article: Article, seen: float, published: float | None, *, profile: bool,
                ents: dict[str, float] | None = None, terms: dict[str, float] | None = None,
                events: set[str] | None = None) -> None:
        """Write back a new story record (never mutate the stored one)."""
        old = self.stories[sid]
        c = self.config
        new = dict(old)
        new["article_count"] = old["article_count"] + 1
        new["sources"] = list(dict.fromkeys([*old["sources"], article.source]))
        new["articles"] = [*old["articles"], article.id][-c.max_article_ids:]
        new["updated"] = max(old["updated"], seen)
        if published is not None:
            lo, hi = old.get("published_min"), old.get("published_max")
            new["published_min"] = published if lo is None else min(lo, published)
            new["published_max"] = published if hi is None else max(hi, published)
            if lo is not None and published < lo:  # an earlier report arrived late
                new.update(first_article=article.id, first_source=article.source)
        if profile:
            n = old["article_count"]
            new["entities"] = _merge(old["entities"], ents or {}, c.max_entities, n)
            new["terms"] = _merge(old["terms"], terms or {}, c.max_terms, n)
            new["event_types"] = sorted(set(old["event_types"]) | (events or set()))
        self.stories[sid] = new
        self.index[article.id] = sid

    # -------------------------------------------------------------- expiry

    def expire(self, now: datetime | None = None) -> int:
        """Drop stories not updated for ``ttl_hours`` (and their index entries)."""
        cutoff = (_ts(now) or utcnow().timestamp()) - self.config.ttl_hours * 3600
        dead = [sid for sid, s in list(self.stories.items()) if s["updated"] < cutoff]
        for sid in dead:
            self._norms.pop(sid, None)
            for aid in self.stories[sid]["articles"]:
                if self.index.get(aid) == sid:
                    del self.index[aid]
            del self.stories[sid]
        return len(dead)


def _merge(old: dict[str, float], new: dict[str, float], keep: int, n: int) -> dict[str, float]:
    """Running mean of the articles' normalized vectors (``old`` averages
    ``n`` articles), re-normalized and truncated to the ``keep`` heaviest."""
    merged = {k: w * n for k, w in old.items()}
    for k, w in new.items():
        merged[k] = merged.get(k, 0.0) + w
    return _normalize(merged, keep)
