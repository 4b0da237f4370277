"""Entity tagging: find watchlist entities in an article, then its events.

All aliases of all entities go into one Aho-Corasick automaton, so the cost
of tagging an article grows with its length (and the number of hits), not
with the size of the watchlist. Matching runs over a *normalized* copy of
the text (casefolded; dashes as spaces; curly quotes straightened;
whitespace runs collapsed) and every hit is mapped back to offsets in the
original text, so ``text[start:end] == surface`` always holds.

Headline rule: ``in_headline`` is true when the entity is named in
``Article.title``; articles without a title use their lead paragraph.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import ahocorasick

from monitor.enrich.events import EventCatalog
from monitor.enrich.sentences import paragraph_of, paragraph_spans
from monitor.enrich.watchlist import EntitySpec, Watchlist
from monitor.models import Article, EntityTag, Mention

FULL, SHORT, EXCLUDE = 0, 1, 2

_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_TABLE = str.maketrans(
    {**{c: " " for c in _DASHES},
     **{c: "'" for c in "\u2018\u2019\u201a\u201b\u2032\u02bc\uff07`´"},
     **{c: '"' for c in "\u201c\u201d\u201e\u201f\u2033\uff02«»"},
     **{c: " " for c in "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
                       "\u2008\u2009\u200a\u202f\u205f\u3000\t\r\f\v"}}
)
_SPACE_RUN = re.compile(r"\s{2,}|[^\S ]")
_HONORIFIC = re.compile(r"^(Mr|Mrs|Ms|Dr|Gen|Sen|Rep|Gov|Pres|Prof|St)(\.?) ", re.I)


def _collapse(s: str) -> tuple[str, list[int], list[int]]:
    """Collapse whitespace runs to one space ("\\n" if the run holds a blank
    line, so that no alias matches across paragraphs). Returns the new
    string and breakpoints (new offset -> old offset) of a piecewise map."""
    parts, new_bp, old_bp = [], [0], [0]
    pos = new = 0
    for m in _SPACE_RUN.finditer(s):
        run = m.group()
        if run == " ":
            continue
        parts.append(s[pos:m.start()])
        new += m.start() - pos
        parts.append("\n" if run.count("\n") >= 2 else " ")
        new_bp.append(new)
        old_bp.append(m.start())
        new += 1
        pos = m.end()
        new_bp.append(new)
        old_bp.append(pos)
    parts.append(s[pos:])
    return "".join(parts), new_bp, old_bp


def surface_form(s: str) -> str:
    """Normalize without casefolding: used to compare case-sensitive aliases."""
    return _collapse(s.translate(_TABLE))[0].strip()


def fold(s: str) -> str:
    """The matching key of an alias (or of a title/text, modulo offsets)."""
    return surface_form(s).casefold()


class _Normalized:
    """Folded text plus a map from its offsets back to the original's."""

    def __init__(self, text: str) -> None:
        t = text.translate(_TABLE)
        folded = t.casefold()
        self.char_map: list[int] | None = None
        if len(folded) != len(t):  # rare: "ß" -> "ss" etc.; map per character
            chars, cmap = [], []
            for i, c in enumerate(t):
                f = c.casefold()
                chars.append(f)
                cmap.extend([i] * len(f))
            folded, self.char_map = "".join(chars), cmap
        self.text, self._new, self._old = _collapse(folded)

    def orig(self, i: int) -> int:
        k = bisect.bisect_right(self._new, i) - 1
        j = self._old[k] + (i - self._new[k])
        return self.char_map[j] if self.char_map is not None else j


class _Payload(NamedTuple):
    entity: int
    kind: int
    cased: str | None  # exact surface form required, for case-sensitive aliases


class _Hit(NamedTuple):
    start: int
    end: int
    entity: int
    kind: int


def _is_acronym(alias: str) -> bool:
    letters = [c for c in alias if c.isalpha()]
    return 2 <= len(letters) <= 5 and all(c.isupper() for c in letters)


def _variants(alias: str) -> list[str]:
    """"Mr Kim" also as "Mr. Kim" and vice versa."""
    m = _HONORIFIC.match(alias)
    if not m:
        return [alias]
    other = alias.replace(m.group(0), f"{m.group(1)}{'' if m.group(2) else '.'} ", 1)
    return [alias, other]


