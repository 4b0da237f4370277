"""Correlation across rules (Sigma's temporal correlation).

A rule with `correlate: {after: A, within: 7d, on: [...]}` fires only when
rule A fired, less than 7 days earlier, for a report with the same key (the
`on` selectors, default the rule's group_by, each computed from the rule's
own report). With `with: A` instead of `after: A` the order does not matter:
if this rule matches first, its report waits, and A's firing within the span
releases it, so the alert goes out then.

"Fired" means a report passed A's match, exceptions and trigger (threshold,
spike, new term): throttle and silences hold back notices, not facts, so a
held or silenced firing still counts.

Store keys, plain data, replaced and never changed in place:
  corr:<hash(A, on, key)>  {"rule": A, "at": ISO}        A's last firing for that key
  wait:<hash(B, key)>      {"rule": B, "at", "article"}  B's latest report waiting for A
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from monitor.durations import timestamp
from monitor.models import Article, stable_id
from monitor.rules.evidence import Evidence
from monitor.rules.groups import group_key
from monitor.rules.schema import Rule
from monitor.state import Store


def dependency_order(rules: list[Rule]) -> list[Rule]:
    """Rules in the given order, except that a rule comes after the rule it
    correlates with: when one article makes both fire, the partner's firing
    is recorded first and counts (the loader refuses cycles)."""
    by_id = {r.id: r for r in rules}
    ordered: list[Rule] = []
    placed: set[str] = set()

    def place(rule: Rule, path: frozenset[str]) -> None:
        if rule.id in placed or rule.id in path:
            return
        partner = by_id.get(rule.correlate.partner) if rule.correlate else None
        if partner is not None:
            place(partner, path | {rule.id})
        placed.add(rule.id)
        ordered.append(rule)

    for rule in rules:
        place(rule, frozenset())
    return ordered


def _fired_key(partner_id: str, selectors: tuple[str, ...], key: str) -> str:
    return "corr:" + stable_id(partner_id, ",".join(selectors), key)


def _wait_key(rule_id: str, key: str) -> str:
    return "wait:" + stable_id(rule_id, key)


class Correlations:
    """Records firings that other rules correlate with, and checks the gate."""

    def __init__(self, rules: Iterable[Rule], store: Store):
        self.store = store
        self.dependents: dict[str, list[Rule]] = {}  # partner id -> rules that correlate with it
        for rule in rules:
            if rule.correlate is not None:
                self.dependents.setdefault(rule.correlate.partner, []).append(rule)

    def allows(self, rule: Rule, article: Article, evidence: Evidence, now: datetime) -> bool:
        """Did the partner fire for this report's key within the span (and,
        for `after`, not later than now)? True for rules without correlate."""
        spec = rule.correlate
        if spec is None:
            return True
        selectors = rule.correlation_key
        record = self.store.get(_fired_key(spec.partner, selectors, group_key(selectors, article, evidence)))
        if record is None:
            return False
        elapsed = now - timestamp(record["at"])
        if spec.ordered:
            return timedelta(0) <= elapsed < spec.within
        return abs(elapsed) < spec.within

    def wait(self, rule: Rule, article: Article, evidence: Evidence, now: datetime) -> None:
        """For `with`: keep this report (the latest per key) until the partner fires."""
        spec = rule.correlate
        if spec is None or spec.ordered:
            return
        key = group_key(rule.correlation_key, article, evidence)
        # the report as the engine needs it again: entities and events are the evidence
        kept = article.model_copy(update={
            "text": "", "paragraphs": [], "entities": evidence.entities, "events": evidence.events,
        })
        self.store[_wait_key(rule.id, key)] = {
            "rule": rule.id, "at": now.isoformat(), "article": kept.model_dump(mode="json"),
        }

    def fired(self, rule: Rule, article: Article, evidence: Evidence, now: datetime) -> list[tuple[Rule, Article]]:
        """Record that `rule` fired on this report; return the waiting reports
        of `with` rules this firing releases (their entities and events are
        their evidence). Each waiting report is released at most once."""
        released: list[tuple[Rule, Article]] = []
        for dependent in self.dependents.get(rule.id, ()):
            selectors = dependent.correlation_key
            key = group_key(selectors, article, evidence)
            self.store[_fired_key(rule.id, selectors, key)] = {"rule": rule.id, "at": now.isoformat()}
            if dependent.correlate is None or dependent.correlate.ordered:
                continue
            waiting = self.store.get(_wait_key(dependent.id, key))
            if waiting is None:
                continue
            del self.store[_wait_key(dependent.id, key)]
            if abs(now - timestamp(waiting["at"])) < dependent.correlate.within:
                released.append((dependent, Article.model_validate(waiting["article"])))
        return released
