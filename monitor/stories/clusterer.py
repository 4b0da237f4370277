"""Story identity: an article joins a story only on evidence that it reports the same event.

Evidence, per candidate story (see ``StoryConfig`` for the weights):

* shared names - watched entity ids and open-vocabulary names - each weighted
  by its rarity in the recent stream (online IDF, ``DocFreq``) and its kind
  (a person or a place pins an event down, a country hardly does);
* text similarity of content words, TF-IDF with the same online frequencies;
* the current events (not historical, not denied) and where they happen:
  two summits in different capitals, or event types that never go together,
  are different stories whatever else they share;
* time: the article must fall within ``window_hours`` of the story.

A shared name alone is never enough unless the texts agree too: one leader
in ten different events is ten stories. Exact/near copies join their
original's story directly. Candidates come from an inverted index of keys
(``StoryIndex``), so the cost per article does not grow with live stories.

State (all JSON-plain, always replaced, never mutated in place):
``stories`` sid -> profile; ``story_reports`` "sid/n" -> a bucket of
``REPORT_BUCKET`` reports; ``story_df`` online document frequencies. A
report costs 2 writes (profile, report bucket); document frequencies are
written on the TTL sweep. The key index and the article index are derived
from those (monitor/stories/index.py), kept in memory, rebuilt on first use.

A profile holds what matching needs, packed (``profile``), and nothing its
reports already hold: ``first`` is the number of its first report, and
``title`` is kept only when the opening report has no title of its own.
Fields: id, first, first_seen, updated, article_count, published_min/max,
sources, keys, names (labels of the main names, in rank order, tab-joined), terms,
events (type -> places), norms, posted (keys it is indexed under), [title].
"""

from __future__ import annotations

import heapq
import math
from collections import OrderedDict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from monitor.models import Article, StoryRecord, stable_id, utcnow
from monitor.state import StateStores, Store
from monitor.stories.docfreq import DocFreq
from monitor.stories.features import Features, features, timestamp
from monitor.stories.index import StoryIndex, article_index, fill_article_index
from monitor.stories.profile import (
    KEY_SEP,
    heaviest_first,
    join_labels,
    match_vectors,
    pack,
    pack_terms,
    pack_terms_with_levels,
    pack_with_levels,
    ranked_keys,
    story_labels,
    story_vectors,
    unpack_terms,
)
from monitor.stories.record import (
    MAIN_NAMES,
    REPORT_BUCKET,
    outlet,
    profile_record,
    report_article,
    report_state,
    story_title,
)

REBUILD_EXPIRY_EVERY = 20  # sweeps between full rescans of the stories (tables may change under us)
DECODED_STORIES = 256  # recently scored stories kept unpacked (a fixed ~2 MB, not one per live story)


class StoryConfig(BaseModel):
    window_hours: float = Field(default=72.0, gt=0, description="max gap to the story's reports")
    ttl_hours: float = Field(default=96.0, gt=0, description="expire() closes stories idle this long")
    threshold: float = Field(default=0.25, ge=0, le=1, description="combined score needed to join")
    name_weight: float = 0.5
    text_weight: float = 0.5
    event_bonus: float = 0.1
    text_alone: float = Field(default=0.5, description="text similarity that joins with no shared name")
    text_with_one: float = Field(default=0.2, description="text similarity one shared name needs")
    max_keys: int = 24
    story_keys: int = 24
    max_terms: int = 60
    story_terms: int = 80
    index_terms: int = 4
    max_posted: int = 32
    candidates: int = Field(default=8, description="stories scored per article, the best by index evidence")
    candidate_floor: float = Field(default=0.2, description="index evidence needed, relative to the best")
    max_reports: int = Field(default=200, description="reports kept in a StoryRecord (report_count stays exact)")
    max_sources: int = 200
    # event types that may appear in one story; types not listed are compatible only with themselves
    event_groups: list[list[str]] = Field(default_factory=lambda: [
        ["border_crossing", "summit", "arms_transfer", "sanctions"],
        ["military_exercise", "missile_launch", "troop_movement", "border_crossing", "sanctions"],
    ])

    @property
    def memory_hours(self) -> float:
        """How far back the story stage's memory reaches: document frequencies
        halve over it, and rule groups keyed by a story outlive its last report
        by it. 1.75 times the TTL (7 days at the default 96 h), so a short TTL
        shortens every piece of story state with it, not only the stories."""
        return 1.75 * self.ttl_hours


def _weighted(vec: dict[Any, float], idf: Any) -> tuple[dict[Any, float], float]:
    """A weight vector with each weight times the idf of its key, and its norm."""
    w = {k: v * idf(k) for k, v in vec.items()}
    return w, math.sqrt(sum(x * x for x in w.values()))


