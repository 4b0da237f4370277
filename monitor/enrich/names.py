# Over 500 lines: the name grammar (runs, joiners, titles), folding and kind guessing share one lexicon and change together.
"""Open-vocabulary names: the salient people, organizations and places of an
article, whether or not a watchlist lists them.

Watched entities alone cannot tell one earthquake from another, or group the
reports of an event nobody watches; the names an article is *about* can. A
careful heuristic is used rather than a statistical tagger: it runs on every
article at streaming rates, needs no model download, and is deterministic.

How it works, per article:

1. Candidates are runs of capitalised words joined by spaces, with a few
   lowercase connectors inside ("Bank of England", "Bashar al-Assad",
   "Ursula von der Leyen"); a run is cut at a possessive ("Russia's Vladimir
   Putin" -> "Russia", "Vladimir Putin") and at a sentence end.
2. Leading determiners ("The Hague" -> "Hague") and titles or honorifics
   ("President", "Prime Minister", "Gen.", "Mr") are stripped; a title marks
   the name as a person. A country or demonym before a title is kept as a
   place of its own ("Russian President Vladimir Putin").
3. Weekdays, months, pronouns and common sentence starters are rejected; a
   single word seen only at the start of sentences is dropped when it looks
   like a common word (written in lowercase elsewhere in the article, or
   ending like "-ly", "-ing", "-ers" or a plural), unless it is a known place.
4. Variants fold to one key: case, accents, hyphens and dots do not count
   ("Kim Jong-un" == "Kim Jong Un" -> ``kim jong un``); a country's names and
   demonyms fold to the country ("North Korean" -> ``north korea``); a single
   word that is the first or last word of a longer person-like name folds
   into it ("Kim", "Assad").
5. ``kind`` is a cheap guess: the country gazetteer, ISO subdivisions,
   state abbreviations ("Calif."), place words ("Gulf of", "Province") and
   prepositions ("in X") make a place; institution words, a country before
   other words ("Indian Navy") and team-like plurals make an organization;
   titles, "X said", a surname used alone, or two to four plain words make
   a person.

Names are sorted by salience (mentions, headline, lead, length) and capped.
The word lists live in ``data/names.yaml``. Repeated runs of capitalised
words are analysed once (an LRU cache), so the cost per article stays well
below the rest of tagging; ``bench/stories_quality.py`` measures it, and the
quality against ECB+ gold mentions.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import pycountry

from monitor.enrich.gazetteer import DATA as COUNTRIES_YAML
from monitor.enrich.gazetteer import country_entities
from monitor.models import NameTag, fold_name  # fold_name: NameTag.key, also for rules
from monitor.yamldoc import read_yaml

DEFAULT_LIMIT = 20
_MAX_WORDS = 12  # "Fundamentalist Church of Jesus Christ of Latter Day Saints" is 10

_UPPER = "A-ZÀ-ÖØ-ÞĀĂĄĆĈĊČĎĐĒĔĖĘĚĜĞĠĢĤĦĨĪĬĮİĴĶĹĻĽĿŁŃŅŇŊŌŎŐŒŔŖŘŚŜŞŠŢŤŦŨŪŬŮŰŲŴŶŸŹŻŽ"
_WORD_REST = r"[\w'’]*(?:[-.][\w'’]+)*"
_WORD = rf"[{_UPPER}]{_WORD_REST}"
_PREFIXED = rf"(?:al|el|ad|as|ash|at|an|ul|bin|ibn|abu|abd|d)[-'’][{_UPPER}][\w'’]*(?:-[\w'’]+)*"
_TOKEN = rf"(?:{_WORD}|{_PREFIXED})"
_CONNECTOR = r"(?:of|the|bin|bint|ibn|al|el|de|da|del|della|di|du|van|von|der|den|la|le|dos|das|y|for|&)"
_MORE_TOKENS = rf"(?:\.?[ \t]+(?:{_CONNECTOR}[ \t]+){{0,2}}{_TOKEN})*"
_RUN = re.compile(rf"(?<![\w'’-]){_TOKEN}{_MORE_TOKENS}")
# The same runs in a text where none starts with a prefixed token ("al-Assad"
# opening a run): this pattern opens with a character class, which the regex
# engine scans for in C instead of trying the lookbehind at every position
# (~2x faster over an article). ``_runs`` picks one of the two.
_RUN_UPPER = re.compile(rf"[{_UPPER}](?<![\w'’-].){_WORD_REST}{_MORE_TOKENS}")
_PREFIXED_AT = re.compile(rf"(?<![\w'’-]){_PREFIXED}")
_UPPER_SET = frozenset(c for c in map(chr, range(0x250)) if re.fullmatch(f"[{_UPPER}]", c))
_PIECE = re.compile(rf"{_TOKEN}|(?<![\w'’-]){_CONNECTOR}(?![\w'’-])|\.")
_PREFIX_START = re.compile(r"[a-z]{1,3}[-'’]")
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")

LEXICON = Path(__file__).with_name("data") / "names.yaml"
_LEX: dict[str, Any] = read_yaml(LEXICON).data


def _words(name: str) -> frozenset[str]:
    return frozenset(_LEX[name].split())


_DETERMINERS = frozenset(("the", "a", "an"))
_COMMON = _words("common")
_DROPPABLE = _DETERMINERS | _COMMON
_MONTHS_DAYS = _words("months_days")
_MAY_CUES = frozenset(("in", "on", "of", "since", "until", "by", "early", "late", "mid", "last", "next", "this"))
_ABBREV = _words("abbreviations")
_TITLES = frozenset(tuple(t.strip().split()) for line in _LEX["titles"] for t in line.split(","))
_TITLE_MAX = max(len(t) for t in _TITLES)
_TITLE_FIRST = frozenset(t[0] for t in _TITLES)
_ORG_WORDS = _words("organization_words")
_PLACE_WORDS = _words("place_words")
_PLACE_FIRST = _words("place_first_words")
_PLACE_CUES = _words("place_cues")
_PERSON_CUES = _words("person_cues")
_COMMON_SUFFIXES = tuple(_LEX["common_suffixes"].split())
_US_STATES: dict[str, str] = _LEX["us_states"]
_US_STATE_NAMES = frozenset(v.lower() for v in _US_STATES.values())


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[dict[str, str], frozenset[str]]:
    """(country form key -> country display name, other place keys): the
    country table of the built-in gazetteer; capitals and ISO subdivisions
    are places under their own name."""
    extra = read_yaml(COUNTRIES_YAML).data or {}
    capitals = {fold_name(c) for info in extra.values() for c in info.get("capitals", [])}
    countries: dict[str, str] = {}
    for e in country_entities():
        for form in (e.name, *e.aliases):
            key = fold_name(form)
            if (key and key not in capitals and len(key) > 2) or form.isupper():
                countries.setdefault(key, e.name)
    places = set(capitals)
    for sub in pycountry.subdivisions:
        places.add(fold_name(sub.name))
    places -= _COMMON
    return countries, frozenset(places)


@lru_cache(maxsize=1)
def _country_first_words() -> frozenset[str]:
    return frozenset(k.split()[0] for k in _gazetteer()[0])


class _Stat:
    __slots__ = ("count", "first", "in_headline", "initial_only", "key", "members", "plain", "surfaces", "votes")

    def __init__(self, key: str, first: int) -> None:
        self.key, self.first = key, first
        self.surfaces: dict[str, int] = {}
        self.count = 0
        self.in_headline = False
        self.initial_only = True
        self.plain = False
        self.votes: dict[str, int] = {}
        self.members = {key}


@dataclass
class _Cand:
    tokens: list[tuple[str, int, int]]  # (word, start, end) in the source text
    initial: bool


def _strip_possessive(word: str) -> tuple[str, bool]:
    if word[-1] not in "s'’":
        return word, False
    m = _POSSESSIVE.search(word)
    if m and len(word) > len(m.group()) + 1:
        return word[: m.start()], True
    return word, False


_BREAKS = frozenset(" \t\"'“‘([«.!?:;\n•|")  # what may stand before a sentence start


def _runs(text: str) -> Iterator[re.Match[str]]:
    """``_RUN.finditer(text)``; through ``_RUN_UPPER`` unless a prefixed token
    (a prefix, then a hyphen or apostrophe and a capital) may open a run."""
    for mark in "-'’":
        i = text.find(mark, 1)
        while i != -1:
            if text[i + 1:i + 2] in _UPPER_SET and any(
                    _PREFIXED_AT.match(text, j) for j in range(max(0, i - 3), i)):
                return _RUN.finditer(text)
            i = text.find(mark, i + 1)
    return _RUN_UPPER.finditer(text)


def _is_sentence_start(text: str, pos: int) -> bool:
    i, quoted = pos - 1, False
    while i >= 0 and text[i] in " \t\"'“‘([«":
        quoted = quoted or text[i] in "\"'“‘«"
        i -= 1
    return i < 0 or quoted or text[i] in ".!?:;\n•|"


def _split_run(group: str, initial: bool) -> list[_Cand]:
    """One run of capitalised words -> candidates (offsets relative to the
    run), split at possessives, sentence ends and "X of Y" that is two names."""
    out: list[_Cand] = []
    if " " not in group and "\t" not in group:  # one word: the common case
        word, _ = _strip_possessive(group)
        return [_Cand([(word, 0, len(word))], initial)]
    cur: list[tuple[str, int, int]] = []
    pending: list[tuple[str, int, int]] = []
    prev_word, after_dot = "", False
    for piece in _PIECE.finditer(group):
        word, start = piece.group(), piece.start()
        if word == ".":
            if len(prev_word) == 1 or prev_word.lower() in _ABBREV or "." in prev_word:
                after_dot = True
                continue  # "J. Smith", "Gen. Milley", "U.S. Army"
            if cur:
                out.append(_Cand(cur, initial))
            cur, pending, initial = [], [], True
            continue
        if word[0].islower() and not _PREFIX_START.match(word):
            if cur:
                pending.append((word, start, start + len(word)))
            continue
        word, possessive = _strip_possessive(word)
        if cur and ((after_dot and word.lower() in _COMMON)  # "in the U.S. Officials said"
                    or (pending and not _joins(cur, pending))):
            out.append(_Cand(cur, initial))  # "for" joins only "Center for ...", not "Seoul for Russia"
            cur, initial = [], initial and after_dot
        after_dot = False
        if cur:
            cur.extend(pending)
        pending = []
        cur.append((word, start, start + len(word)))
        prev_word = word
        if possessive:
            out.append(_Cand(cur, initial))
            cur, initial = [], False
    if cur:
        out.append(_Cand(cur, initial))
    return out


def _joins(cur: list[tuple[str, int, int]], connectors: list[tuple[str, int, int]]) -> bool:
    """Whether "X <connectors> Y" is one name: "Bank of England", "Gulf of
    Mexico", "Center for X", "Bashar al ..." -- but not "Theresa Quill of
    Dunmore" or "Seoul for Busan"."""
    first = connectors[0][0]
    if first not in ("of", "for", "the", "&"):
        return True  # particles of personal names: "bin", "von der", "de"
    last = cur[-1][0].lower()
    if last in _ORG_WORDS or last in _PLACE_WORDS:
        return True
    return first == "of" and len([t for t in cur if t[0][0].isupper()]) == 1


