# Over 500 lines: the catalogue format, its loader and the matcher change together (a new slot or cue touches all three).
"""Event detection: trigger patterns per sentence, argument slots, modality.

Definitions live in YAML (``monitor/enrich/data/events.yaml`` holds the built-ins and documents the format)
so analysts can add event types without code. Everything user-supplied is
compiled with RE2: a careless pattern can be slow to match, never
exponential. Modality matters as much as the event: "Kim crossed into
Russia" and "Kim is expected to cross into Russia" must not raise the same
alert, so every event carries one, decided by cue words around the trigger.
Background about the past ("their first summit in 2019") is ``historical``:
neither a current report for rules nor evidence for stories.

Events are found in ``Article.text`` only (evidence offsets point into it);
the headline is not scanned because it has no offsets of its own.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import re2
from pydantic import BaseModel, ConfigDict, Field

from monitor.enrich.sentences import paragraph_spans, sentence_spans
from monitor.errors import RuleFileError
from monitor.models import Article, EntityType, EventTag, Evidence, Modality
from monitor.yamldoc import YamlDoc, read_yaml, validate, yaml_files

BUILTIN = Path(__file__).with_name("data") / "events.yaml"
RANK: dict[str, int] = {"asserted": 0, "planned": 1, "historical": 2, "speculative": 3, "conditional": 4,
                        "denied": 5}
# "in 2019", "in May 2019", "back in 2019": a year before the article's own marks the clause as background
_PAST_YEAR = re.compile(
    r"\b(?:in|during|of|back in)\s+(?:(?:early|mid|late)[- ])?(?:(?:January|February|March|April|May|June|July|"
    r"August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?\s+"
    r"(?:\d{1,2},?\s+)?)?((?:19|20)\d\d)\b(?!\s*-)", re.IGNORECASE)
EventCatalogError = RuleFileError

# ---------------------------------------------------------------- file format


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FinderModel(_Strict):
    side: Literal["before", "after", "inside"]
    window: int = Field(default=80, ge=0)
    cue: str | None = None
    stop: str | None = Field(default=None, description="no candidate beyond a match of this (e.g. 'in|at')")


class SlotModel(_Strict):
    types: list[EntityType] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    lexicon: str | None = None
    find: list[FinderModel] = Field(default_factory=lambda: [FinderModel(side="after")])
    many: bool = False
    with_country: bool = False


class TriggerModel(_Strict):
    pattern: str
    requires: list[str] = Field(default_factory=list)
    modality: Modality = "asserted"
    confidence: float | None = Field(default=None, ge=0, le=1)
    noun: bool = False
    min_parties: int = Field(default=0, ge=0, description="distinct people, organizations or states the "
                             "sentence must name, besides the event's location (a summit needs two)")


class EventModel(_Strict):
    type: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    description: str = ""
    confidence: float = Field(default=0.6, ge=0, le=1)
    triggers: list[TriggerModel | str] = Field(min_length=1)
    exclude: list[str] = Field(default_factory=list)
    slots: dict[str, SlotModel] = Field(default_factory=dict)


class CueModel(_Strict):
    scope: Literal["adjacent", "near", "prefix", "following", "clause", "sentence"]
    pattern: str
    not_followed_by: list[str] = Field(default_factory=list)


class _File(_Strict):
    modality_cues: dict[Literal["denied", "conditional", "speculative", "historical", "planned"],
                        list[CueModel]] = \
        Field(default_factory=dict)
    events: list[dict] = Field(default_factory=list)


# ------------------------------------------------------------------ patterns

_MACRO = re.compile(r"\{([A-Za-z' -]+(?:\|[A-Za-z' -]+)*)\}")


def _inflect(verb: str) -> list[str]:
    """Forms of a regular English verb; irregular ones are written out."""
    v = verb.lower()
    if v.endswith("y") and len(v) > 1 and v[-2] not in "aeiou":
        return [v, v[:-1] + "ies", v[:-1] + "ied", v + "ing"]
    third = v + ("es" if v.endswith(("s", "sh", "ch", "x", "z", "o")) else "s")
    past = v + ("d" if v.endswith("e") else "ed")
    ing = v[:-2] + "ying" if v.endswith("ie") else (
        v[:-1] + "ing" if v.endswith("e") and not v.endswith("ee") else v + "ing")
    return [v, third, past, ing]


def expand(pattern: str) -> str:
    """Replace ``{verb}`` / ``{a|b|c}`` macros by regex alternations."""
    def sub(m: re.Match[str]) -> str:
        words = m.group(1).split("|")
        forms = _inflect(words[0]) if len(words) == 1 else words
        return "(?:" + "|".join(re.escape(f) for f in sorted(set(forms), key=len, reverse=True)) + ")"
    return _MACRO.sub(sub, pattern)


def compile_pattern(pattern: str, doc: YamlDoc | None = None, at: Sequence[str | int] = (),
                    item_id: str | None = None) -> Any:
    """Case-insensitive RE2 at word boundaries; errors name file and line."""
    try:
        return re2.compile(r"(?i)\b(?:" + expand(pattern) + r")\b")
    except Exception as exc:  # noqa: BLE001 -- re2 raises its own error type
        raise RuleFileError(f"bad pattern {pattern!r}: {exc}", str(doc.path) if doc else None,
                            doc.line(*at) if doc else None, item_id) from None


# ----------------------------------------------------------- compiled forms


@dataclass(frozen=True)
class Finder:
    side: str
    window: int
    cue: Any
    stop: Any = None


@dataclass(frozen=True)
class Slot:
    name: str
    types: tuple[str, ...]
    tags: frozenset[str]
    lexicon: Any
    find: tuple[Finder, ...]
    many: bool
    with_country: bool


@dataclass(frozen=True)
class Trigger:
    source: str
    regex: Any
    requires: tuple[str, ...]
    modality: str
    confidence: float
    noun: bool
    min_parties: int = 0


@dataclass(frozen=True)
class EventDef:
    type: str
    description: str
    triggers: tuple[Trigger, ...]
    exclude: tuple[Any, ...]
    slots: tuple[Slot, ...]


@dataclass(frozen=True)
class Cue:
    scope: str
    regex: Any
    not_followed_by: frozenset[str]


def _compile_event(m: EventModel, doc: YamlDoc, at: tuple[str | int, ...]) -> EventDef:
    triggers = []
    for j, raw in enumerate(m.triggers):
        t = TriggerModel(pattern=raw) if isinstance(raw, str) else raw
        unknown = [s for s in t.requires if s not in m.slots]
        if unknown:
            raise RuleFileError(f"trigger requires undefined slot {unknown[0]!r}", str(doc.path),
                                doc.line(*at, "triggers", j), m.type)
        triggers.append(Trigger(t.pattern, compile_pattern(t.pattern, doc, (*at, "triggers", j), m.type),
                                tuple(t.requires), t.modality,
                                t.confidence if t.confidence is not None else m.confidence, t.noun,
                                t.min_parties))
    slots = []
    for name, s in m.slots.items():
        where = (*at, "slots", name)
        finders = tuple(
            Finder(f.side, f.window, compile_pattern(f.cue, doc, where, m.type) if f.cue else None,
                   compile_pattern(f.stop, doc, where, m.type) if f.stop else None)
            for f in s.find)
        slots.append(Slot(name, tuple(s.types), frozenset(s.tags),
                          compile_pattern(s.lexicon, doc, where, m.type) if s.lexicon else None,
                          finders, s.many, s.with_country))
    exclude = tuple(compile_pattern(p, doc, (*at, "exclude", k), m.type) for k, p in enumerate(m.exclude))
    return EventDef(m.type, m.description, tuple(triggers), exclude, tuple(slots))


# ------------------------------------------------------------------ catalog

_REPORT_VERBS = (r"said|says|say|told|tells|reported|reports|confirmed|confirms|announced|announces|"
                 r"stated|added|claimed|claims|noted|predicted|warned|believe|believes|quoted")
_REPORTER_BEFORE = re.compile(rf"(?:^|[,;:(]\s*)([^,;:()]{{1,80}}?)\s+(?:{_REPORT_VERBS})\b(?:\s+that)?", re.IGNORECASE)
_REPORTER_AFTER = re.compile(rf",\s*([^,;:()]{{1,60}}?)\s+(?:{_REPORT_VERBS})\b|"
                             rf",\s*(?:{_REPORT_VERBS})\s+([^,;:()]{{1,60}})", re.IGNORECASE)
_REPORTER_APPOSITIVE = re.compile(rf"^\W*([^,;:()]{{1,60}}),[^,;:]{{1,80}},\s+(?:{_REPORT_VERBS})\b", re.IGNORECASE)
_ACCORDING = re.compile(r"\b(?:according to|citing|cited by)\s+([^,;:()]{1,60})", re.IGNORECASE)
_TRIM_WORDS = frozenset("the a an even also however has have had reportedly then and but while after "
                        "as when since because though although meanwhile earlier later".split())
_WORD = re.compile(r"[\w'’.-]+")
_CLAUSE_END = re.compile(r"[,;:—]|\s--\s")


@dataclass(frozen=True)
class _Ment:
    start: int
    end: int
    id: str
    type: str


class EventCatalog:
    """Event definitions plus modality cues; ``extract`` finds events."""

    def __init__(self, definitions: Iterable[EventDef], cues: dict[str, list[Cue]]) -> None:
        self.definitions = tuple(definitions)
        self.cues = cues
        self._filter: Any = None  # built on first use, see _triggers_found

    def _triggers_found(self, text: str) -> set[int]:
        """Positions (definition by definition, trigger by trigger) of the
        trigger patterns that match somewhere in `text`: one RE2 FilteredRE2
        scan (a literal prefilter, then only the candidate patterns), where
        searching every pattern costs one re2 call each and almost every
        article has no trigger at all."""
        if self._filter is None:
            f = re2.Filter()
            for d in self.definitions:
                for trig in d.triggers:
                    f.Add(trig.regex.pattern, trig.regex.options)
            f.Compile()
            self._filter = f
        return set(self._filter.Match(text) or ())

    @property
    def types(self) -> list[str]:
        return [d.type for d in self.definitions]

    @classmethod
    def builtin(cls) -> EventCatalog:
        return _builtin()

    @classmethod
    def from_rules_dir(cls, rules_dir: Path | str) -> EventCatalog:
        """Built-ins plus ``<rules_dir>/events/*.yaml``."""
        folder = Path(rules_dir) / "events"
        return cls.load([folder] if folder.is_dir() else [])

    @classmethod
    def load(cls, paths: Iterable[Path | str], *, builtin: bool = True) -> EventCatalog:
        """Load files/dirs in order; later definitions replace same-type earlier ones."""
        files = yaml_files(paths)
        if builtin:
            files = [BUILTIN, *(f for f in files if f.resolve() != BUILTIN)]
        defs: dict[str, EventDef] = {}
        cues: dict[str, list[Cue]] = {}
        for path in files:
            doc = read_yaml(path)
            data = doc.data or {}
            parsed: _File = validate(_File, data, doc, (), None)
            for modality, items in parsed.modality_cues.items():
                for k, c in enumerate(items):
                    rx = compile_pattern(c.pattern, doc, ("modality_cues", modality, k))
                    cues.setdefault(modality, []).append(
                        Cue(c.scope, rx, frozenset(w.lower() for w in c.not_followed_by)))
            in_file: set[str] = set()
            for i, raw in enumerate(data.get("events", [])):
                item_id = raw.get("type") if isinstance(raw, dict) else None
                model: EventModel = validate(EventModel, raw, doc, ("events", i), item_id)
                if model.type in in_file:
                    raise RuleFileError("duplicate event type in file", str(path),
                                        doc.line("events", i), model.type)
                in_file.add(model.type)
                defs[model.type] = _compile_event(model, doc, ("events", i))
        return cls(defs.values(), cues)

    # ---------------------------------------------------------- extraction

    def extract(self, article: Article, watchlist: Any = None) -> list[EventTag]:
        """Events in ``article.text``, using ``article.entities`` for slots.
        ``watchlist`` (optional) supplies entity tags and country links."""
        text = article.text
        if not text or not self.definitions:
            return []
        year = _reference_year(article)
        found = self._triggers_found(text)
        if not found:
            return []
        # sentences are split per paragraph, only where a trigger matched
        paras = paragraph_spans(text, article.paragraphs)
        para_starts = [ps for ps, _ in paras]
        para_sents: dict[int, tuple[list[tuple[int, int]], list[int]]] = {}

        def sentence_at(ts: int) -> tuple[int, int, int] | None:
            """The sentence of the trigger's paragraph that starts last at or
            before `ts` (a trigger outside it is in no sentence)."""
            pi = bisect.bisect_right(para_starts, ts) - 1
            if pi < 0:
                return None
            if pi not in para_sents:
                spans = sentence_spans(text, *paras[pi])
                para_sents[pi] = (spans, [s for s, _ in spans])
            spans, starts = para_sents[pi]
            k = bisect.bisect_right(starts, ts) - 1
            return (*spans[k], pi) if k >= 0 else None

        ments = sorted((_Ment(m.start, m.end, t.id, t.type) for t in article.entities for m in t.mentions),
                       key=lambda m: m.start)
        ment_starts = [m.start for m in ments]
        best: dict[tuple[str, int, str], EventTag] = {}
        position = -1
        for d in self.definitions:
            excluded: list[tuple[int, int]] | None = None
            for trig in d.triggers:
                position += 1
                if position not in found:
                    continue
                if excluded is None:
                    excluded = [(m.start(), m.end()) for rx in d.exclude for m in rx.finditer(text)]
                for m in trig.regex.finditer(text):
                    ts, te = m.start(), m.end()
                    if te <= ts or any(a < te and ts < b for a, b in excluded):
                        continue
                    sent = sentence_at(ts)
                    if sent is None or not (sent[0] <= ts and te <= sent[1]):
                        continue
                    s, e, pi = sent
                    sent_ments = ments[bisect.bisect_left(ment_starts, s):bisect.bisect_left(ment_starts, e)]
                    ev = self._event(d, trig, text, (s, e, pi), (ts, te), sent_ments, watchlist, year)
                    if ev is not None:
                        key = (d.type, s, ev.modality)
                        if key not in best or ev.confidence > best[key].confidence:
                            best[key] = ev
        return sorted(best.values(), key=lambda ev: (ev.evidence.start, ev.type))

    def _event(self, d: EventDef, trig: Trigger, text: str, sent: tuple[int, int, int],
               span: tuple[int, int], ments: list[_Ment], watchlist: Any,
               year: int | None = None) -> EventTag | None:
        s, e, pi = sent
        ts, te = span
        args: dict[str, list[str]] = {}
        used: set[str] = set()
        for slot in d.slots:
            vals = _fill(slot, text, (s, e), span, ments, used, watchlist)
            if vals:
                args[slot.name] = vals
                used.update(vals)
            elif slot.name in trig.requires:
                return None  # a required slot stays empty: no event (the later slots need not be filled)
        if trig.min_parties and _parties(ments, args, watchlist) < trig.min_parties:
            return None
        modality = self.modality(text, s, e, ts, te, trig.modality, trig.noun, year)
        reporter = reported_by(text, s, e, ts, te, ments)
        conf = trig.confidence + 0.05 * min(len(args), 3) + (0.05 if reporter else 0.0)
        if re.search(r"\b(?:reportedly|appear(?:s|ed)? to|apparently|believed)\b", text[s:ts], re.IGNORECASE):
            conf -= 0.1
        return EventTag(
            type=d.type, modality=modality, trigger=text[ts:te], arguments=args,
            evidence=Evidence(sentence=text[s:e], start=s, end=e, paragraph=pi),
            confidence=round(max(0.05, min(0.95, conf)), 3), reported_by=reporter)

    def modality(self, text: str, s: int, e: int, ts: int, te: int, floor: str = "asserted",
                 noun: bool = False, year: int | None = None) -> Modality:
        """Strongest modality cued around the trigger at [ts, te) of sentence [s, e).
        Words *after* the trigger only count for nouns ("the summit is likely
        to ..."); after a verb they belong to the next verb ("crossed ... and
        will meet")."""
        windows = _windows(text, s, e, ts, te, noun)
        found = floor
        if text[s:e].rstrip().endswith("?"):
            found = _stronger(found, "speculative")
        if year is not None and RANK[found] < RANK["historical"] and any(
                int(m.group(1)) < year for w in windows["clause"] for m in _PAST_YEAR.finditer(w)):
            found = "historical"
        # strongest first: the first modality with a cue is the answer
        for modality in sorted(self.cues, key=RANK.__getitem__, reverse=True):
            if RANK[modality] <= RANK[found]:
                break
            if any(_cue_hit(cue, w) for cue in self.cues[modality] for w in windows[cue.scope]):
                return modality  # type: ignore[return-value]
        return found  # type: ignore[return-value]


_ANY_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


def _reference_year(article: Article) -> int:
    """The year the article speaks from: its publication date's, else the
    latest year it writes (an undated copy of old news is not "historical"
    by its own standards), else the year it was taken in."""
    if article.published is not None:
        return article.published.year
    now = article.ingested_at.year
    return max((y for y in map(int, _ANY_YEAR.findall(article.text)) if y <= now), default=now)


def _stronger(a: str, b: str) -> str:
    return a if RANK[a] >= RANK[b] else b


def _last_words(s: str, n: int) -> str:
    words = list(_WORD.finditer(s))
    return s[words[-n].start():] if len(words) > n else s


def _windows(text: str, s: int, e: int, ts: int, te: int, noun: bool) -> dict[str, list[str]]:
    """Text each cue scope looks at; see data/events.yaml for the definitions."""
    before = text[s:ts]
    rest = text[te:e]
    clause_end = _CLAUSE_END.search(rest)
    rest_clause = rest[:clause_end.start()] if clause_end else rest
    words = list(_WORD.finditer(rest_clause))
    following = rest_clause[:words[7].end()] if len(words) > 8 else rest_clause
    return {"adjacent": [_last_words(before, 3)], "near": [_last_words(before, 6)],
            "prefix": [_last_words(before, 12)], "following": [following] if noun else [],
            "clause": [before, rest_clause], "sentence": [text[s:e]]}


def _cue_hit(cue: Cue, window: str) -> bool:
    for m in cue.regex.finditer(window):
        if not cue.not_followed_by:
            return True
        nxt = _WORD.match(window[m.end():].lstrip())
        if not nxt or nxt.group().lower() not in cue.not_followed_by:
            return True
    return False


def _parties(ments: list[_Ment], args: dict[str, list[str]], watchlist: Any) -> int:
    """People, organizations and states the sentence names, not counting the
    event's location nor the home state of a person named with it."""
    ids = {m.id for m in ments if m.type in ("person", "organization", "country")}
    ids -= {i for slot in ("location", "destination") for i in args.get(slot, ())}
    if watchlist is not None:
        for i in list(ids):
            spec = watchlist.get(i)
            if spec is not None and spec.type == "person" and spec.country:
                ids.discard(spec.country)
    return len(ids)


def _qualifies(slot: Slot, m: _Ment, watchlist: Any) -> bool:
    if m.type in slot.types:
        return True
    if slot.tags and watchlist is not None:
        spec = watchlist.get(m.id)
        return bool(spec and slot.tags & set(spec.tags))
    return False


def _fill(slot: Slot, text: str, sent: tuple[int, int], span: tuple[int, int], ments: list[_Ment],
          used: set[str], watchlist: Any) -> list[str]:
    """Entity ids (or ``item:<word>``) for one slot, from the first finder that yields any."""
    ts, te = span
    for f in slot.find:
        if f.side == "inside":
            cands = [m for m in ments if ts <= m.start and m.end <= te]
            lo, hi = ts, te
        elif f.side == "after":
            cut = _CLAUSE_END.search(text, te, min(sent[1], te + f.window))
            hi = cut.start() if cut else min(sent[1], te + f.window)
            cands = [m for m in ments if te <= m.start and m.end <= hi]
            lo = te
        else:
            cands = [m for m in reversed(ments) if ts - f.window <= m.end <= ts]
            lo, hi = max(sent[0], ts - f.window), ts
        if f.cue is not None:
            cands = [m for m in cands if f.cue.search(text[te:m.start] if f.side == "after" else text[m.end:ts])]
        if f.stop is not None:
            cands = [m for m in cands if not f.stop.search(text[te:m.start] if f.side == "after" else text[m.end:ts])]
        cands = [m for m in cands if m.id not in used and _qualifies(slot, m, watchlist)]
        ids: list[str] = []
        if cands:
            # preference: listed types in order; tag-qualified entities rank first
            rank = {t: k for k, t in enumerate(slot.types)}
            ranked = [(rank.get(m.type, 0), m) for m in cands]
            best_rank = min(r for r, _ in ranked)
            top = [m for r, m in ranked if r == best_rank]
            ids = [m.id for m in sorted(top, key=lambda m: m.start)] if slot.many else [top[0].id]
        if slot.lexicon is not None:
            ids += [f"item:{m.group().lower()}" for m in slot.lexicon.finditer(text[lo:hi])]
        if slot.with_country and watchlist is not None:
            for i in list(ids):
                spec = watchlist.get(i)
                if spec is not None and spec.country and spec.type != "country":
                    ids.append(spec.country)
        ids = list(dict.fromkeys(ids))
        if ids:
            return ids if slot.many or slot.lexicon is not None else ids[:2 if slot.with_country else 1]
    return []


def _clean_reporter(phrase: str, start: int, ments: list[_Ment]) -> str | None:
    """An entity id for the reporter when one is tagged in the phrase (people
    and organizations first), else the phrase itself without filler words."""
    end = start + len(phrase)
    inside = [m for m in ments if start <= m.start and m.end <= end]
    for kinds in (("person", "organization"), ("country", "place", "facility", "other", "weapon_system")):
        hit = [m for m in inside if m.type in kinds]
        if hit and (kinds[0] == "person" or (len(hit) == 1 and hit[0].end - hit[0].start >= len(phrase.strip()) - 1)):
            return hit[-1].id
    words = [w.strip("\"'“”‘’") for w in phrase.split()]
    if words:
        words[-1] = words[-1].rstrip(".!?")
    words = [w for w in words if w]
    while words and words[0].lower() in _TRIM_WORDS:
        words.pop(0)
    while words and words[-1].lower() in _TRIM_WORDS:
        words.pop()
    if not words or words[0].lower() in {"it", "there", "this", "that", "which", "who", "according"} \
            or len(words) > 8:
        return None
    return " ".join(words)


def reported_by(text: str, s: int, e: int, ts: int, te: int, ments: list[_Ment]) -> str | None:
    """Who the sentence attributes the trigger's clause to, if anyone:
    "X said (that) ... <trigger>", "<trigger> ..., X said", "according to X"."""
    before = text[s:ts]
    found: tuple[str, int] | None = None
    m = _REPORTER_APPOSITIVE.match(before)  # "Matthew Miller, a spokesperson, said ..."
    if m and not _CLAUSE_END.search(before, m.end()):
        found = (m.group(1), s + m.start(1))
    for m in _REPORTER_BEFORE.finditer(before):
        if not _CLAUSE_END.search(before, m.end()):  # the verb governs the trigger's clause
            found = (m.group(1), s + m.start(1))
    for m in _ACCORDING.finditer(before):
        found = found or (m.group(1), s + m.start(1))
    if found is None:
        after = text[te:e]
        m = _ACCORDING.search(after)
        if m:
            found = (m.group(1), te + m.start(1))
        elif (m := _REPORTER_AFTER.search(after)):
            g = 1 if m.group(1) else 2
            found = (m.group(g), te + m.start(g))
    return _clean_reporter(*found, ments) if found else None


@lru_cache(maxsize=1)
def _builtin() -> EventCatalog:
    return EventCatalog.load([], builtin=True)
