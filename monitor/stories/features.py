"""What of an article counts as evidence that it reports a given event.

Story matching compares *specific* things: the names an article is about
(watched entity ids and open-vocabulary ``Article.names``), its content
words, the current events it reports (type and where they happen) and its
date. Everything here is a pure function of the article, computed once per
article; how much each key proves (its rarity in the recent stream) is
decided later, against the online document frequencies.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter

from monitor.enrich.bytetable import LETTER_TABLE, translate_keeping_letters
from monitor.models import Article, EventTag
from monitor.stories.profile import heaviest_first, term_id

_TOKEN = re.compile(r"[^\W\d_]{3,}")
_FOLD = re.compile(r"[^\w]+")
_by_count = itemgetter(1)
STOP = frozenset(
    """the and for that with was were are has have had this from his her its their they them
    said says will would could should may might not but also been being which who whom what when
    where while after before about over into than then there these those such other more most
    some any all one two three first last new year years day days week monday tuesday wednesday
    thursday friday saturday sunday told reported according reuters yonhap image photo
    january february march april june july august september october november december
    can did does just only very many much our out now what how him she you your yes get got
    made make two off per via yet still since during between against under more than""".split())

# how much one shared key of a kind proves, before rarity: a country is named in
# nearly every story, a person or a specific place pins an event down
KIND_FACTOR = {"person": 1.0, "place": 0.9, "facility": 1.0, "organization": 0.7,
               "weapon_system": 0.5, "other": 0.6, "country": 0.25}
# modalities that do not describe a current event (never evidence of one)
NOT_CURRENT = frozenset({"historical", "denied"})
LOCATION_SLOTS = ("location", "destination")


def fold(text: str) -> str:
    """The matching form of a name: lower case, punctuation as single spaces."""
    return _FOLD.sub(" ", text.lower()).strip()


def timestamp(dt: datetime | None) -> float | None:
    if dt is None:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


@dataclass
class Features:
    """One article's evidence. ``keys``: index key -> salience x kind factor
    (``e:<entity id>``, ``n:<folded name>``); ``terms``: term id (of a word,
    ``term_id``) -> sub-linear tf; ``words``: term id -> word; ``events``:
    current event type -> location ids; ``labels``: key -> display name."""

    keys: dict[str, float] = field(default_factory=dict)
    terms: dict[int, float] = field(default_factory=dict)
    words: dict[int, str] = field(default_factory=dict)
    events: dict[str, list[str]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    index_keys: list[str] | None = None  # set by the clusterer, once
    index_terms: list[int] | None = None  # the term ids among them

    @property
    def specific(self) -> list[str]:
        """Keys that are not countries: what can pin an event down."""
        return [k for k in self.keys if not k.startswith("e:country:")]


def current_events(article: Article) -> list[EventTag]:
    return [e for e in article.events if e.modality not in NOT_CURRENT]


def main_event(article: Article) -> EventTag | None:
    """The event a report is mainly about: the most confident current one."""
    evs = current_events(article) or list(article.events)
    return max(evs, key=lambda e: (e.modality not in NOT_CURRENT, e.confidence, -e.evidence.start),
               default=None)


def article_keys(article: Article, keep: int = 24) -> tuple[dict[str, float], dict[str, str]]:
    """Names the article is about, as index keys with salience x kind factor."""
    raw: dict[str, float] = {}
    labels: dict[str, str] = {}
    covered: set[str] = set()  # folded forms of watched entities: names repeating them are dropped
    for e in article.entities:
        count = len(e.mentions) + (2 if e.in_headline else 0)
        if count <= 0:
            continue
        kind = "country" if e.type == "country" else e.type
        key = f"e:{e.id}"
        raw[key] = (1 + math.log(count)) * KIND_FACTOR.get(kind, 0.6)
        labels[key] = e.name
        covered.add(fold(e.name))
        covered.update(fold(surface) for surface in {m.surface for m in e.mentions})
    for n in article.names:
        folded = fold(n.key)
        if not folded or folded in covered:
            continue
        count = n.count + (2 if n.in_headline else 0)
        key = f"n:{folded}"
        raw[key] = max(raw.get(key, 0.0), (1 + math.log(max(1, count))) * KIND_FACTOR.get(n.kind, 0.6))
        labels.setdefault(key, n.name)
    top = heaviest_first(raw)[:keep]
    keys = {k: round(w, 4) for k, w in top}
    return keys, {k: labels[k] for k in keys}


def _content_counts(text: str) -> Counter[str]:
    """``Counter(_TOKEN.findall(text))`` through a byte table (2x faster on
    news text): letter runs counted as words, then the few distinct ones
    that are short dropped, and one holding non-ASCII characters re-split by
    the regex (it may hold decimal digits, which are not letters)."""
    letters = translate_keeping_letters(text, LETTER_TABLE)
    counts = Counter(letters.split())
    odd = [w for w in counts if len(w) < 3 or not w.isascii()]
    for w in odd:
        n = counts.pop(w)
        if not w.isascii():
            for token in _TOKEN.findall(w):
                counts[token] += n
    return counts


def article_terms(article: Article, keep: int = 60) -> dict[str, float]:
    """Sub-linear frequencies of the content words (headline counted twice)."""
    text = f"{article.headline or ''} {article.headline or ''} {article.text}".lower()
    counts = _content_counts(text)
    for word in STOP.intersection(counts):
        del counts[word]
    # most frequent first, ties by word: sort by word, then (stable) by count;
    # only the words as frequent as the keep-th one can be kept
    if len(counts) > keep:
        floor = sorted(counts.values(), reverse=True)[keep - 1]
        ranked = sorted(kv for kv in counts.items() if kv[1] >= floor)
    else:
        ranked = sorted(counts.items())
    ranked.sort(key=_by_count, reverse=True)
    return {t: _weight(c) for t, c in ranked[:keep]}


@lru_cache(maxsize=256)
def _weight(count: int) -> float:
    return round(1 + math.log(count), 4)


def article_events(article: Article) -> dict[str, list[str]]:
    """Current event types and where each happens (location/destination slots)."""
    out: dict[str, set[str]] = {}
    for ev in current_events(article):
        places = out.setdefault(ev.type, set())
        for slot in LOCATION_SLOTS:
            places.update(ev.arguments.get(slot, ()))
    return {t: sorted(p) for t, p in sorted(out.items())}


def features(article: Article, max_keys: int = 24, max_terms: int = 60) -> Features:
    keys, labels = article_keys(article, max_keys)
    terms = article_terms(article, max_terms)
    words = {term_id(w): w for w in terms}
    return Features(keys=keys, terms={i: terms[w] for i, w in words.items()}, words=words,
                    events=article_events(article), labels=labels)