def _strip_title(words: list[str]) -> tuple[int, bool]:
    """How many leading words form titles (repeatedly: "Former Vice President")."""
    i, person = 0, False
    while i < len(words) and words[i].lower().rstrip(".") in _TITLE_FIRST:
        for n in range(min(_TITLE_MAX, len(words) - i), 0, -1):
            if tuple(w.lower().rstrip(".") for w in words[i:i + n]) in _TITLES:
                i += n
                person = True
                break
        else:
            break
    return i, person


def _clean(cand: _Cand, countries: dict[str, str]) -> list[tuple[list[tuple[str, int, int]], bool, bool | None]]:
    """Split a candidate into (tokens, initial, person) names: determiners,
    titles and leading country words peeled off. ``person`` is True after a
    title, None for the affiliation before an inner title ("Apple" in "Apple
    VP Phil Schiller"), else False."""
    toks = cand.tokens
    initial = cand.initial
    out = []
    while toks and toks[0][0].lower() in _DROPPABLE and (
            toks[0][0].lower() in _DETERMINERS or initial or len(toks) == 1):
        toks = toks[1:]
        initial = False
    # a country or demonym before a title: its own place name
    first = fold_name(toks[0][0]) if toks else ""
    for n in (3, 2, 1) if first and first.split()[0] in _country_first_words() else ():
        if len(toks) > n and fold_name(" ".join(t[0] for t in toks[:n])) in countries:
            if _strip_title([t[0] for t in toks[n:]])[0]:
                out.append((toks[:n], initial, False))
                toks, initial = toks[n:], False
            break
    cut, person = _strip_title([t[0] for t in toks])
    if cut:
        toks, initial = toks[cut:], False
    else:  # a title inside: "Philadelphia Homicide Capt. James Clark" -> "Philadelphia Homicide", "James Clark"
        for i in range(1, len(toks) - 1):
            if toks[i][0].lower().rstrip(".") in _TITLE_FIRST and toks[i - 1][0][:1].isupper():
                cut, person = _strip_title([t[0] for t in toks[i:]])
                if cut and i + cut < len(toks):
                    out.append((toks[:i], initial, None))  # an affiliation: "Apple VP", "Red Sox manager"
                    toks, initial = toks[i + cut:], False
                    break
                person = False
    # weekdays and months split a run ("Monday" in "Putin Monday")
    part: list[tuple[str, int, int]] = []
    for t in toks:
        if t[0].lower() in _MONTHS_DAYS:
            if part:
                out.append((part, initial, person))
            part, initial = [], False
        else:
            part.append(t)
    if part:
        out.append((part, initial, person))
    # connectors never start or end a name
    cleaned = []
    for ts, ini, per in out:
        while ts and not ts[0][0][0].isupper() and "-" not in ts[0][0]:
            ts = ts[1:]
        while ts and not ts[-1][0][0].isupper() and "-" not in ts[-1][0]:
            ts = ts[:-1]
        if ts:
            cleaned.append((ts, ini, per))
    return cleaned


