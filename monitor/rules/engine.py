"""Evaluate a ruleset against tagged articles and keep alert state.

Conditions are compiled once per ruleset into closures, so evaluating an
article does no parsing. Alert state lives in a plain-data store (a dict
offline, a faust table in the daemon) keyed by a hash of rule id and group
key, which is also the alert id, so replays are idempotent.

A matching report goes through these steps, each in one function below:

0. *correlate* (`Correlations.allows`): a rule with `correlate` only matches
   when its partner rule fired for the same key within the span;
1. *count* it in its group (`_counted`): articles, sources and, for windowed
   triggers, timestamped hits; old hits are dropped here, lazily, per group;
2. *trigger* (`_triggered`): may the group emit? `threshold` and `new_term`
   decide when an alert opens, `spike` decides for every report;
3. *throttle* (`_throttled`): at most one emission per period, the rest held;
4. *emit* (`_emitted`): a new revision, with severity raised by `escalate`,
   unless a silence mutes it (the state advances either way).

`sweep(now)` resolves alerts whose group has been quiet for the rule's
`resolve_after` (see lifecycle.py); `evaluate` sweeps first, so resolutions
come out between articles at the same times offline and in the daemon.

Every timestamp in state comes from the `now` passed to `evaluate` or
`sweep`, so the same inputs and times give the same alerts, after a restart too.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import ahocorasick
import re2

from monitor.durations import timestamp
from monitor.models import Alert, Article, ArticleRef, EntityTag, EventTag, stable_id, utcnow
from monitor.rules import lifecycle
from monitor.rules.correlate import Correlations, dependency_order
from monitor.rules.groups import (  # noqa: F401 -- group_key, term_key: also imported from here
    group_key, selector_values, source_of as _source, term_key,
)
from monitor.rules.loader import Ruleset, expand
from monitor.rules.schema import (
    MAX_ARTICLES_PER_ALERT, AllCond, AnyCond, ArgumentSpec, DuplicateCond, EntityCond,
    SEVERITIES, EventCond, MacroCond, NotCond, Rule, SourceCond, Spike, TextCond, Threshold,
    format_duration,
)
from monitor.state import Store

MAX_HITS = 1000  # timestamped matches kept per group for threshold / spike windows
# a story expires after 96 h without a report (StoryConfig.ttl_hours); its groups go a while after
STORY_GROUP_RETENTION = timedelta(days=7)


@dataclass
class Evidence:
    """What made a condition true, carried into the alert."""

    entities: list[EntityTag] = field(default_factory=list)
    events: list[EventTag] = field(default_factory=list)

    def merge(self, other: Evidence) -> Evidence:
        return Evidence(
            _unique(self.entities + other.entities, lambda e: e.id),
            _unique(self.events + other.events, lambda e: (e.type, e.evidence.start)),
        )


def _unique(items: list, key: Callable) -> list:
    seen, out = set(), []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out


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
        self._haystack = "\n".join(filter(None, [article.title, article.text]))
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
        ids = {i for ev in hits for ids in ev.arguments.values() for i in ids}
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


class _SafeFormatter(string.Formatter):
    """str.format that refuses attribute and index access: templates only
    see the flat context, never Python objects."""

    def get_field(self, field_name, args, kwargs):
        if not field_name.isidentifier():
            raise ValueError(f"template field {field_name!r} is not allowed")
        return self.get_value(field_name, args, kwargs), field_name


_FORMATTER = _SafeFormatter()
TEMPLATE_FIELDS = (
    "rule_id", "rule_title", "severity", "article_title", "source", "entities",
    "event", "modality", "actors", "destinations", "counterparts", "story_id",
    "corroboration", "suppressed",
)


def render(template: str, context: dict[str, Any]) -> str:
    try:
        return _FORMATTER.vformat(template, (), context)
    except (KeyError, ValueError, IndexError) as exc:
        return f"{template} [template error: {exc}]"


@dataclass
class CompiledRule:
    rule: Rule
    predicate: Predicate
    exceptions: list[tuple[Any, Predicate]]


# ---------------------------------------------------------------- group state
#
# One plain dict per group, under the alert id, replaced (never mutated) on
# every counted report:
#   revision    emissions so far; 0 while a trigger holds the alert back
#   created_at  first emission (ISO), None before
#   articles    counted reports (ArticleRef JSON), newest MAX_ARTICLES_PER_ALERT
#   sources     distinct sources of those reports
#   hits        [{id, at, source}] recent reports, only for threshold / spike
#   emitted_at  throttle only: last emission; held: reports held back since
#   severity, key, title, story_id   of the last emission, for the resolve notice
#   emitted_by  the article that made the last emission, to repeat it on replay
#   rule        the rule's id, so expire() knows how long the group can matter
#   seen_at, resolved_at, episode, alert_id   lifecycle, see lifecycle.py
#   closed_at   when the worker resolved it (resolved_at is when it fell due)


def _younger(hits: list[dict], now: datetime, window: timedelta) -> list[dict]:
    """Hits less than `window` old: every window in the language is half-open,
    so a report exactly `window` old no longer counts."""
    return [h for h in hits if now - timestamp(h["at"]) < window]


def _already_counted(state: dict, article_id: str) -> bool:
    return any(a["id"] == article_id for a in state["articles"]) or any(
        h["id"] == article_id for h in state.get("hits", ())
    )


def _hit_horizon(rule: Rule, state: dict) -> timedelta | None:
    """How far back hits are needed, or None when the rule needs none. A
    threshold only needs them until its alert opens; a spike always does."""
    if rule.spike is not None:
        return rule.spike.window + rule.spike.baseline
    if rule.threshold is not None and state["revision"] == 0:
        return rule.threshold.within
    return None


def _counted(previous: dict | None, rule: Rule, ref: ArticleRef, now: datetime) -> dict:
    """The group's state with this report counted, and hits outside every
    window dropped: expiry happens here, lazily, for the one group touched."""
    state = previous or {"revision": 0, "created_at": None, "articles": [], "sources": []}
    state = {
        **state, "rule": rule.id,
        "articles": (state["articles"] + [ref.model_dump(mode="json")])[-MAX_ARTICLES_PER_ALERT:],
        "sources": state["sources"] + ([ref.source] if ref.source not in state["sources"] else []),
        "seen_at": now.isoformat(),
    }
    horizon = _hit_horizon(rule, state)
    if horizon is None:
        state.pop("hits", None)
        return state
    hit = {"id": ref.id, "at": now.isoformat(), "source": ref.source}
    state["hits"] = (_younger(state.get("hits", []), now, horizon) + [hit])[-MAX_HITS:]
    return _only_window_until_open(rule, state, now)


def _only_window_until_open(rule: Rule, state: dict, now: datetime) -> dict:
    """Until its alert opens, a windowed trigger keeps only the reports inside
    its window, so the alert that opens lists (and counts as corroboration)
    exactly the reports that opened it."""
    window = rule.threshold.within if rule.threshold else rule.spike.window if rule.spike else None
    if state["revision"] > 0 or window is None:
        return state
    recent = {h["id"] for h in _younger(state["hits"], now, window)}
    articles = [a for a in state["articles"] if a["id"] in recent]
    return {**state, "articles": articles, "sources": list(dict.fromkeys(a["source"] for a in articles))}


def _threshold_met(spec: Threshold, hits: list[dict], now: datetime) -> bool:
    recent = _younger(hits, now, spec.within)
    return len(recent) >= spec.count and len({h["source"] for h in recent}) >= spec.distinct_sources


def _spiking(spec: Spike, hits: list[dict], now: datetime) -> bool:
    """Rate in the last `window` >= ratio x rate in the `baseline` before it.
    Compared as counts scaled by the other window's length, so no division."""
    current = len(_younger(hits, now, spec.window))
    before = len(_younger(hits, now, spec.window + spec.baseline)) - current
    rates_ok = current * spec.baseline.total_seconds() >= spec.ratio * before * spec.window.total_seconds()
    return current >= spec.min_count and rates_ok


