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

from monitor.enrich.bytetable import translate_keeping_letters
from monitor.enrich.entities import EntitySpec
from monitor.enrich.events import EventCatalog
from monitor.enrich.names import extract_names
from monitor.enrich.sentences import paragraph_spans
from monitor.enrich.watchlist import Watchlist
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
_TABLE_ASCII = bytes(ord(_TABLE[i]) if i in _TABLE else i for i in range(256))  # only ASCII is looked up
_TABLE_PAIRS = [(chr(k), v) for k, v in _TABLE.items()]


def _translate(s: str) -> str:
    """``s.translate(_TABLE)`` without its per-character dict lookups on
    non-ASCII text: a byte table for ASCII text, else each key present is
    replaced (every key maps to one character that is not itself a key)."""
    if s.isascii():
        return s.encode("ascii").translate(_TABLE_ASCII).decode("ascii")
    for char, repl in _TABLE_PAIRS:
        if char in s:
            s = s.replace(char, repl)
    return s


# whitespace runs other than a single space: the same matches as
# r"\s{2,}|[^\S ]", but the pattern opens with a character class, which the
# regex engine scans for in C (~1.5x faster than r"(?: \s|[^\S ])\s*")
_SPACE_RUN = re.compile(r"\s(?:(?<! )|\s)\s*")
_NON_ALNUM = re.compile(r"[\W_]")  # exactly the characters for which str.isalnum() is false
_ASCII_BOUNDARY = bytes(i if chr(i).isalnum() else 0x20 for i in range(128)) + b"\x20" * 128
_HONORIFIC = re.compile(r"^(Mr|Mrs|Ms|Dr|Gen|Sen|Rep|Gov|Pres|Prof|St)(\.?) ", re.IGNORECASE)


def _collapse(s: str) -> tuple[str, list[int], list[int]]:
    """Collapse whitespace runs to one space ("\\n" if the run holds a blank
    line, so that no alias matches across paragraphs). Returns the new
    string and breakpoints (new offset -> old offset) of a piecewise map."""
    parts, new_bp, old_bp = [], [0], [0]
    pos = new = 0
    for m in _SPACE_RUN.finditer(s):
        start, end = m.span()
        parts.append(s[pos:start])
        new += start - pos
        parts.append("\n" if s.count("\n", start, end) >= 2 else " ")
        new_bp += (new, new + 1)
        old_bp += (start, end)
        new += 1
        pos = end
    parts.append(s[pos:])
    return "".join(parts), new_bp, old_bp


def surface_form(s: str) -> str:
    """Normalize without casefolding: used to compare case-sensitive aliases."""
    return _collapse(_translate(s))[0].strip()


def fold(s: str) -> str:
    """The matching key of an alias (or of a title/text, modulo offsets)."""
    return surface_form(s).casefold()


class _Normalized:
    """Folded text plus a map from its offsets back to the original's."""

    def __init__(self, text: str) -> None:
        t = _translate(text)
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


def _boundary_form(s: str) -> str:
    """Every character that is not alphanumeric as a space (one for one, so
    offsets are kept): ``_NON_ALNUM.sub(" ", s)``, but through a byte table,
    then putting back the few non-ASCII letters (3-30x faster)."""
    return translate_keeping_letters(s, _ASCII_BOUNDARY)


def _pattern(key: str) -> tuple[str, int, int]:
    """The automaton pattern of a folded alias: its boundary form, with a
    space before it if it starts with an alphanumeric character and after it
    if it ends with one. Searched in " " + boundary form of the text + " ",
    such a pattern can only match where the alias sits on token boundaries
    (the character before and after is not alphanumeric, or the text ends),
    so matches inside longer words ("Kim" in "skimmed") never leave C.
    Returns (pattern, lead, trail): the padding on each side."""
    lead, trail = int(key[0].isalnum()), int(key[-1].isalnum())
    return " " * lead + _boundary_form(key) + " " * trail, lead, trail


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
        # keys with the same pattern ("o'neil", "o neil", "'kim'" and "kim")
        # share an entry; a key that is not all alphanumeric is checked
        # against the text (None: the pattern match is the check)
        by_pattern: dict[str, list[tuple[int, int, str | None, tuple[_Payload, ...]]]] = {}
        for key, payloads in keys.items():
            pattern, lead, trail = _pattern(key)
            by_pattern.setdefault(pattern, []).append(
                (len(pattern) - lead, trail, None if key.isalnum() else key, tuple(dict.fromkeys(payloads))))
        auto = ahocorasick.Automaton()
        for pattern, forms in by_pattern.items():
            auto.add_word(pattern, tuple(forms))
        auto.make_automaton()
        return cls(watchlist.entities, auto)

    def raw_hits(self, text: str) -> int:
        """Automaton matches in `text` before the case, exclude and (for keys
        with punctuation or spaces) exact-text checks: a diagnostic."""
        if self.automaton is None or not text:
            return 0
        return sum(1 for _ in self.automaton.iter(" " + _boundary_form(_Normalized(text).text) + " "))

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
        # index e in " " + boundary form + " " is e - 1 in the text, so a form
        # `span` characters long after its leading pad ends (exclusive) at
        # e - trail and starts at e - span
        for end_idx, forms in self.automaton.iter(" " + _boundary_form(s) + " "):
            for span, trail, key, payloads in forms:
                start, end = end_idx - span, end_idx - trail
                if key is not None and s[start:end] != key:
                    continue  # punctuation or space differs ("o-neil" vs "o'neil", "kim\njong")
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
        title = self._auto.hits(article.headline or "")
        named = {h[2] for h in (*body, *title) if h[3] == FULL}
        body_hits = _resolve(body, named)
        spans = paragraph_spans(text, article.paragraphs)
        if article.headline:
            headline = {h.entity for h in _resolve(title, named)}
        else:
            lead_end = spans[0][1] if spans else 0
            headline = {h.entity for h in body_hits if h.start < lead_end}

        mentions: dict[int, list[Mention]] = defaultdict(list)
        starts = [ps for ps, _ in spans]  # paragraph_of(spans, offset), without rebuilding this per mention
        for h in body_hits:
            mentions[h.entity].append(Mention(surface=text[h.start:h.end], start=h.start, end=h.end,
                                              paragraph=max(0, bisect.bisect_right(starts, h.start) - 1)))
        order = list(mentions) + sorted(headline - set(mentions))
        ents = self._auto.entities
        return [EntityTag(id=ents[i].id, type=ents[i].type, name=ents[i].name,
                          mentions=mentions.get(i, []), in_headline=i in headline) for i in order]

    def tag(self, article: Article) -> Article:
        """A copy of ``article`` with ``entities``, ``names`` and ``events`` filled in."""
        tagged = article.model_copy(update={"entities": self.tag_entities(article),
                                            "names": extract_names(article.headline, article.text)})
        return tagged.model_copy(update={"events": self.events.extract(tagged, self.watchlist)})