class _Piece(NamedTuple):
    """One name found in a run, with everything that does not depend on context."""

    start: int  # relative to the run
    end: int
    key: str
    surface: str
    initial: bool
    person: bool  # a title was stripped
    country: bool
    votes: tuple[tuple[str, int], ...]
    words: int
    plain: bool  # 2-3 capitalised words, no institution or place word: person-like
    may: bool  # the single word "May": the month or a name, by context
    abbrev: bool  # a state abbreviation: a name only when a period follows ("Calif.")
    strong: bool  # the words alone settle the kind: context cues are not needed


@lru_cache(maxsize=32768)
def _analyse(group: str, initial: bool) -> tuple[_Piece, ...]:
    countries, places = _gazetteer()
    out = []
    for cand in _split_run(group, initial):
        if len(cand.tokens) > _MAX_WORDS:
            continue  # a Title Case or capitals line, not a name (and no quadratic work on it)
        for toks, ini, person in _clean(cand, countries):
            words = [t[0] for t in toks]
            lower = [w.lower().rstrip(".") for w in words]
            if len(words) >= 3 and all(w.isupper() for w in words):
                continue  # a headline in capitals, not a name
            if len(words) == 1 and (lower[0] in _COMMON or len(words[0]) < 2 or words[0].isdigit()):
                continue
            start, end = toks[0][1], toks[-1][2]
            surface = group[start:end]
            key = fold_name(surface)
            if not key:
                continue
            state = _US_STATES.get(key) if len(words) == 1 else None
            country = countries.get(key)
            if state is not None:
                key, surface = fold_name(state), state
            elif country is not None:
                key, surface = fold_name(country), country
            votes: Counter[str] = Counter()
            if country is not None:
                votes["place"] += 5
            if person:
                votes["person"] += 3
            elif person is None:
                votes["organization"] += 1
            if (key in places or state is not None or lower[-1] in _PLACE_WORDS
                    or (len(words) > 1 and lower[0] in _PLACE_WORDS)):  # "Gulf of Aden", "Lake Orlo"
                votes["place"] += 3
            elif len(words) > 1 and lower[0] in _PLACE_FIRST:
                votes["place"] += 1  # "Los Angeles", "San Diego", "New Orleans"
            if any(w in _ORG_WORDS for w in lower):
                votes["organization"] += 3
            elif len(words) == 1 and words[0].isupper() and 2 <= len(words[0]) <= 6:
                votes["organization"] += 1
            if len(words) > 1 and votes["place"] < 3 and not votes["organization"]:
                head = fold_name(words[0])
                if head in countries or head in _US_STATE_NAMES:
                    votes["organization"] += 2  # "California Highway Patrol", "Indian Navy"
                elif (lower[-1].endswith("s") and not lower[-1].endswith(("ss", "us", "is"))
                      and not (len(words) == 2 and lower[0] in _PLACE_FIRST)):
                    votes["organization"] += 1  # "New Orleans Saints", "Tar Heels"
            plain = (2 <= len(words) <= 4 and not votes and all(
                w[:1].isupper() and (not w.isupper() or len(w.rstrip(".")) == 1)  # "W. Mark Felt"
                and w.replace("-", "").rstrip(".").isalpha() for w in words))
            out.append(_Piece(start, end, key, surface, ini, person, country is not None,
                              tuple(sorted(votes.items())), len(words), plain, lower == ["may"],
                              state is not None, max(votes.values(), default=0) >= 3))
    return tuple(out)


