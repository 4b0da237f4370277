"""Document frequencies learned online, so rarity is judged on the recent stream.

A leader named in hundreds of stories proves little; a village named in two
reports proves a lot. Counts decay with a half-life (stream time;
``StoryConfig.memory_hours``, 7 days at the default TTL), so the weights
follow what the news is about now, and a term that stops appearing fades out
of the table (which keeps it bounded).

Terms are name keys (``e:...``, ``n:...``) and the ids of words
(``profile.term_id``, stored as ``#<hex>``: JSON keys are strings).
Counting is done in memory and persisted in ``SHARDS`` records of the
``story_df`` store (``meta`` -> {"n", "t"}; ``s<k>`` -> {term: count}) on
``flush`` (the pipeline calls it with every TTL sweep: SHARDS + 1 writes per
500 articles), so an article costs no table write of its own. A crash loses
at most the counts since the last flush: a statistic, not an identity, so
that is harmless.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable

from monitor.state import Store
from monitor.stories.profile import term_id

Term = str | int

SHARDS = 64
HALF_LIFE_S = 7 * 86400.0  # the clusterer passes StoryConfig.memory_hours: this at the default TTL
MIN_COUNT = 0.3  # decayed counts below this are forgotten
REFRESH = 50  # documents between idf recomputations (sooner while the stream is young: 5% growth)


class _IdfTable(dict):
    """term -> idf, computed on first lookup (a plain dict lookup after that)."""

    def __init__(self, counts: dict[Term, float], n: float) -> None:
        super().__init__()
        self.counts, self.log_n1 = counts, math.log(n + 1.0)

    def __missing__(self, term: Term) -> float:
        value = self[term] = self.log_n1 - math.log(self.counts.get(term, 0.0) + 1.0) + 1.0
        return value


def _shard(term: Term) -> str:
    return f"s{(term if isinstance(term, int) else zlib.crc32(term.encode('utf-8'))) % SHARDS}"


def _stored(term: Term) -> str:
    return f"#{term:x}" if isinstance(term, int) else term


def _loaded(key: str) -> Term:
    if key.startswith("#"):
        return int(key[1:], 16)
    return key if ":" in key else term_id(key)  # a bare word: counted before term ids


class DocFreq:
    """``idf(term)`` from decayed counts; ``add(terms, t)`` counts one document."""

    def __init__(self, store: Store, half_life_s: float = HALF_LIFE_S) -> None:
        self.store = store
        self.half_life_s = half_life_s
        self._counts: dict[Term, float] | None = None
        self._n = 0.0
        self._t: float | None = None  # stream time the counts are decayed to
        self._changed = False  # counted documents since the last flush
        # idf values as of `epoch`: recomputed every REFRESH documents, or once
        # the document count grew by 5% (a young stream); they barely move
        self._idf: _IdfTable | None = None
        self.epoch = 0
        self._since_refresh = 0
        self._refreshed_n = 0.0

    def _load(self) -> dict[Term, float]:
        if self._counts is None:
            counts: dict[Term, float] = {}
            for k in range(SHARDS):
                for key, c in (self.store.get(f"s{k}") or {}).items():
                    term = _loaded(key)
                    counts[term] = counts.get(term, 0.0) + c
            meta = self.store.get("meta") or {}
            self._counts, self._n, self._t = counts, float(meta.get("n", 0.0)), meta.get("t")
        return self._counts

    @property
    def n(self) -> float:
        self._load()
        return self._n

    def count(self, term: Term) -> float:
        return self._load().get(term, 0.0)

    def idf(self, term: Term) -> float:
        """log((N + 1) / (df + 1)) + 1: > 1 for any term, 1 for one in every document."""
        return self.table[term]

    @property
    def table(self) -> _IdfTable:
        """The idf values as a mapping (faster in loops than ``idf``)."""
        if self._idf is None:
            self._idf = _IdfTable(self._load(), self._n)
        return self._idf

    def _refresh(self) -> None:
        self._idf = None
        self._refreshed_n = self._n
        self.epoch += 1
        self._since_refresh = 0

    def add(self, terms: Iterable[Term], t: float) -> None:
        counts = self._load()
        if self._t is None:
            self._t = t
        get = counts.get
        for term in set(terms):
            counts[term] = get(term, 0.0) + 1.0
        self._changed = True
        self._n += 1.0
        self._since_refresh += 1
        if self._n >= self._refreshed_n * 1.05 + 1 or self._since_refresh >= REFRESH:
            self._refresh()

    def flush(self, t: float | None = None) -> int:
        """Decay to stream time ``t``, forget faded terms, write the changed
        shards. Returns the number of table writes."""
        counts = self._load()
        if t is not None and self._t is not None and t > self._t:
            factor = 0.5 ** ((t - self._t) / self.half_life_s)
            if factor < 0.999:
                for term, c in list(counts.items()):
                    c *= factor
                    if c < MIN_COUNT:
                        del counts[term]
                    else:
                        counts[term] = c
                self._n *= factor
                self._refresh()
                self._changed = True
            self._t = t
        if not self._changed:
            return 0
        shards: list[dict[str, float]] = [{} for _ in range(SHARDS)]
        for term, c in counts.items():  # _shard and _stored, inlined: this runs over every term
            if term.__class__ is int:
                shards[term % SHARDS][f"#{term:x}"] = round(c, 3)
            else:
                shards[int(_shard(term)[1:])][_stored(term)] = round(c, 3)
        for k, values in enumerate(shards):
            self.store[f"s{k}"] = values
        self.store["meta"] = {"n": round(self._n, 3), "t": self._t}
        self._changed = False
        return len(shards) + 1
