"""The story indexes: evidence key -> live stories, article id -> story.

Both are *derived* data, kept in memory and never written to a table:
``StoryIndex`` is rebuilt from the story profiles (each lists the keys it is
``posted`` under) and ``article_index`` from the report buckets (each report
names its article). A restarted worker rebuilds them from the recovered
``stories`` and ``story_reports`` tables, which saves the ~10 changelog
records per article the stored postings and article index cost.

Candidates for an article are looked up through its own keys, never by
scanning the live stories, so the cost per article depends on how many keys
it has and how many stories a key is read for (``POSTING_CAP``), not on how
many stories are live. A key shared by more stories than the cap (a leader,
a common word) is read for the newest stories only (by ``first_seen``, then
id): such a key proves little anyway, and a story is also posted under its
rarer keys. The order is a function of the profiles alone, so a rebuilt
index reads the same stories as one kept since the start.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from monitor.state import paused_gc
from monitor.stories.record import report_article

POSTING_CAP = 48


class StoryIndex:
    """key -> [(first_seen, story id), ...] in ascending order; the last ``cap`` are read."""

    def __init__(self, cap: int = POSTING_CAP) -> None:
        self.cap = cap
        self.postings: dict[str, list[tuple[float, str]]] = {}

    @classmethod
    def build(cls, stories: Mapping[str, Any], cap: int = POSTING_CAP) -> StoryIndex:
        """The index of the live stories (profiles with ``posted`` keys)."""
        index = cls(cap)
        for _ in index.fill(list(stories.items()), len(stories) or 1):
            pass
        return index

    def fill(self, stories: list[tuple[str, Any]], chunk: int) -> Iterator[None]:
        """Post the given (id, profile) items, ``chunk`` at a time (yields between slices)."""
        postings = self.postings
        for at in range(0, len(stories), chunk):
            with paused_gc():
                for sid, story in stories[at:at + chunk]:
                    if story is None or "posted" not in story:
                        continue  # an older profile: never joined again (see clusterer._current)
                    entry = (story["first_seen"], sid)
                    for key in story["posted"]:
                        postings.setdefault(key, []).append(entry)
            yield
        for entries in postings.values():
            entries.sort()

    def post(self, sid: str, keys: Iterable[str], first_seen: float) -> None:
        """Post story ``sid`` (created at ``first_seen``) under ``keys``."""
        entry = (first_seen, sid)
        for key in keys:
            entries = self.postings.get(key)
            if entries is None:
                self.postings[key] = [entry]
            else:
                bisect.insort(entries, entry)

    def unpost(self, sid: str, keys: Iterable[str], first_seen: float) -> None:
        entry = (first_seen, sid)
        for key in keys:
            entries = self.postings.get(key)
            if not entries:
                continue
            at = bisect.bisect_left(entries, entry)
            if at < len(entries) and entries[at] == entry:
                del entries[at]
                if not entries:
                    del self.postings[key]

    def stories(self, key: str) -> list[str]:
        """The story ids read for ``key``, newest first."""
        return [sid for _, sid in reversed(self.postings.get(key, ())[-self.cap:])]

    def candidates(self, weights: dict[str, float], limit: int, floor: float = 0.0) -> list[str]:
        """Story ids posted under the given keys, the ``limit`` best by the
        summed weight of the keys they share with the article; those below
        ``floor`` times the best one's weight are left out (a story met only
        through a common key, when others share rare ones)."""
        score: dict[str, float] = {}
        cap = self.cap
        for key, w in weights.items():
            entries = self.postings.get(key)
            if not entries:
                continue
            for _, sid in entries[-cap:]:
                score[sid] = score.get(sid, 0.0) + w
        ranked = sorted(score, key=lambda s: (-score[s], s))[:limit]
        if ranked and floor:
            cut = score[ranked[0]] * floor
            ranked = [s for s in ranked if score[s] >= cut]
        return ranked


def article_index(stories: Mapping[str, Any], reports: Mapping[str, Any]) -> dict[str, str]:
    """article id -> story id, from the report buckets (``"<sid>/<n>"`` ->
    reports) of the live stories, and the ``articles`` of older profiles."""
    index: dict[str, str] = {}
    for _ in fill_article_index(index, list(stories.items()), list(reports.items()), len(reports) + len(stories) or 1):
        pass
    return index


def fill_article_index(index: dict[str, str], stories: list[tuple[str, Any]], reports: list[tuple[str, Any]],
                       chunk: int) -> Iterator[None]:
    """``article_index`` into ``index``, ``chunk`` items at a time (yields between slices)."""
    for at in range(0, len(reports), chunk):
        for key, bucket in reports[at:at + chunk]:
            sid = key.rpartition("/")[0]
            for report in bucket or ():
                index.setdefault(report_article(report), sid)
        yield
    for at in range(0, len(stories), chunk):
        for sid, story in stories[at:at + chunk]:
            if story is not None and "posted" not in story:
                for aid in story.get("articles") or ():
                    index.setdefault(aid, sid)
        yield