def _is_month_may(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - 12):start].split()
    after = text[end:end + 4].strip()
    return bool(before and (before[-1].lower() in _MAY_CUES or before[-1].isdigit())) or after[:1].isdigit()


@lru_cache(maxsize=8192)
def _vote_before(window: str) -> tuple[str, int] | None:
    """The kind the word before a name votes for: "in X" (place), "leader X"
    (person). ``window``: the 12 characters before the name (news repeats
    them: "said on ", " visit to ", so the answer is cached)."""
    before = window.rsplit(None, 1)
    prev = before[-1] if before and not window[-1:].isalnum() else ""
    if prev:
        lp = prev.lower()
        if lp in _PLACE_CUES:
            return "place", 1
        if prev.islower() and (lp.rstrip(".,"),) in _TITLES:
            return "person", 2  # "leader Kim Jong Un", "spokesman Dmitry Peskov"
    return None


@lru_cache(maxsize=8192)
def _person_after(window: str) -> bool:
    """Whether the 12 characters after a name of two words or more start
    with a person cue ("X said")."""
    after = window.lstrip(" ,").split(None, 1)
    return bool(after) and after[0].lower() in _PERSON_CUES


# runs that give no name whether or not they start a sentence (bounded like _analyse's cache)
_NEVER_A_NAME: set[str] = set()
_NEVER_MAX = 32768