def _triggered(rule: Rule, state: dict, now: datetime, new_term_seen: bool) -> bool:
    """May this report emit? threshold and new_term only decide when the
    alert opens (later reports update it); spike is checked on every report,
    so a group that calms down goes quiet again."""
    if rule.spike is not None:
        return _spiking(rule.spike, state["hits"], now)
    if state["revision"] > 0:
        return True
    if rule.threshold is not None:
        return _threshold_met(rule.threshold, state["hits"], now)
    if rule.new_term is not None:
        return new_term_seen
    return True


def _severity(rule: Rule, state: dict) -> str:
    escalate = rule.escalate
    if escalate is not None and len(state["articles"]) >= escalate.at_corroboration:
        return escalate.to
    return rule.severity


def _throttled(rule: Rule, state: dict, severity: str, now: datetime) -> bool:
    """Held back by throttle? Never the first emission, and never one that
    raises severity: an escalation is news, not noise."""
    if rule.throttle is None or state["revision"] == 0 or "emitted_at" not in state:
        return False
    if SEVERITIES.index(severity) > SEVERITIES.index(state.get("severity", rule.severity)):
        return False
    return now - timestamp(state["emitted_at"]) < rule.throttle.period


def _emitted(rule: Rule, state: dict, severity: str, now: datetime) -> dict:
    out = {
        **state, "revision": state["revision"] + 1, "created_at": state["created_at"] or now.isoformat(),
        "severity": severity,
    }
    if rule.throttle is not None:
        out.update(emitted_at=now.isoformat(), held=0)
    return out