def _cosine(query: tuple[dict[str, float], float], story: dict[str, float], story_norm: float,
            idf: Any) -> float:
    """Cosine of an idf-weighted query and a story vector (weighted here, norm given)."""
    wq, nq = query
    if not nq or not story_norm:
        return 0.0
    dot = sum(w * story[k] * idf(k) for k, w in wq.items() if k in story)
    return dot / (nq * story_norm) if dot else 0.0


def _current(profile: dict[str, Any] | None) -> bool:
    """A story profile in this module's format (tables may still hold older ones)."""
    return profile is not None and "posted" in profile


def _top(weights: dict[str, float], keep: int) -> dict[str, float]:
    if len(weights) <= keep:
        return weights
    # sorted, not nsmallest: cheaper at these sizes, and packing then sorts a sorted list
    return dict(heaviest_first(weights)[:keep])


def _add(old: dict[str, float], new: dict[str, float], keep: int) -> dict[str, float]:
    """Sum of the reports' L2-normalized vectors (each report counts the same), the heaviest kept."""
    merged = dict(old)
    norm = math.sqrt(sum(w * w for w in new.values())) or 1.0
    for k, w in new.items():
        merged[k] = merged.get(k, 0.0) + w / norm
    return _top(merged, keep)


class StoryClusterer:
    """Assigns ``story_id`` to articles and keeps the stories' state."""

    def __init__(self, stories: Store, config: StoryConfig | None = None, *,
                 reports: Store | None = None, docfreq: Store | None = None) -> None:
        self.stories = stories
        self.config = config or StoryConfig()
        self.reports: Store = reports if reports is not None else {}
        self._postings: StoryIndex | None = None  # derived: built on first use
        self._index: dict[str, str] | None = None
        self.df = DocFreq(docfreq if docfreq is not None else {}, half_life_s=self.config.memory_hours * 3600)
        self._expiry: list[tuple[float, str]] | None = None  # (updated, sid), built from the store
        self._sweeps = 0
        self._closing: dict[str, float] = {}  # story id -> its `updated`: closed record out, state not yet dropped
        # story id -> ((report count, idf epoch), norms): for stories whose stored norms are stale
        self._norms: dict[str, tuple[tuple[int, int], list[float]]] = {}
        # story id -> (the profile, its vectors as matching reads them): the
        # same stories are candidates for many articles in a row
        self._decoded: OrderedDict[str, tuple[dict[str, Any], tuple[dict[str, float], dict[int, float]]]] = (
            OrderedDict())

    @classmethod
    def from_stores(cls, stores: StateStores, config: StoryConfig | None = None) -> StoryClusterer:
        return cls(stores.stories, config, reports=stores.story_reports, docfreq=stores.story_df)

    @property
    def postings(self) -> StoryIndex:
        """evidence key -> live stories, derived from the profiles."""
        if self._postings is None:
            self._postings = StoryIndex.build(self.stories)
        return self._postings

    @property
    def index(self) -> dict[str, str]:
        """article id -> story id, derived from the report buckets."""
        if self._index is None:
            self._index = article_index(self.stories, self.reports)
        return self._index

    def reset_indexes(self) -> None:
        """Forget the derived indexes (the stores changed under us: a table
        recovery); the next article rebuilds them."""
        self._postings = self._index = None
        self._expiry = None
        self._closing.clear()  # the next sweep finds them again in the stores

    def rebuild_steps(self, chunk: int = 5000) -> Iterator[None]:
        """Build both indexes ``chunk`` items at a time, yielding between
        slices; installed only if no article built one meanwhile (see
        ``Deduplicator.rebuild_steps``)."""
        stories = list(self.stories.items())
        postings, index = StoryIndex(), {}
        yield from postings.fill(stories, chunk)
        yield from fill_article_index(index, stories, list(self.reports.items()), chunk)
        if self._postings is None:
            self._postings = postings
        if self._index is None:
            self._index = index

    # ------------------------------------------------------------ scoring

    def _compatible(self, a: set[str], b: set[str]) -> bool:
        if not a or not b or a & b:
            return True
        return any(set(g) & a and set(g) & b for g in self.config.event_groups)

    def _story_norms(self, story: dict[str, Any]) -> tuple[float, float]:
        """Norms of the story's idf-weighted vectors, as computed when it was last
        written (idf moves slowly; recomputing them per candidate would cost
        more the more live stories there are, as fewer are seen twice)."""
        norms = story.get("norms")
        if norms is None or self.df.n > norms[2] * 2 + 50:  # the stream is young: idf still moves
            version = (story["article_count"], self.df.epoch)
            cached = self._norms.get(story["id"])
            if cached is None or cached[0] != version:
                cached = self._norms[story["id"]] = (version, self._norms_now(story))
            norms = cached[1]
        return norms[0], norms[1]

    def _match_vectors(self, story: dict[str, Any]) -> tuple[dict[str, float], dict[int, float]]:
        """``match_vectors(story)``, from a small cache (checked against the
        profile object itself: a stored profile is replaced, never changed)."""
        sid = story["id"]
        hit = self._decoded.get(sid)
        if hit is not None and hit[0] is story:
            self._decoded.move_to_end(sid)
            return hit[1]
        vectors = match_vectors(story)
        self._remember(sid, story, vectors)
        return vectors

    def _remember(self, sid: str, story: dict[str, Any],
                  vectors: tuple[dict[str, float], dict[int, float]]) -> None:
        self._decoded[sid] = (story, vectors)
        self._decoded.move_to_end(sid)
        if len(self._decoded) > DECODED_STORIES:
            self._decoded.popitem(last=False)

    def _norms_now(self, story: dict[str, Any]) -> list[float]:
        idf = self.df.table.__getitem__
        keys, terms = self._match_vectors(story)
        return [round(_weighted(keys, idf)[1], 4), round(_weighted(terms, idf)[1], 4), round(self.df.n, 1)]

    def score(self, story: dict[str, Any], feats: Features, query: dict[str, Any] | None = None) -> float:
        """How well an article's evidence fits a story; 0 when it must not join.
        ``query``: the article's weighted vectors (``self.query(feats)``), to reuse."""
        c = self.config
        story_events: dict[str, list[str]] = story.get("events", {})
        if not self._compatible(set(feats.events), set(story_events)):
            return 0.0
        same_place = False  # the same kind of event at the same place: positive evidence
        for etype, places in feats.events.items():
            if etype in story_events:
                theirs = story_events[etype]
                if places and theirs:
                    if not set(places) & set(theirs):
                        return 0.0  # the same kind of event, somewhere else: another event
                    same_place = True
        story_keys, story_terms = self._match_vectors(story)
        shared = [k for k in feats.specific if k in story_keys]
        q = query or self.query(feats)
        keys_norm, terms_norm = self._story_norms(story)
        text = _cosine(q["terms"], story_terms, terms_norm, self.df.table.__getitem__)
        if not (len(shared) >= 2 or (shared and text >= c.text_with_one) or text >= c.text_alone):
            return 0.0
        names = _cosine(q["keys"], story_keys, keys_norm, self.df.table.__getitem__)
        return c.name_weight * names + c.text_weight * text + (c.event_bonus if same_place else 0.0)

    def query(self, feats: Features) -> dict[str, Any]:
        idf = self.df.table.__getitem__
        return {"terms": _weighted(feats.terms, idf), "keys": _weighted(feats.keys, idf)}

    def _in_window(self, story: dict[str, Any], published: float | None, seen: float) -> bool:
        """Same time frame: by publication dates when both sides have them
        (replayed history stays coherent), else by when they were processed."""
        window = self.config.window_hours * 3600
        lo, hi = story.get("published_min"), story.get("published_max")
        if published is not None and lo is not None:
            return lo - window <= published <= hi + window
        return abs(seen - story["updated"]) <= window

    def _index_keys(self, feats: Features) -> list[str]:
        """Keys to post a story under: its specific names and its rarest words."""
        if feats.index_keys is None:
            idf = self.df.table.__getitem__
            terms = heapq.nsmallest(self.config.index_terms, feats.terms,
                                    key=lambda t: (-feats.terms[t] * idf(t), feats.words[t]))
            feats.index_terms = terms
            feats.index_keys = [*feats.specific, *(f"t:{feats.words[t]}" for t in terms)]
        return feats.index_keys

    def best_story(self, feats: Features, published: float | None, seen: float) -> str | None:
        idf = self.df.table.__getitem__
        lookup = {k: feats.keys[k] * idf(k) for k in feats.specific}
        index_keys = self._index_keys(feats)
        for k, t in zip(index_keys[len(feats.specific):], feats.index_terms or (), strict=True):
            lookup[k] = feats.terms[t] * idf(t) * 0.5
        best, best_score = None, self.config.threshold
        query = self.query(feats)
        for sid in self.postings.candidates(lookup, self.config.candidates, self.config.candidate_floor):
            story = self.stories.get(sid)
            if story is None or not self._in_window(story, published, seen):
                continue
            s = self.score(story, feats, query)
            if s >= best_score and (best is None or s > best_score or sid < best):
                best, best_score = sid, s
        return best

    # ---------------------------------------------------------- assignment

    def assign(self, article: Article, now: datetime | None = None) -> Article:
        """A copy of ``article`` with ``story_id`` set (a new story if nothing fits)."""
        return self.place(article, now)[0]

    def place(self, article: Article, now: datetime | None = None) -> tuple[Article, StoryRecord]:
        """``assign``, plus the story's new ``StoryRecord``. Re-placing an
        article placed before changes nothing and returns the story's current
        record (a replay after a crash re-publishes it: harmless on a
        compacted topic, and it heals a record lost in the crash)."""
        seen = timestamp(now) or timestamp(article.ingested_at) or utcnow().timestamp()
        published = timestamp(article.published)
        known = self.index.get(article.id)
        if known and _current(self.stories.get(known)):
            return article.model_copy(update={"story_id": known}), self._record(self.stories[known])
        if article.duplicate_of:
            sid = self.index.get(article.duplicate_of)
            if sid and _current(self.stories.get(sid)):
                return self._join(sid, article, seen, published, None)
        feats = features(article, self.config.max_keys, self.config.max_terms)
        sid = self.best_story(feats, published, seen)
        self.df.add([*feats.keys, *feats.terms], published or seen)
        if sid is None:  # a new story: its empty profile is only ever written filled
            sid = stable_id("story", article.id)
            empty: dict[str, Any] = {
                "id": sid, "first": 0, "first_seen": round(seen, 3), "updated": round(seen, 3),
                "article_count": 0, "published_min": None, "published_max": None, "sources": [],
                "keys": pack({}, KEY_SEP), "names": "", "terms": pack_terms({}), "events": {}, "posted": [],
            }
            if not article.title:  # else the title is the opening report's
                empty["title"] = story_title(article)
            return self._join(sid, article, seen, published, feats, empty)
        return self._join(sid, article, seen, published, feats)

    def _join(self, sid: str, article: Article, seen: float, published: float | None,
              feats: Features | None, old: dict[str, Any] | None = None) -> tuple[Article, StoryRecord]:
        """Add the article to story ``sid`` (profile ``old``, read if not
        given): write back a new profile (never mutate the stored one), its
        report, its index entries."""
        c = self.config
        old = old if old is not None else self._upgraded(self.stories[sid])
        new = dict(old)
        n = old["article_count"]
        new["article_count"] = n + 1
        source = outlet(article)
        if source not in old["sources"] and len(old["sources"]) < c.max_sources:
            new["sources"] = [*old["sources"], source]
        new["updated"] = max(old["updated"], round(seen, 3))
        report = report_state(article, seen)
        if published is not None:
            published = round(published, 3)
            lo, hi = old.get("published_min"), old.get("published_max")
            new["published_min"] = published if lo is None else min(lo, published)
            new["published_max"] = published if hi is None else max(hi, published)
            if lo is not None and published < lo:  # an earlier report arrived late
                new["first"] = n
        if feats is not None:
            old_keys, old_terms = story_vectors(old)
            new["keys"], key_levels = pack_with_levels(_add(old_keys, feats.keys, c.story_keys), KEY_SEP)
            new["terms"], term_levels_ = pack_terms_with_levels(_add(old_terms, feats.terms, c.story_terms))
            if key_levels is not None:  # what matching would decode from the new profile
                self._remember(sid, new, (key_levels, term_levels_))
            labels = story_labels(old)
            named = [k for k in ranked_keys(new["keys"], KEY_SEP) if not k.startswith("e:country:")]
            new["names"] = join_labels([labels.get(k) or feats.labels.get(k, k) for k in named[:MAIN_NAMES]])
            new["norms"] = self._norms_now(new)
            events = dict(old["events"])
            for etype, places in feats.events.items():
                events[etype] = sorted(set(events.get(etype, ())) | set(places))[:8]
            new["events"] = events
            fresh = [k for k in self._index_keys(feats) if k not in old["posted"]]
            fresh = fresh[:max(0, c.max_posted - len(old["posted"]))]
            if fresh:
                self.postings.post(sid, fresh, new["first_seen"])
                new["posted"] = [*old["posted"], *fresh]
        bucket_key = f"{sid}/{n // REPORT_BUCKET}"
        self.reports[bucket_key] = [*(self.reports.get(bucket_key) or []), report]
        self.stories[sid] = new
        self.index[article.id] = sid
        if self._expiry is not None:
            heapq.heappush(self._expiry, (new["updated"], sid))
        return article.model_copy(update={"story_id": sid}), self._record(new)

    def _upgraded(self, profile: dict[str, Any]) -> dict[str, Any]:
        """A profile written before packing, in the current form (its norms
        are left to be recomputed: they were taken on unpacked weights)."""
        if "first_report" not in profile:
            return profile
        new = {k: v for k, v in profile.items()
               if k not in ("first_report", "first_article", "first_source", "labels", "event_types", "norms")}
        reports = [report_article(r) for b in range((profile["article_count"] - 1) // REPORT_BUCKET + 1)
                   for r in self.reports.get(f"{profile['id']}/{b}") or ()]
        first = profile.get("first_article")
        new["first"] = reports.index(first) if first in reports else 0
        new["names"] = join_labels([name for _, name in sorted(
            profile.get("labels", {}).items(), key=lambda kv: (-profile["keys"].get(kv[0], 0.0), kv[0]))])
        new["keys"], new["terms"] = pack(profile["keys"], KEY_SEP), pack_terms(unpack_terms(profile["terms"]))
        return new

    # ------------------------------------------------------------ reading

    def _record(self, profile: dict[str, Any], status: str = "active") -> StoryRecord:
        return profile_record(profile, self.reports, self.config.max_reports, status)

    def record(self, sid: str, status: str = "active") -> StoryRecord | None:
        profile = self.stories.get(sid)
        return self._record(profile, status) if profile else None

    # -------------------------------------------------------------- expiry

    def _expiry_heap(self) -> list[tuple[float, str]]:
        if self._expiry is None or self._sweeps % REBUILD_EXPIRY_EVERY == 0:
            self._expiry = [(s["updated"], sid) for sid, s in list(self.stories.items())]
            heapq.heapify(self._expiry)
        return self._expiry

    def expire(self, now: datetime | None = None) -> list[StoryRecord]:
        """Close stories with no report for ``ttl_hours``: drop them from
        every store (index included) and return their final records."""
        closed = self.closing(now)
        self.drop_closed([record.id for record in closed])
        return closed

    def closing(self, now: datetime | None = None) -> list[StoryRecord]:
        """The final (``closed``) records of the stories idle for ``ttl_hours``,
        without dropping them: the daemon drops a story (``drop_closed``) only
        once its closed record is on news.stories, so a crash in between
        closes it again instead of leaving it ``active`` there for good.
        Stories handed out before and not dropped since come again."""
        t = timestamp(now) or utcnow().timestamp()
        cutoff = t - self.config.ttl_hours * 3600
        heap = self._expiry_heap()
        self._sweeps += 1
        closed = []
        for sid, updated in list(self._closing.items()):
            story = self.stories.get(sid)
            if story is None or story["updated"] != updated:
                del self._closing[sid]  # dropped already, or a report came in since
            else:
                closed.append(self._record(story, "closed"))
        while heap and heap[0][0] < cutoff:
            _, sid = heapq.heappop(heap)
            story = self.stories.get(sid)
            if story is None or story["updated"] >= cutoff or sid in self._closing:
                continue  # gone already, or a newer entry for it is in the heap
            if _current(story):
                closed.append(self._record(story, "closed"))
                self._closing[sid] = story["updated"]
            else:
                self._drop_legacy(sid, story)
        self.df.flush(t)
        return closed

    def drop_closed(self, story_ids: list[str]) -> None:
        """Drop stories whose closed record (from ``closing``) is published;
        one that took a report since stays."""
        for sid in story_ids:
            updated = self._closing.pop(sid, None)
            story = self.stories.get(sid)
            if story is not None and story["updated"] == updated:
                self._drop(sid, story)

    def _drop_legacy(self, sid: str, story: dict[str, Any]) -> None:
        """A story written by the clusterer before issue 13 (no index postings,
        no reports): never joined again, dropped with its article index at expiry."""
        for aid in story.get("articles") or ():
            if self.index.get(aid) == sid:
                del self.index[aid]
        del self.stories[sid]

    def _drop(self, sid: str, story: dict[str, Any]) -> None:
        for b in range((story["article_count"] - 1) // REPORT_BUCKET + 1):
            key = f"{sid}/{b}"
            for report in self.reports.get(key) or ():
                if self.index.get(aid := report_article(report)) == sid:
                    del self.index[aid]
            if key in self.reports:
                del self.reports[key]
        self.postings.unpost(sid, story["posted"], story["first_seen"])
        self._norms.pop(sid, None)
        self._decoded.pop(sid, None)
        del self.stories[sid]
