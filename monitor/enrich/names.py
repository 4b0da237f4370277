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
   single word seen only at the start of sentences is kept only if it is a
   known place or a short form of a longer name in the article.
4. Variants fold to one key: case, accents, hyphens and dots do not count
   ("Kim Jong-un" == "Kim Jong Un" -> ``kim jong un``); a country's names and
   demonyms fold to the country ("North Korean" -> ``north korea``); a single
   word that is the first or last word of a longer person-like name folds
   into it ("Kim", "Assad").
5. ``kind`` is a cheap guess: the country gazetteer and ISO subdivisions, or
   place words ("Province") and prepositions ("in X") make a place; company
   and institution words make an organization; titles and "X said" make a
   person.

Names are sorted by salience (mentions, headline, lead, length) and capped.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import pycountry

from monitor.enrich.gazetteer import DATA as COUNTRIES_YAML
from monitor.enrich.gazetteer import country_entities
from monitor.enrich.yamlfile import read_yaml
from monitor.models import NameTag

DEFAULT_LIMIT = 20

_UPPER = "A-ZÀ-ÖØ-ÞĀĂĄĆĈĊČĎĐĒĔĖĘĚĜĞĠĢĤĦĨĪĬĮİĴĶĹĻĽĿŁŃŅŇŊŌŎŐŒŔŖŘŚŜŞŠŢŤŦŨŪŬŮŰŲŴŶŸŹŻŽ"
_WORD = rf"[{_UPPER}][\w'’]*(?:[-.][\w'’]+)*"
_PREFIXED = rf"(?:al|el|ad|as|ash|at|an|ul|bin|ibn|abu|abd|d)[-'’][{_UPPER}][\w'’]*(?:-[\w'’]+)*"
_TOKEN = rf"(?:{_WORD}|{_PREFIXED})"
_CONNECTOR = r"(?:of|the|bin|bint|ibn|al|el|de|da|del|della|di|du|van|von|der|den|la|le|dos|das|y|for|&)"
_RUN = re.compile(rf"(?<![\w'’-]){_TOKEN}(?:\.?[ \t]+(?:{_CONNECTOR}[ \t]+){{0,2}}{_TOKEN})*")
_PIECE = re.compile(rf"{_TOKEN}|(?<![\w'’-]){_CONNECTOR}(?![\w'’-])|\.")
_PREFIX_START = re.compile(r"[a-z]{1,3}[-'’]")
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")
_KEY_DROP = re.compile(r"[.'’]")
_KEY_SPACE = re.compile(r"[-\s]+")

_DETERMINERS = frozenset("the a an".split())
_COMMON = frozenset("""
a about above across after again against all almost also although always among an and another any
anyone anything are around as at back be because been before being below between both but by can
could did do does down during each either else even ever every few for from further had has have
having he her here hers herself him himself his how however i if in inside into is it its itself
just last least less like many me meanwhile might more most much must my myself neither never
new next no nobody none nor not nothing now of off often on once one only or other others our ours
out over own perhaps please rather same several she should since so some someone something soon
still such than that the their theirs them then there these they this those though through thus
to today tomorrow too toward towards under until up upon us very was we were what whatever when
where whether which while who whoever whom whose why will with within without would yes yet you
your yesterday tonight earlier later according asked after amid despite following including
officials police authorities witnesses residents rescuers experts analysts sources reporters
people government minister president leader officials' breaking update updated photo video watch
read related advertisement editor note chief two three four five six seven eight nine ten first
second third monday tuesday wednesday thursday friday saturday sunday january february march april
june july august september october november december jan feb mar apr jun jul aug sep sept oct nov
dec mr mrs ms dr st north south east west northern southern eastern western central
""".split())
_DROPPABLE = _DETERMINERS | _COMMON
_MONTHS_DAYS = frozenset("""monday tuesday wednesday thursday friday saturday sunday january february
march april june july august september october november december""".split())
_MAY_CUES = frozenset("in on of since until by early late mid last next this through".split())
_ABBREV = frozenset("mr mrs ms dr gen sen rep gov lt col capt sgt adm st jr sr prof rev mt ft maj cpl pvt".split())

# title phrases and honorifics (lowercased words, dots dropped): stripped, and mark a person
_TITLES: set[tuple[str, ...]] = set()
for _line in """
president|vice president|prime minister|deputy prime minister|foreign minister|defense minister
defence minister|interior minister|finance minister|minister|secretary of state|secretary general
secretary-general|secretary|defense secretary|defence secretary|chancellor|premier|king|queen|prince
princess|emperor|empress|pope|sheikh|sultan|emir|supreme leader|leader|chairman|chairwoman
mr|mrs|ms|miss|dr|gen|lt|col|colonel|capt|captain|sgt|sergeant|adm|admiral|maj|cpl|pvt
sen|senator|rep|representative|gov|governor|mayor|judge|justice|chief justice|attorney general
ambassador|envoy|spokesman|spokeswoman|spokesperson|director|ceo|coach|prof|professor|rev|reverend
bishop|archbishop|cardinal|rabbi|imam|sir|dame|lord|lady|officer|detective|inspector|sheriff
commander|commissioner|former|acting|interim|ex|gen.|lieutenant|sergeant|corporal|private
""".split("\n"):
    for _t in _line.split("|"):
        if _t.strip():
            _TITLES.add(tuple(_t.strip().rstrip(".").split()))
