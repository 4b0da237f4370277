"""Evaluate a ruleset against tagged articles and keep alert state.

Conditions are compiled once per ruleset into closures, so evaluating an
article does no parsing. Alert state lives in a plain-data store (a dict
offline, a faust table in the daemon) keyed by alert id; the id is derived
from rule and group key, so replays are idempotent.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import re2

from monitor.models import Alert, Article, ArticleRef, EntityTag, EventTag, stable_id, utcnow
from monitor.rules.loader import Ruleset, expand
from monitor.rules.schema import (
    AllCond, AnyCond, ArgumentSpec, DuplicateCond, EntityCond, EventCond, MacroCond,
    NotCond, Rule, SourceCond, TextCond,
)
from monitor.state import Store

MAX_ARTICLES_PER_ALERT = 50


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


class View:
    """Per-article lookups shared by every condition of every rule."""

    def __init__(self, article: Article):
        self.article = article
        self.entities = {e.id: e for e in article.entities}
        self.entity_types = {e.id: e.type for e in article.entities}
        self._haystack = "\n".join(filter(None, [article.title, article.text]))
        self._folded: str | None = None

    def haystack(self, case_sensitive: bool) -> str:
        if case_sensitive:
            return self._haystack
        if self._folded is None:
            self._folded = self._haystack.casefold()
        return self._folded


Predicate = Callable[[View], Evidence | None]


def compile_condition(cond: Any, ruleset: Ruleset) -> Predicate:
    lists = ruleset.lists
    if isinstance(cond, AllCond):
        parts = [compile_condition(c, ruleset) for c in cond.all]

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
        parts = [compile_condition(c, ruleset) for c in cond.any]

        def any_of(view: View) -> Evidence | None:
            for part in parts:
                ev = part(view)
                if ev is not None:
                    return ev
            return None
        return any_of
    if isinstance(cond, NotCond):
        inner = compile_condition(cond.not_, ruleset)
        return lambda view: Evidence() if inner(view) is None else None
    if isinstance(cond, MacroCond):
        return compile_condition(ruleset.macros[cond.macro], ruleset)
    if isinstance(cond, EntityCond):
        return _entity_predicate(cond, lists)
    if isinstance(cond, EventCond):
        return _event_predicate(cond, lists)
    if isinstance(cond, TextCond):
        return _text_predicate(cond)
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


def _argument_ok(spec: ArgumentSpec, ids: list[str], lists, view: View) -> bool:
    wanted = set(expand(spec.any, lists))
    if wanted and not wanted.intersection(ids):
        return False
    if spec.type and not any(view.entity_types.get(i) in spec.type for i in ids):
        return False
    return True


def _event_predicate(cond: EventCond, lists) -> Predicate:
    spec = cond.event
    types, modalities, slots = set(spec.type), set(spec.modality), spec.arguments()

    def check(view: View) -> Evidence | None:
        hits = [
            ev for ev in view.article.events
            if ev.type in types
            and ev.modality in modalities
            and ev.confidence >= spec.min_confidence
            and all(_argument_ok(s, ev.arguments.get(slot, []), lists, view) for slot, s in slots.items())
        ]
        if not hits:
            return None
        ids = {i for ev in hits for ids in ev.arguments.values() for i in ids}
        return Evidence(entities=[view.entities[i] for i in ids if i in view.entities], events=hits)
    return check


def _text_predicate(cond: TextCond) -> Predicate:
    spec = cond.text
    fold = (lambda s: s) if spec.case_sensitive else str.casefold
    phrases = [fold(p) for p in spec.phrases]
    all_phrases = [fold(p) for p in spec.all_phrases]
    options = re2.Options()
    options.case_sensitive = spec.case_sensitive
    regexes = [re2.compile(p, options) for p in spec.regex]

    def check(view: View) -> Evidence | None:
        hay = view.haystack(spec.case_sensitive)
        if all_phrases and not all(p in hay for p in all_phrases):
            return None
        if phrases and not any(p in hay for p in phrases):
            return None
        if regexes and not any(r.search(view.haystack(True)) for r in regexes):
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
    "event", "modality", "actors", "destinations", "story_id", "corroboration",
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


class RuleEngine:
    """Matches articles to rules and turns matches into new or updated alerts."""

    def __init__(self, ruleset: Ruleset, store: Store | None = None):
        self.store: Store = store if store is not None else {}
        self.suppressed: dict[str, int] = {}
        self.ruleset = ruleset
        self.compiled = [
            CompiledRule(
                lr.rule,
                compile_condition(lr.rule.match, ruleset),
                [(exc, compile_condition(exc.match, ruleset)) for exc in lr.rule.exceptions],
            )
            for lr in ruleset.rules if lr.rule.enabled
        ]

    def evaluate(self, article: Article, now: datetime | None = None) -> list[Alert]:
        """Alerts this article creates or updates. Duplicates never fire."""
        if article.is_duplicate:
            return []
        now = now or utcnow()
        view = View(article)
        alerts = []
        for compiled in self.compiled:
            evidence = compiled.predicate(view)
            if evidence is None:
                continue
            if self._excepted(compiled, view, now.date()):
                self.suppressed[compiled.rule.id] = self.suppressed.get(compiled.rule.id, 0) + 1
                continue
            alert = self._record(compiled.rule, article, evidence, now)
            if alert is not None:
                alerts.append(alert)
        return alerts

    @staticmethod
    def _excepted(compiled: CompiledRule, view: View, today: date) -> bool:
        return any(
            (exc.until is None or exc.until >= today) and pred(view) is not None
            for exc, pred in compiled.exceptions
        )

    def _record(self, rule: Rule, article: Article, evidence: Evidence, now: datetime) -> Alert | None:
        group_key = (article.story_id or article.id) if rule.novelty.per == "story" else ""
        alert_id = stable_id(rule.id, group_key)
        state = self.store.get(alert_id)
        ref = ArticleRef(
            id=article.id, url=article.url, source=article.agency or article.source,
            published=article.published, title=article.title,
        )
        if state is None:
            state = {
                "revision": 1, "created_at": now.isoformat(),
                "articles": [ref.model_dump(mode="json")], "sources": [ref.source],
            }
            action = "new"
        else:
            if any(a["id"] == article.id for a in state["articles"]):
                return None  # replay of an article already counted
            sources = state["sources"] + ([ref.source] if ref.source not in state["sources"] else [])
            state = {
                "revision": state["revision"] + 1, "created_at": state["created_at"],
                "articles": (state["articles"] + [ref.model_dump(mode="json")])[-MAX_ARTICLES_PER_ALERT:],
                "sources": sources,
            }
            action = "update"
        self.store[alert_id] = state  # assign, never mutate: faust persists on assignment
        return self._alert(rule, alert_id, group_key, state, action, article, evidence, now)

    def _alert(self, rule, alert_id, group_key, state, action, article, evidence, now) -> Alert:
        events = evidence.events
        context = {
            "rule_id": rule.id, "rule_title": rule.title, "severity": rule.severity,
            "article_title": article.title or "", "source": article.agency or article.source,
            "entities": ", ".join(e.name for e in evidence.entities),
            "event": events[0].type if events else "",
            "modality": events[0].modality if events else "",
            "actors": _argument_names(events, "actor", article),
            "destinations": _argument_names(events, "destination", article),
            "story_id": article.story_id or "", "corroboration": len(state["articles"]),
        }
        title = render(rule.template.title, context) if rule.template.title else rule.title
        summary = render(rule.template.summary, context) if rule.template.summary else (article.title or "")
        return Alert(
            id=alert_id, rule_id=rule.id, rule_version=rule.version, severity=rule.severity,
            action=action, revision=state["revision"], title=title, summary=summary,
            group_key=group_key, story_id=article.story_id,
            articles=[ArticleRef.model_validate(a) for a in state["articles"]],
            entities=evidence.entities, events=events,
            corroboration=len(state["articles"]), sources=state["sources"],
            destinations=rule.destinations,
            created_at=datetime.fromisoformat(state["created_at"]), updated_at=now,
            ingested_at=article.ingested_at,
        )


def _argument_names(events: list[EventTag], slot: str, article: Article) -> str:
    names = {e.id: e.name for e in article.entities}
    ids = [i for ev in events for i in ev.arguments.get(slot, [])]
    return ", ".join(dict.fromkeys(names.get(i, i) for i in ids))
