"""Inverted index: evidence key -> the live stories posted under it.

Candidates for an article are looked up through its own keys, never by
scanning the live stories, so the cost per article depends on how many keys
it has and how long a posting list may grow (``POSTING_CAP``), not on how
many stories are live. A key shared by more stories than the cap (a leader,
a common word) keeps only the newest: such a key proves little anyway, and a
story is also posted under its rarer keys.

Store ``story_postings``: key -> [[story id, posted at], ...] newest first.
A story is posted under a key once (when the key enters its profile), so a
report joining a known story usually writes nothing here.
"""

from __future__ import annotations

from collections.abc import Iterable

from monitor.state import Store

POSTING_CAP = 48


class StoryIndex:
    def __init__(self, store: Store, cap: int = POSTING_CAP) -> None:
        self.store = store
        self.cap = cap

    def post(self, sid: str, keys: Iterable[str], t: float) -> int:
        """Post story ``sid`` under ``keys``; returns the number of writes."""
        writes = 0
        for key in keys:
            old = self.store.get(key) or []
            entries = [[sid, round(t, 1)]] + [e for e in old if e[0] != sid]
            self.store[key] = entries[:self.cap]
            writes += 1
        return writes

    def unpost(self, sid: str, keys: Iterable[str]) -> None:
        for key in keys:
            old = self.store.get(key)
            if not old:
                continue
            entries = [e for e in old if e[0] != sid]
            if len(entries) == len(old):
                continue
            if entries:
                self.store[key] = entries
            else:
                del self.store[key]

    def candidates(self, weights: dict[str, float], limit: int, floor: float = 0.0) -> list[str]:
        """Story ids posted under the given keys, the ``limit`` best by the
        summed weight of the keys they share with the article; those below
        ``floor`` times the best one's weight are left out (a story met only
        through a common key, when others share rare ones)."""
        score: dict[str, float] = {}
        for key, w in weights.items():
            for sid, _t in self.store.get(key) or ():
                score[sid] = score.get(sid, 0.0) + w
        ranked = sorted(score, key=lambda s: (-score[s], s))[:limit]
        if ranked and floor:
            cut = score[ranked[0]] * floor
            ranked = [s for s in ranked if score[s] >= cut]
        return ranked