def extract_names(title: str | None, text: str, *, limit: int = DEFAULT_LIMIT) -> list[NameTag]:
    """The salient open-vocabulary names of an article, most salient first.

    ``title`` may be None; the body is ``text`` (``Article.text``). A name
    seen in the title counts as a mention and sets ``in_headline``; a
    title in Title Case (most words capitalised) is only matched against the
    names of the body, never mined for new ones. At most ``limit`` names.
    Pure and deterministic: the same input always gives the same list.
    """
    _, places = _gazetteer()
    stats: dict[str, _Stat] = {}
    title = title or ""
    title_case = _is_title_case(title)
    sources = [(text, False)] + ([(title, True)] if title and not title_case else [])
    analyse, get, vote_before, person_after = _analyse, stats.get, _vote_before, _person_after
    never = _NEVER_A_NAME
    if len(never) > _NEVER_MAX:
        never.clear()
    for src, headline in sources:
        for run in _runs(src):
            group = run.group()
            if group in never:  # "The", "According", "Monday": no name wherever it stands
                continue
            base = run.start()
            before = src[base - 2:base] if base >= 2 else ""
            initial = not (before[-1:] == " " and before[0] not in _BREAKS) and _is_sentence_start(src, base)
            pieces = analyse(group, initial)
            if not pieces and not analyse(group, not initial):
                never.add(group)
                continue
            for (p_start, p_end, key, surface, p_initial, _, _, p_votes, words, plain, may, abbrev,
                 strong) in pieces:
                start, end = base + p_start, base + p_end
                if (may and _is_month_may(src, start, end)) or (abbrev and src[end:end + 1] != "."):
                    continue
                stat = get(key)
                if stat is None:
                    stat = stats[key] = _Stat(key, -1 if headline else start)
                stat.count += 1
                surfaces = stat.surfaces
                surfaces[surface] = surfaces.get(surface, 0) + 1
                if headline:
                    stat.in_headline = True
                if plain:
                    stat.plain = True
                if not p_initial or headline or words > 1:
                    stat.initial_only = False
                if p_votes:
                    votes = stat.votes
                    for kind, n in p_votes:
                        votes[kind] = votes.get(kind, 0) + n
                if not strong:  # cheap cues around the mention: "in X", "leader X", "X said"
                    votes = stat.votes
                    vote = vote_before(src[start - 12 if start > 12 else 0:start])
                    if vote is not None:
                        votes[vote[0]] = votes.get(vote[0], 0) + vote[1]
                    if words >= 2 and person_after(src[end:end + 12]):
                        votes["person"] = votes.get("person", 0) + 1
    _fold_short_forms(stats, places)
    if title and title_case:
        folded_title = f" {fold_name(title)} "
        for stat in stats.values():
            if any(f" {m} " in folded_title for m in stat.members):
                stat.in_headline = True
                stat.count += 1
    kept = [s for s in stats.values() if not (s.initial_only and _looks_common(s, text, places))]
    lead = len(text.split("\n\n", 1)[0])

    def salience(s: _Stat) -> tuple[float, int]:
        score = s.count + 3 * s.in_headline + (1 if 0 <= s.first < lead else 0) + 0.5 * (" " in s.key)
        return (-score, s.first)

    kept.sort(key=salience)
    return [NameTag(key=s.key, name=_display(s), kind=_kind(s), count=s.count, in_headline=s.in_headline)
            for s in kept[:limit]]