@dataclass(frozen=True)
class _Automaton:
    entities: tuple[EntitySpec, ...]
    automaton: ahocorasick.Automaton | None

    @classmethod
    def build(cls, watchlist: Watchlist) -> _Automaton:
        keys: dict[str, list[_Payload]] = defaultdict(list)
        for idx, e in enumerate(watchlist.entities):
            cased_set = set(e.case_sensitive_aliases)
            groups = ((FULL, e.full_aliases()), (SHORT, e.requires_context), (EXCLUDE, e.exclude))
            for kind, forms in groups:
                for alias in forms:
                    for variant in _variants(alias):
                        key = fold(variant)
                        if not key:
                            continue
                        cased = kind != EXCLUDE and (
                            e.case_sensitive or alias in cased_set or _is_acronym(alias))
                        keys[key].append(_Payload(idx, kind, surface_form(variant) if cased else None))
        if not keys:
            return cls(watchlist.entities, None)
        auto = ahocorasick.Automaton()
        for key, payloads in keys.items():
            auto.add_word(key, (len(key), tuple(dict.fromkeys(payloads))))
        auto.make_automaton()
        return cls(watchlist.entities, auto)

    def hits(self, text: str) -> list[tuple[int, int, int, int]]:
        """(orig_start, orig_end, entity, kind) for every alias occurrence
        that sits on token boundaries, has the right case, and is not inside
        an ``exclude`` phrase of its entity. Overlaps are resolved later."""
        if self.automaton is None or not text:
            return []
        norm = _Normalized(text)
        s = norm.text
        raw: list[tuple[int, int, int, int]] = []
        excluded: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for end_idx, (length, payloads) in self.automaton.iter(s):
            start, end = end_idx - length + 1, end_idx + 1
            if (s[start].isalnum() and start > 0 and s[start - 1].isalnum()) or (
                s[end - 1].isalnum() and end < len(s) and s[end].isalnum()):
                continue
            o_start, o_end = norm.orig(start), norm.orig(end - 1) + 1
            surface = None
            for p in payloads:
                if p.cased is not None:
                    surface = surface if surface is not None else surface_form(text[o_start:o_end])
                    if surface != p.cased:
                        continue
                if p.kind == EXCLUDE:
                    excluded[p.entity].append((o_start, o_end))
                else:
                    raw.append((o_start, o_end, p.entity, p.kind))
        if excluded:
            raw = [h for h in raw if not any(a <= h[0] and h[1] <= b for a, b in excluded.get(h[2], ()))]
        return raw


def _resolve(hits: list[tuple[int, int, int, int]], named: set[int]) -> list[_Hit]:
    """Drop short forms of entities the article never names in full, then pick
    non-overlapping spans: full aliases before short forms, longer before
    shorter, earlier before later ("Leader Kim Jong Un" -> "Kim Jong Un").
    Several entities sharing one exact span are all kept."""
    ok = sorted((h for h in hits if h[3] == FULL or h[2] in named),
                key=lambda h: (h[3] == SHORT, h[0] - h[1], h[0]))
    starts: list[int] = []  # accepted spans, sorted by start
    spans: list[tuple[int, int]] = []
    out: list[_Hit] = []
    for start, end, entity, kind in ok:
        i = bisect.bisect_left(starts, start)
        same = i < len(spans) and spans[i] == (start, end)
        clash = (i > 0 and spans[i - 1][1] > start) or (i < len(spans) and spans[i][0] < end)
        if same or not clash:
            if not same:
                starts.insert(i, start)
                spans.insert(i, (start, end))
            out.append(_Hit(start, end, entity, kind))
    out.sort(key=lambda h: (h.start, h.entity))
    return list(dict.fromkeys(out))


class Tagger:
    """Tags entities (watchlist + country gazetteer) and events in articles."""

    def __init__(self, watchlist: Watchlist, event_catalog: EventCatalog | None = None) -> None:
        self.watchlist = watchlist
        self.events = event_catalog if event_catalog is not None else EventCatalog.builtin()
        self._auto = _Automaton.build(watchlist)

    @classmethod
    def from_rules_dir(cls, rules_dir: Path | str) -> Tagger:
        """Watchlists from ``<dir>/watchlists``, events from the built-ins plus ``<dir>/events``."""
        return cls(Watchlist.from_rules_dir(rules_dir), EventCatalog.from_rules_dir(rules_dir))

    def tag_entities(self, article: Article) -> list[EntityTag]:
        text = article.text
        body = self._auto.hits(text)
        title = self._auto.hits(article.title or "")
        named = {h[2] for h in (*body, *title) if h[3] == FULL}
        body_hits = _resolve(body, named)
        spans = paragraph_spans(text, article.paragraphs)
        if article.title:
            headline = {h.entity for h in _resolve(title, named)}
        else:
            lead_end = spans[0][1] if spans else 0
            headline = {h.entity for h in body_hits if h.start < lead_end}

        mentions: dict[int, list[Mention]] = defaultdict(list)
        for h in body_hits:
            mentions[h.entity].append(Mention(surface=text[h.start:h.end], start=h.start, end=h.end,
                                              paragraph=paragraph_of(spans, h.start)))
        order = list(mentions) + sorted(headline - set(mentions))
        ents = self._auto.entities
        return [EntityTag(id=ents[i].id, type=ents[i].type, name=ents[i].name,
                          mentions=mentions.get(i, []), in_headline=i in headline) for i in order]

    def tag(self, article: Article) -> Article:
        """A copy of ``article`` with ``entities`` and ``events`` filled in."""
        tagged = article.model_copy(update={"entities": self.tag_entities(article)})
        return tagged.model_copy(update={"events": self.events.extract(tagged, self.watchlist)})