@dataclass(frozen=True)
class Digest:
    """Reports a throttle held back since the previous emission."""

    held: int = 0
    since: str | None = None

    def text(self) -> str:
        plural = "s" if self.held != 1 else ""
        return f"(+{self.held} more matching report{plural} held back since {self.since})"


def required_keys(cond: Any, ruleset: Ruleset, regexes: RegexBank | None = None) -> frozenset[str] | None:
    """Keys an article must have for `cond` to be true: entity ids,
    "event:<type>" and "phrase:<casefolded phrase>", and with a RegexBank
    "regex:<bank id>" for text conditions with regexes only. None when no such
    key exists (source, not, ...), so the rule is checked for every article."""
    if isinstance(cond, EntityCond):
        spec = cond.entity
        every, some = expand(spec.all, ruleset.lists), expand(spec.any, ruleset.lists)
        if every:
            return frozenset(every[:1])  # each id in `all` is required; one suffices
        return frozenset(some) or None
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


def _phrase_automaton(keys: Iterable[str]) -> ahocorasick.Automaton | None:
    """One Aho-Corasick pass finds every indexed phrase an article contains."""
    automaton = ahocorasick.Automaton()
    for key in keys:
        automaton.add_word(key.removeprefix("phrase:"), key)
    if len(automaton) == 0:
        return None
    automaton.make_automaton()
    return automaton


def article_keys(article: Article) -> set[str]:
    return {e.id for e in article.entities} | {f"event:{ev.type}" for ev in article.events}


class SilenceMatcher(Protocol):
    """What the engine asks before it emits: the silence that mutes this
    rule's group at `now`, or None (monitor/rules/silences.py implements it)."""

    def match(self, rule_id: str, group_key: str, now: datetime) -> object | None: ...