_TITLE_MAX = max(len(t) for t in _TITLES)
_TITLE_FIRST = frozenset(t[0] for t in _TITLES)

_ORG_WORDS = frozenset("""
inc corp corporation co ltd llc plc company companies group bank university college school institute
ministry department agency council party army navy force forces police committee commission
association union federation foundation court parliament assembly congress senate board authority
office service services airlines airways motors club fc league team church hospital times post news
network press tribune journal herald reuters organization organisation fund bureau survey guard
brigade corps division command centre center museum society trust alliance coalition front movement
""".split())
_PLACE_WORDS = frozenset("""
city county province state region district island islands river lake mountain mountains mount valley
bay sea ocean gulf coast peninsula desert street avenue square village town airport port strait
""".split())
_PLACE_CUES = frozenset("in near outside across from into".split())
_PERSON_CUES = frozenset("said says told added wrote who whose according".split())


@lru_cache(maxsize=65536)
def fold_name(s: str) -> str:
    """The matching key of a name: accents, case, dots, apostrophes and
    hyphens do not count. "Kim Jong-un" and "KIM JONG UN" -> "kim jong un"."""
    if not s.isascii():
        s = unicodedata.normalize("NFKD", s)
        s = "".join(c for c in s if not unicodedata.combining(c))
    return _KEY_SPACE.sub(" ", _KEY_DROP.sub("", s.casefold())).strip()


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
            if key and key not in capitals and len(key) > 2 or form.isupper():
                countries.setdefault(key, e.name)
    places = set(capitals)
    for sub in pycountry.subdivisions:
        places.add(fold_name(sub.name))
    places -= _COMMON
    return countries, frozenset(places)


@lru_cache(maxsize=1)
def _country_first_words() -> frozenset[str]:
    return frozenset(k.split()[0] for k in _gazetteer()[0])


@dataclass
class _Stat:
    key: str
    first: int
    surfaces: Counter[str] = field(default_factory=Counter)
    count: int = 0
    in_headline: bool = False
    initial_only: bool = True
    votes: Counter[str] = field(default_factory=Counter)
    members: set[str] = field(default_factory=set)


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


def _is_sentence_start(text: str, pos: int) -> bool:
    i, quoted = pos - 1, False
    while i >= 0 and text[i] in " \t\"'“‘([«":
        quoted = quoted or text[i] in "\"'“‘«"
        i -= 1
    return i < 0 or quoted or text[i] in ".!?:;\n•|"


def _candidates(text: str) -> list[_Cand]:
    """Runs of capitalised words, split at possessives and sentence ends."""
    out: list[_Cand] = []
    for run in _RUN.finditer(text):
        initial = _is_sentence_start(text, run.start())
        group, base = run.group(), run.start()
        if " " not in group and "\t" not in group:  # one word: the common case
            word, _ = _strip_possessive(group)
            out.append(_Cand([(word, base, base + len(word))], initial))
            continue
        cur: list[tuple[str, int, int]] = []
        pending: list[tuple[str, int, int]] = []
        prev_word, after_dot = "", False
        for piece in _PIECE.finditer(group):
            word, start = piece.group(), base + piece.start()
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


def _clean(cand: _Cand, countries: dict[str, str]) -> list[tuple[list[tuple[str, int, int]], bool, bool]]:
    """Split a candidate into (tokens, initial, person-by-title) names:
    determiners, titles and leading country words peeled off."""
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


def _rejected(words: list[str], text: str, start: int, end: int) -> bool:
    if len(words) > 1:
        return False
    w = words[0]
    lw = w.lower()
    if lw in _COMMON or len(w) < 2 or w.isdigit() or (lw.endswith("ly") and len(lw) > 5):
        return True
    if lw == "may":  # the month, unless a name ("Theresa May" is two words)
        before = text[max(0, start - 12):start].split()
        after = text[end:end + 4].strip()
        return bool(before and (before[-1].lower() in _MAY_CUES or before[-1].isdigit())) or after[:1].isdigit()
    return False


