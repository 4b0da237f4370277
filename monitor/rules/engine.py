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

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from monitor.durations import timestamp
from monitor.log import get_logger
from monitor.models import Alert, Article, ArticleRef, EventTag, stable_id, utcnow
from monitor.rules import lifecycle
from monitor.rules.conditions import (
    Predicate,
    RegexBank,
    View,
    article_keys,
    compile_condition,
    phrase_automaton,
    required_keys,
)
from monitor.rules.correlate import Correlations, dependency_order
from monitor.rules.evidence import Evidence
from monitor.rules.groups import group_key, selector_values, term_key
from monitor.rules.groups import source_of as _source
from monitor.rules.loader import Ruleset
from monitor.rules.schema import Rule, format_duration
from monitor.rules.templates import TEMPLATE_NAMES, render
from monitor.rules.transitions import Digest, already_counted, counted, emitted, severity_for, throttled, triggered
from monitor.state import Store

# how long a group keyed by story stays after its last report; the pipeline
# sets StoryConfig.memory_hours (this at the default story TTL), so rule state
# never outlives its stories by days
STORY_GROUP_RETENTION = timedelta(days=7)

log = get_logger(__name__)


@dataclass
class CompiledRule:
    rule: Rule
    predicate: Predicate
    exceptions: list[tuple[Any, Predicate]]


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
        # whether a story is still open (the pipeline's story store); its groups stay while it is
        self.story_is_open: Callable[[str], bool] = lambda _story_id: False
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
        self._phrases = phrase_automaton(k for k in self._index if k.startswith("phrase:"))

    def expire(self, now: datetime) -> int:
        """Drop the state that can no longer change an outcome; returns how
        many keys went. Only what is certain to be dead goes:

        * a group keyed by story (the default) once it had no report for
          ``story_group_retention`` and its story is closed
          (``story_is_open``), so no report can join that group again. With
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
        if value.get("story_id") and self.story_is_open(value["story_id"]):
            return False  # other reports keep its story open: a matching one may still come
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
        if previous is not None and already_counted(previous, article.id):
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
            published=article.published, title=article.title, title_derived=article.title_derived,
        )
        state = counted(previous, rule, ref, now)
        new_term_seen = self._note_terms(rule, article, evidence, now)
        if not triggered(rule, state, now, new_term_seen):
            self._save(rule, state_key, state)  # counted, silently
            return out
        released = self.correlations.fired(rule, article, evidence, now)
        severity = severity_for(rule, state)
        if throttled(rule, state, severity, now):
            self._save(rule, state_key, {**state, "held": state.get("held", 0) + 1})
        else:
            digest = Digest(state.get("held", 0), state.get("emitted_at"))
            state = emitted(rule, state, severity, now)
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
        alert did reach its topic (monitor/worker/replay.py). Anything else
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
        topics lack (monitor/worker/replay.py). A notice a silence held back
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
        silence = self.silences.match(rule.id, key, now) if self.silences is not None else None
        if silence is not None:
            self.silenced[rule.id] += 1
            log.info("alert_silenced", rule_id=rule.id, alert_id=alert.id, action=alert.action,
                     revision=alert.revision, group_key=key, silence_id=getattr(silence, "id", None),
                     until=str(getattr(silence, "until", "")), reason=getattr(silence, "reason", ""))
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
            "names": ", ".join(n.name for n in article.names[:TEMPLATE_NAMES]),
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