class RuleEngine:
    """Matches articles to rules and turns matches into new, updated and
    resolved alerts.

    Rules are indexed by the entity ids, event types, phrases and regexes
    they require, so an article is checked only against the rules it could
    match (plus the few that require nothing indexable, such as `source` or
    `not` alone): cost follows candidate rules, not all. Phrases are found in
    one Aho-Corasick pass, regexes in one RegexBank scan."""

    def __init__(self, ruleset: Ruleset, store: Store | None = None, silences: SilenceMatcher | None = None):
        self.store: Store = store if store is not None else {}
        self.suppressed: dict[str, int] = {}  # per rule: matches an exception suppressed
        self.silences: SilenceMatcher | None = silences
        self.silenced: Counter[str] = Counter()  # per rule: emissions a silence muted
        self.story_group_retention = STORY_GROUP_RETENTION
        self.ruleset = ruleset
        enabled = dependency_order([lr.rule for lr in ruleset.rules if lr.rule.enabled])
        self.rules = {rule.id: rule for rule in enabled}
        self.regexes = RegexBank()
        self.compiled = [
            CompiledRule(
                rule,
                compile_condition(rule.match, ruleset, self.regexes),
                [(exc, compile_condition(exc.match, ruleset, self.regexes)) for exc in rule.exceptions],
            )
            for rule in enabled
        ]
        self.regexes.compile()
        self.correlations = Correlations(enabled, self.store)
        self.due = lifecycle.DueIndex(self.store)
        self._always: list[int] = []
        self._index: dict[str, list[int]] = {}
        for position, compiled in enumerate(self.compiled):
            keys = required_keys(compiled.rule.match, ruleset, self.regexes)
            if keys is None:
                self._always.append(position)
            for key in keys or ():
                self._index.setdefault(key, []).append(position)
        self._phrases = _phrase_automaton(k for k in self._index if k.startswith("phrase:"))

    def expire(self, now: datetime) -> int:
        """Drop the state that can no longer change an outcome; returns how
        many keys went. Only what is certain to be dead goes:

        * a group keyed by story (the default) once it had no report for
          STORY_GROUP_RETENTION: its story has expired by then (stories go
          after 96 h idle), so no report can join that group again. With
          `resolve_after`, only once resolved;
        * a `term:` sighting older than its rule's `new_term.within`, which
          counts as unseen anyway;
        * a `corr:` firing or a `wait:`ing report older than the longest
          `within` that could still use it.

        Groups keyed otherwise (rule, entity, ...) stay: dropping one would
        let a later report open its id again as `new` at revision 1. State of
        a rule that is disabled or gone stays too, in case it comes back."""
        dead = [key for key, value in list(self.store.items()) if self._is_dead(key, value, now)]
        for key in dead:
            del self.store[key]
        return len(dead)

    def _is_dead(self, key: str, value: Any, now: datetime) -> bool:
        if not isinstance(value, dict):
            return False
        if key.startswith("term:"):
            rule = self.rules.get(value.get("rule", ""))
            spec = rule.new_term if rule is not None else None
            return spec is not None and now - timestamp(value["seen_at"]) >= spec.within
        if key.startswith("corr:"):
            spans = [d.correlate.within for d in self.correlations.dependents.get(value.get("rule", ""), [])
                     if d.correlate is not None and d.id in self.rules]
            return bool(spans) and now - timestamp(value["at"]) >= max(spans)
        if key.startswith("wait:"):
            rule = self.rules.get(value.get("rule", ""))
            spec = rule.correlate if rule is not None else None
            return spec is not None and now - timestamp(value["at"]) >= spec.within
        if ":" in key or "seen_at" not in value:
            return False  # the due index, or a group not counted yet
        rule = self.rules.get(value.get("rule", ""))
        if rule is None or "story" not in rule.grouping:
            return False
        if rule.resolve_after is not None and lifecycle.is_open(value):
            return False  # its resolve notice is still to come
        return now - timestamp(value["seen_at"]) >= self.story_group_retention

    def candidates(self, article: Article, view: View | None = None) -> list[CompiledRule]:
        """Rules that could match `article`, in ruleset order."""
        positions = set(self._always)
        keys = article_keys(article)
        view = view or View(article, self.regexes)
        if self._phrases is not None:
            keys.update(key for _end, key in self._phrases.iter(view.haystack(False)))
        keys.update(f"regex:{i}" for i in view.regex_hits())
        for key in keys:
            positions.update(self._index.get(key, ()))
        return [self.compiled[p] for p in sorted(positions)]

    def evaluate(self, article: Article, now: datetime | None = None) -> list[Alert]:
        """Alerts that fell due for resolution by `now` (see `sweep`), then
        the alerts this article creates or updates. Duplicates never fire,
        and never count towards any threshold, spike, new term or throttle."""
        now = now or utcnow()
        alerts = self.sweep(now)
        if article.is_duplicate:
            return alerts
        view = View(article, self.regexes)
        for compiled in self.candidates(article, view):
            evidence = compiled.predicate(view)
            if evidence is None:
                continue
            if self._excepted(compiled, view, now.date()):
                self.suppressed[compiled.rule.id] = self.suppressed.get(compiled.rule.id, 0) + 1
                continue
            alerts.extend(self._record(compiled.rule, article, evidence, now))
        return alerts

    def sweep(self, now: datetime) -> list[Alert]:
        """Resolve every open alert whose group has had no matching report
        for its rule's `resolve_after`, as of `now`: one `resolved` notice
        each, timed when it fell due, earliest first. Idempotent: a second
        sweep finds nothing left to resolve. Cheap when nothing is due (one
        store read), so it may run on every article and on a timer."""
        alerts = []
        for state_key, rule_id, _hint in self.due.pop_due(now):
            rule = self.rules.get(rule_id)
            state = self.store.get(state_key)
            due = lifecycle.due_at(rule, state) if rule is not None and state is not None else None
            if due is None:
                continue  # resolved already, rule removed or disabled, or resolve_after dropped
            if due > now:  # a later report moved it (its entry exists) or resolve_after grew
                self.due.schedule(state_key, rule.id, due)
                continue
            alerts.extend(self._resolve(rule, state_key, state, due, now)[1])
        return alerts

    @staticmethod
    def _excepted(compiled: CompiledRule, view: View, today: date) -> bool:
        return any(
            (exc.until is None or exc.until >= today) and pred(view) is not None
            for exc, pred in compiled.exceptions
        )

    def _record(self, rule: Rule, article: Article, evidence: Evidence, now: datetime) -> list[Alert]:
        """Count one matching report in its group; return what it emits: its
        own alert, a resolution that was overdue, and alerts of `correlate:
        with` rules whose waiting reports this firing releases."""
        key = group_key(rule.grouping, article, evidence)
        state_key = stable_id(rule.id, key)
        previous = self.store.get(state_key)
        if previous is not None and _already_counted(previous, article.id):
            return self._replayed(rule, key, previous, article, evidence, now)
        if not self.correlations.allows(rule, article, evidence, now):
            self.correlations.wait(rule, article, evidence, now)
            return []
        out: list[Alert] = []
        due = lifecycle.due_at(rule, previous) if previous is not None else None
        if due is not None and due <= now:  # quiet long enough, not swept yet
            previous, resolution = self._resolve(rule, state_key, previous, due, now)
            out.extend(resolution)
        if lifecycle.is_closed(previous):
            previous = lifecycle.reopened(rule.id, key, previous)
        ref = ArticleRef(
            id=article.id, url=article.url, source=_source(article),
            published=article.published, title=article.title,
        )
        state = _counted(previous, rule, ref, now)
        new_term_seen = self._note_terms(rule, article, evidence, now)
        if not _triggered(rule, state, now, new_term_seen):
            self._save(rule, state_key, state)  # counted, silently
            return out
        released = self.correlations.fired(rule, article, evidence, now)
        severity = _severity(rule, state)
        if _throttled(rule, state, severity, now):
            self._save(rule, state_key, {**state, "held": state.get("held", 0) + 1})
        else:
            digest = Digest(state.get("held", 0), state.get("emitted_at"))
            state = _emitted(rule, state, severity, now)
            alert = self._alert(rule, key, state, severity, article, evidence, now, digest)
            self._save(rule, state_key, {**state, "key": key, "title": alert.title, "story_id": article.story_id,
                                         "emitted_by": article.id})
            out.extend(self._unless_silenced(rule, key, now, alert))
        for dependent, waiting in released:
            out.extend(self._record(dependent, waiting, Evidence(waiting.entities, waiting.events), now))
        return out

    def _replayed(self, rule: Rule, key: str, state: dict, article: Article, evidence: Evidence,
                  now: datetime) -> list[Alert]:
        """A report counted before, seen again: a replay after a crash. If it
        made the group's latest emission, that revision is emitted again (same
        id, same revision, never a second `new`), because the crash may have
        kept the state but lost the alert; the worker drops the copy when the
        alert did reach its topic (monitor/stream/replay.py). Anything else
        was emitted before the last one, or never: nothing."""
        if state.get("emitted_by") != article.id or lifecycle.is_closed(state):
            return []
        alert = self._alert(rule, key, state, state["severity"], article, evidence, now, Digest(0, None))
        return self._unless_silenced(rule, key, now, alert)

    def _save(self, rule: Rule, state_key: str, state: dict) -> None:
        """Assign, never mutate: faust persists on assignment. An open alert
        of a rule with resolve_after is (re)scheduled for resolution."""
        self.store[state_key] = state
        due = lifecycle.due_at(rule, state)
        if due is not None:
            self.due.schedule(state_key, rule.id, due)

    def _resolve(self, rule: Rule, state_key: str, state: dict, at: datetime,
                 now: datetime) -> tuple[dict, list[Alert]]:
        """Close the alert as of `at` (when it fell due), noting `now` (when
        that was found); the closed state and the notice, if not silenced."""
        closed = {**lifecycle.resolved(state, at), "closed_at": now.isoformat()}
        self.store[state_key] = closed
        return closed, self._unless_silenced(rule, closed.get("key", ""), at, self._notice(rule, state_key, closed))

    def _notice(self, rule: Rule, state_key: str, closed: dict) -> Alert:
        """The resolve notice of a closed group (its fields are the last emission's)."""
        held = Digest(closed.get("held", 0), closed.get("emitted_at"))
        summary = f"No matching report for {format_duration(rule.resolve_after)} since {closed['seen_at']}."
        if rule.throttle is not None and rule.throttle.digest and held.held:
            summary = f"{summary} {held.text()}"
        return Alert(
            id=closed.get("alert_id", state_key), rule_id=rule.id, rule_version=rule.version,
            severity=closed.get("severity", rule.severity), action="resolved", revision=closed["revision"],
            title=closed.get("title", rule.title), summary=summary, group_key=closed.get("key", ""),
            story_id=closed.get("story_id"),
            articles=[ArticleRef.model_validate(a) for a in closed["articles"]],
            corroboration=len(closed["articles"]), sources=closed["sources"], destinations=rule.destinations,
            created_at=timestamp(closed["created_at"]), updated_at=timestamp(closed["resolved_at"]),
        )

    def resolved_since(self, since: datetime) -> list[Alert]:
        """The resolve notice of every alert closed at or after `since`,
        rebuilt from its state, oldest first. After a crash a closed state can
        have landed without its notice, and no replay brings it back (the
        sweep finds the alert closed), so the worker sends those its alert
        topics lack (monitor/stream/replay.py). A notice a silence held back
        stays held back."""
        out = []
        for state_key, state in list(self.store.items()):
            if ":" in state_key or not isinstance(state, dict) or "closed_at" not in state:
                continue
            rule = self.rules.get(state.get("rule", ""))
            if rule is None or rule.resolve_after is None or timestamp(state["closed_at"]) < since:
                continue
            at = timestamp(state["resolved_at"])
            if self.silences is None or self.silences.match(rule.id, state.get("key", ""), at) is None:
                out.append(self._notice(rule, state_key, state))
        return sorted(out, key=lambda alert: alert.updated_at)

    def _unless_silenced(self, rule: Rule, key: str, now: datetime, alert: Alert) -> list[Alert]:
        """The alert, or nothing if a silence mutes this group now: then it is
        counted in `silenced`, and the caller has advanced the state anyway,
        so the next emission after the silence is an update, not a second new."""
        if self.silences is not None and self.silences.match(rule.id, key, now) is not None:
            self.silenced[rule.id] += 1
            return []
        return [alert]

    def _note_terms(self, rule: Rule, article: Article, evidence: Evidence, now: datetime) -> bool:
        """Remember that this rule saw the report's new_term values now; True
        if any of them had not been seen within the lookback. One store key
        per value, so the cost is per value in this report, never per history."""
        spec = rule.new_term
        if spec is None:
            return False
        unseen = False
        for value in sorted(set(selector_values(spec.field, article, evidence))):
            key = term_key(rule.id, spec.field, value)
            seen = self.store.get(key)
            if seen is None or now - timestamp(seen["seen_at"]) >= spec.within:
                unseen = True
            self.store[key] = {"rule": rule.id, "field": spec.field, "value": value, "seen_at": now.isoformat()}
        return unseen

    def _alert(self, rule, group_key, state, severity, article, evidence, now, digest: Digest) -> Alert:
        events = evidence.events
        if rule.template.title or rule.template.summary:
            context = self._context(rule, state, severity, article, evidence, digest)
            title = render(rule.template.title, context) if rule.template.title else rule.title
            summary = render(rule.template.summary, context) if rule.template.summary else (article.title or "")
        else:  # no template: the context would go unused
            title, summary = rule.title, article.title or ""
        if rule.throttle is not None and rule.throttle.digest and digest.held:
            summary = f"{summary} {digest.text()}".strip()
        return Alert(
            id=state.get("alert_id") or stable_id(rule.id, group_key), rule_id=rule.id,
            rule_version=rule.version, severity=severity,
            action="new" if state["revision"] == 1 else "update", revision=state["revision"],
            title=title, summary=summary, group_key=group_key, story_id=article.story_id,
            articles=[ArticleRef.model_validate(a) for a in state["articles"]],
            entities=evidence.entities, events=events,
            corroboration=len(state["articles"]), sources=state["sources"],
            destinations=rule.destinations,
            created_at=timestamp(state["created_at"]), updated_at=now,
            ingested_at=article.ingested_at,
        )

    @staticmethod
    def _context(rule, state, severity, article, evidence, digest: Digest) -> dict[str, Any]:
        """The template fields (TEMPLATE_FIELDS) of one alert."""
        events = evidence.events
        return {
            "rule_id": rule.id, "rule_title": rule.title, "severity": severity,
            "article_title": article.title or "", "source": _source(article),
            "entities": ", ".join(e.name for e in evidence.entities),
            "event": events[0].type if events else "",
            "modality": events[0].modality if events else "",
            "actors": _argument_names(events, "actor", article),
            "destinations": _argument_names(events, "destination", article),
            "counterparts": _argument_names(events, "counterpart", article),
            "story_id": article.story_id or "", "corroboration": len(state["articles"]),
            "suppressed": digest.held,
        }


def _argument_names(events: list[EventTag], slot: str, article: Article) -> str:
    names = {e.id: e.name for e in article.entities}
    ids = [i for ev in events for i in ev.arguments.get(slot, [])]
    return ", ".join(dict.fromkeys(names.get(i, i) for i in ids))