def _looks_common(s: _Stat, text: str, places: frozenset[str]) -> bool:
    """A word only ever seen starting a sentence: a common word ("Rescuers",
    "Speaking") unless it is a known place or never written in lowercase."""
    if s.key in places or s.votes.get("place", 0) >= 5:
        return False
    if s.key.endswith(_COMMON_SUFFIXES) or (s.key.endswith("s") and not s.key.endswith(("ss", "us", "is"))):
        return True  # "Speaking", "Rescuers", "Shares" (a plural noun)
    key, i = s.key, text.find(s.key)
    while i >= 0:  # written in lowercase somewhere, as a word of its own
        j = i + len(key)
        if (i == 0 or not text[i - 1].isalnum()) and (j == len(text) or not text[j].isalnum()):
            return True
        i = text.find(key, j)
    return False


def _is_title_case(title: str) -> bool:
    words = [w for w in re.findall(r"[^\W\d_][\w'’-]*", title) if w.lower() not in _COMMON]
    if len(words) < 3:
        return False
    return sum(w[0].isupper() for w in words) / len(words) >= 0.8


def _fold_short_forms(stats: dict[str, _Stat], places: frozenset[str]) -> None:
    """Fold a one-word name into the longer name whose first or last word it
    is ("Kim" -> "kim jong un", "Assad" -> "bashar al assad"); with several
    such names, the most mentioned wins. Places never absorb short forms."""
    long_names = [s for s in stats.values() if " " in s.key and s.votes.get("place", 0) < 3
                  and s.votes.get("organization", 0) < 3]
    by_word: dict[str, list[_Stat]] = {}
    for s in long_names:
        parts = s.key.split()
        for w in {parts[0], parts[-1]}:
            by_word.setdefault(w, []).append(s)
    for key in [k for k in stats if " " not in k]:
        short = stats[key]
        targets = by_word.get(key)
        if not targets or key in places or short.votes.get("place", 0) >= 3:
            continue
        target = min(targets, key=lambda s: (-s.count, s.first))
        target.count += short.count
        target.in_headline |= short.in_headline
        for kind, n in short.votes.items():
            target.votes[kind] = target.votes.get(kind, 0) + n
        target.votes["person"] = target.votes.get("person", 0) + 1  # a surname or given name alone
        target.members |= short.members
        target.first = min(target.first, short.first) if short.first >= 0 else target.first
        target.initial_only = target.initial_only and short.initial_only
        del stats[key]


def _display(s: _Stat) -> str:
    """The most complete surface form: most words, then most frequent."""
    if len(s.surfaces) == 1:
        return next(iter(s.surfaces))
    return min(s.surfaces, key=lambda f: (-len(f.split()), -s.surfaces[f], f))


def _kind(s: _Stat) -> str:
    if not s.votes:
        return "person" if s.plain else "other"  # "Matt Smith", "W. Mark Felt": plain words
    if len(s.votes) == 1:
        return next(iter(s.votes))
    return min(s.votes.items(), key=lambda kv: (-kv[1], kv[0]))[0]
