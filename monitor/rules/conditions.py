"""Rule conditions compiled into predicates over one article (`View`), and
the keys an article must have for a condition to hold (`required_keys`),
which the engine indexes rules by. Compiled once per ruleset, so evaluating
an article does no parsing; every regex of a ruleset is matched in one RE2
scan (`RegexBank`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import ahocorasick
import re2

from monitor.models import Article, EntityTag
from monitor.rules.evidence import Evidence
from monitor.rules.loader import Ruleset, expand
from monitor.rules.schema import (
    AllCond,
    AnyCond,
    ArgumentSpec,
    DuplicateCond,
    EntityCond,
    EventCond,
    MacroCond,
    NameCond,
    NotCond,
    SourceCond,
    TextCond,
)


class RegexBank:
    """Every distinct regex of a ruleset (pattern and case option) in one
    RE2 FilteredRE2: one pass of its literal prefilter (an RE2::Set of the
    patterns' required literals) finds the candidate patterns, and only those
    run. So an article costs one scan plus the regexes whose literals it
    contains, not one search per regex rule. ``matches`` gives exactly the
    patterns ``re2.search`` would find (FilteredRE2.AllMatches runs each
    candidate with PartialMatch; patterns without a usable literal are always
    candidates)."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, bool], int] = {}
        self._filter: Any = None
        self._compiled = False

    def add(self, pattern: str, case_sensitive: bool) -> int:
        key = (pattern, case_sensitive)
        if key not in self._ids:
            if self._compiled:
                raise RuntimeError("RegexBank.add after compile")
            if self._filter is None:
                self._filter = re2.Filter()
            options = re2.Options()
            options.case_sensitive = case_sensitive
            self._ids[key] = self._filter.Add(pattern, options)
        return self._ids[key]

    def compile(self) -> None:
        if self._filter is not None and not self._compiled:
            self._filter.Compile()
        self._compiled = True

    def matches(self, haystack: str) -> frozenset[int]:
        if self._filter is None:
            return frozenset()
        return frozenset(self._filter.Match(haystack) or ())


class View:
    """Per-article lookups shared by every condition of every rule."""

    def __init__(self, article: Article, regexes: RegexBank | None = None):
        self.article = article
        self.entities = {e.id: e for e in article.entities}
        self.entity_types = {e.id: e.type for e in article.entities}
        self.names = {n.key for n in article.names}
        self._haystack = "\n".join(filter(None, [article.headline, article.text]))
        self._folded: str | None = None
        self._regexes = regexes
        self._regex_hits: frozenset[int] | None = None

    def haystack(self, case_sensitive: bool) -> str:
        if case_sensitive:
            return self._haystack
        if self._folded is None:
            self._folded = self._haystack.casefold()
        return self._folded

    def regex_hits(self) -> frozenset[int]:
        """Ids (in the engine's RegexBank) of the regexes found in title and text."""
        if self._regex_hits is None:
            self._regex_hits = self._regexes.matches(self._haystack) if self._regexes else frozenset()
        return self._regex_hits


Predicate = Callable[[View], Evidence | None]


def compile_condition(cond: Any, ruleset: Ruleset, regexes: RegexBank | None = None) -> Predicate:
    """`regexes`: the engine's shared bank; text regexes are then looked up in
    the article's one bank scan (View.regex_hits) instead of searched one by one."""
    lists = ruleset.lists
    if isinstance(cond, AllCond):
        parts = [compile_condition(c, ruleset, regexes) for c in cond.all]

        def all_of(view: View) -> Evidence | None:
            found = Evidence()
            for part in parts:
                ev = part(view)
                if ev is None:
                    return None
                found = found.merge(ev)
            return found
        return all_of
    if isinstance(cond, AnyCond):
        parts = [compile_condition(c, ruleset, regexes) for c in cond.any]

        def any_of(view: View) -> Evidence | None:
            for part in parts:
                ev = part(view)
                if ev is not None:
                    return ev
            return None
        return any_of
    if isinstance(cond, NotCond):
        inner = compile_condition(cond.not_, ruleset, regexes)
        return lambda view: Evidence() if inner(view) is None else None
    if isinstance(cond, MacroCond):
        return compile_condition(ruleset.macros[cond.macro], ruleset, regexes)
    if isinstance(cond, EntityCond):
        return _entity_predicate(cond, lists)
    if isinstance(cond, NameCond):
        return _name_predicate(cond)
    if isinstance(cond, EventCond):
        return _event_predicate(cond, lists)
    if isinstance(cond, TextCond):
        return _text_predicate(cond, regexes)
    if isinstance(cond, SourceCond):
        wanted = {s.casefold() for s in cond.source}
        return lambda view: Evidence() if (view.article.source or "").casefold() in wanted else None
    if isinstance(cond, DuplicateCond):
        return lambda view: Evidence() if view.article.is_duplicate == cond.duplicate else None
    raise TypeError(f"unknown condition {cond!r}")


def _entity_predicate(cond: EntityCond, lists) -> Predicate:
    spec = cond.entity
    any_ids, all_ids, none_ids = (expand(ids, lists) for ids in (spec.any, spec.all, spec.none))

    def qualifies(tag: EntityTag | None) -> bool:
        return (
            tag is not None
            and len(tag.mentions) >= spec.min_mentions
            and (tag.in_headline or not spec.in_headline)
        )

    def check(view: View) -> Evidence | None:
        if any(i in view.entities for i in none_ids):
            return None
        hits = [view.entities[i] for i in all_ids if qualifies(view.entities.get(i))]
        if len(hits) < len(all_ids):
            return None
        if any_ids:
            extra = [view.entities[i] for i in any_ids if qualifies(view.entities.get(i))]
            if not extra:
                return None
            hits += extra
        return Evidence(entities=hits)
    return check


def _name_predicate(cond: NameCond) -> Predicate:
    """On folded keys (the schema folds the rule's names as NameTag.key is folded)."""
    any_keys, all_keys, none_keys = (frozenset(k) for k in (cond.name.any, cond.name.all, cond.name.none))

    def check(view: View) -> Evidence | None:
        names = view.names
        if not none_keys.isdisjoint(names) or not all_keys <= names:
            return None
        if any_keys and any_keys.isdisjoint(names):
            return None
        return Evidence()
    return check


def _argument_check(spec: ArgumentSpec, lists) -> Callable[[list[str], View], bool]:
    """Compiled once per rule: list names are expanded here, not per article."""
    wanted, types = frozenset(expand(spec.any, lists)), frozenset(spec.type)

    def ok(ids: list[str], view: View) -> bool:
        if wanted and wanted.isdisjoint(ids):
            return False
        return not types or any(view.entity_types.get(i) in types for i in ids)
    return ok


def _event_predicate(cond: EventCond, lists) -> Predicate:
    spec = cond.event
    types, modalities = set(spec.type), set(spec.modality)
    slots = {slot: _argument_check(arg, lists) for slot, arg in spec.arguments().items()}

    def check(view: View) -> Evidence | None:
        hits = [
            ev for ev in view.article.events
            if ev.type in types
            and ev.modality in modalities
            and ev.confidence >= spec.min_confidence
            and all(ok(ev.arguments.get(slot, []), view) for slot, ok in slots.items())
        ]
        if not hits:
            return None
        ids = dict.fromkeys(i for ev in hits for ids in ev.arguments.values() for i in ids)  # text order
        return Evidence(entities=[view.entities[i] for i in ids if i in view.entities], events=hits)
    return check


def _text_predicate(cond: TextCond, bank: RegexBank | None = None) -> Predicate:
    spec = cond.text
    fold = (lambda s: s) if spec.case_sensitive else str.casefold
    phrases = [fold(p) for p in spec.phrases]
    all_phrases = [fold(p) for p in spec.all_phrases]
    if bank is not None:
        wanted = frozenset(bank.add(p, spec.case_sensitive) for p in spec.regex)

        def found(view: View) -> bool:
            return not wanted.isdisjoint(view.regex_hits())
    else:
        options = re2.Options()
        options.case_sensitive = spec.case_sensitive
        compiled = [re2.compile(p, options) for p in spec.regex]

        def found(view: View) -> bool:
            return any(r.search(view.haystack(True)) for r in compiled)

    def check(view: View) -> Evidence | None:
        hay = view.haystack(spec.case_sensitive)
        if all_phrases and not all(p in hay for p in all_phrases):
            return None
        if phrases and not any(p in hay for p in phrases):
            return None
        if spec.regex and not found(view):
            return None
        return Evidence()
    return check


def required_keys(cond: Any, ruleset: Ruleset, regexes: RegexBank | None = None) -> frozenset[str] | None:
    """Keys an article must have for `cond` to be true: entity ids,
    "name:<folded name>", "event:<type>" and "phrase:<casefolded phrase>", and with a RegexBank
    "regex:<bank id>" for text conditions with regexes only. None when no such
    key exists (source, not, ...), so the rule is checked for every article."""
    if isinstance(cond, EntityCond):
        spec = cond.entity
        every, some = expand(spec.all, ruleset.lists), expand(spec.any, ruleset.lists)
        if every:
            return frozenset(every[:1])  # each id in `all` is required; one suffices
        return frozenset(some) or None
    if isinstance(cond, NameCond):
        spec = cond.name
        return frozenset(f"name:{k}" for k in (spec.all[:1] or spec.any)) or None
    if isinstance(cond, EventCond):
        return frozenset(f"event:{t}" for t in cond.event.type)
    if isinstance(cond, TextCond) and (cond.text.all_phrases or cond.text.phrases):
        # a phrase's casefolded form occurs in the casefolded text whenever it matches
        needed = cond.text.all_phrases[:1] or cond.text.phrases
        return frozenset(f"phrase:{p.casefold()}" for p in needed)
    if isinstance(cond, TextCond) and cond.text.regex and regexes is not None:
        # one of the regexes must match: the bank scan reports each that does
        return frozenset(f"regex:{regexes.add(p, cond.text.case_sensitive)}" for p in cond.text.regex)
    if isinstance(cond, MacroCond):
        return required_keys(ruleset.macros[cond.macro], ruleset, regexes)
    if isinstance(cond, AllCond):
        known = [k for k in (required_keys(c, ruleset, regexes) for c in cond.all) if k is not None]
        return min(known, key=len) if known else None
    if isinstance(cond, AnyCond):
        parts = [required_keys(c, ruleset, regexes) for c in cond.any]
        return None if any(p is None for p in parts) else frozenset().union(*parts)
    return None


def phrase_automaton(keys: Iterable[str]) -> ahocorasick.Automaton | None:
    """One Aho-Corasick pass finds every indexed phrase an article contains."""
    automaton = ahocorasick.Automaton()
    for key in keys:
        automaton.add_word(key.removeprefix("phrase:"), key)
    if len(automaton) == 0:
        return None
    automaton.make_automaton()
    return automaton


def article_keys(article: Article) -> set[str]:
    return ({e.id for e in article.entities} | {f"event:{ev.type}" for ev in article.events}
            | {f"name:{n.key}" for n in article.names})