def _kind_votes(stat: _Stat, words: list[str], text: str, start: int, end: int,
                countries: dict[str, str], places: frozenset[str]) -> None:
    key = stat.key
    lower = [w.lower().rstrip(".") for w in words]
    if key in places or lower[-1] in _PLACE_WORDS:
        stat.votes["place"] += 3
    if any(w in _ORG_WORDS for w in lower):
        stat.votes["organization"] += 3
    elif len(words) == 1 and words[0].isupper() and 2 <= len(words[0]) <= 6:
        stat.votes["organization"] += 1
    before = text[max(0, start - 10):start].split()
    if before and before[-1].lower() in _PLACE_CUES:
        stat.votes["place"] += 1
    elif before and before[-1].islower() and (before[-1].rstrip(".,"),) in _TITLES:
        stat.votes["person"] += 2  # "leader Kim Jong Un", "spokesman Dmitry Peskov"
    after = text[end:end + 12].lstrip(" ,").split()
    if after and after[0].lower() in _PERSON_CUES and len(words) >= 2:
        stat.votes["person"] += 1


def extract_names(title: str | None, text: str, *, limit: int = DEFAULT_LIMIT) -> list[NameTag]:
    """The salient open-vocabulary names of an article, most salient first.

    ``title`` may be None; the body is ``text`` (``Article.text``). A name
    seen in the title counts as a mention and sets ``in_headline``; a
    title in Title Case (most words capitalised) is only matched against the
    names of the body, never mined for new ones. At most ``limit`` names.
    Pure and deterministic: the same input always gives the same list.
    """
    countries, places = _gazetteer()
    stats: dict[str, _Stat] = {}
    title = title or ""
    title_case = _is_title_case(title)
    sources = [(text, False)] + ([(title, True)] if title and not title_case else [])
    for src, headline in sources:
        for cand in _candidates(src):
            for toks, initial, person in _clean(cand, countries):
                words = [t[0] for t in toks]
                start, end = toks[0][1], toks[-1][2]
                if _rejected(words, src, start, end):
                    continue
                surface = src[start:end]
                key = fold_name(surface)
                if not key:
                    continue
                country = countries.get(key)
                if country is not None:
                    key, surface = fold_name(country), country
                stat = stats.get(key)
                if stat is None:
                    stat = stats[key] = _Stat(key, (start if not headline else -1))
                    stat.members.add(key)
                stat.count += 1
                stat.surfaces[surface] += 1
                stat.in_headline |= headline
                if not initial or headline or len(words) > 1:
                    stat.initial_only = False
                if country is not None:
                    stat.votes["place"] += 5
                if person:
                    stat.votes["person"] += 3
                _kind_votes(stat, words, src, start, end, countries, places)
    _fold_short_forms(stats, places)
    if title and title_case:
        folded_title = f" {fold_name(title)} "
        for stat in stats.values():
            if any(f" {m} " in folded_title for m in stat.members):
                stat.in_headline = True
                stat.count += 1
    kept = [s for s in stats.values()
            if not (s.initial_only and s.key not in places and s.votes["place"] < 5)]
    lead = len(text.split("\n\n", 1)[0])

    def salience(s: _Stat) -> tuple[float, int]:
        score = s.count + 3 * s.in_headline + (1 if 0 <= s.first < lead else 0) + 0.5 * (" " in s.key)
        return (-score, s.first)

    kept.sort(key=salience)
    return [NameTag(key=s.key, name=_display(s), kind=_kind(s), count=s.count, in_headline=s.in_headline)
            for s in kept[:limit]]


def _is_title_case(title: str) -> bool:
    words = [w for w in re.findall(r"[^\W\d_][\w'’-]*", title) if w.lower() not in _COMMON]
    if len(words) < 3:
        return False
    return sum(w[0].isupper() for w in words) / len(words) >= 0.8


def _fold_short_forms(stats: dict[str, _Stat], places: frozenset[str]) -> None:
    """Fold a one-word name into the longer name whose first or last word it
    is ("Kim" -> "kim jong un", "Assad" -> "bashar al assad"); with several
    such names, the most mentioned wins. Places never absorb short forms."""
    long_names = [s for s in stats.values() if " " in s.key and s.votes["place"] < 3
                  and s.votes["organization"] < 3]
    by_word: dict[str, list[_Stat]] = {}
    for s in long_names:
        parts = s.key.split()
        for w in {parts[0], parts[-1]}:
            by_word.setdefault(w, []).append(s)
    for key in [k for k in stats if " " not in k]:
        short = stats[key]
        targets = by_word.get(key)
        if not targets or key in places or short.votes["place"] >= 3:
            continue
        target = min(targets, key=lambda s: (-s.count, s.first))
        target.count += short.count
        target.in_headline |= short.in_headline
        target.votes.update(short.votes)
        target.votes["person"] += 1  # named by a surname or given name alone: likely a person
        target.members |= short.members
        target.first = min(target.first, short.first) if short.first >= 0 else target.first
        target.initial_only = target.initial_only and short.initial_only
        del stats[key]


def _display(s: _Stat) -> str:
    """The most complete surface form: most words, then most frequent."""
    return min(s.surfaces, key=lambda f: (-len(f.split()), -s.surfaces[f], f))


def _kind(s: _Stat) -> str:
    if not s.votes:
        return "other"
    kind, n = min(s.votes.items(), key=lambda kv: (-kv[1], kv[0]))
    return kind if n > 0 else "other"
