"""How one group's alert state moves when a report is counted: count it,
decide whether it triggers, throttle, emit (the steps listed in engine.py).
Pure functions from the old state dict to the new one; every time comes from
the `now` passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.durations import SEVERITIES, timestamp
from monitor.models import ArticleRef
from monitor.rules.schema import MAX_ARTICLES_PER_ALERT, Rule, Spike, Threshold

MAX_HITS = 1000  # timestamped matches kept per group for threshold / spike windows


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


def already_counted(state: dict, article_id: str) -> bool:
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


def counted(previous: dict | None, rule: Rule, ref: ArticleRef, now: datetime) -> dict:
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


def triggered(rule: Rule, state: dict, now: datetime, new_term_seen: bool) -> bool:
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


def severity_for(rule: Rule, state: dict) -> str:
    escalate = rule.escalate
    if escalate is not None and len(state["articles"]) >= escalate.at_corroboration:
        return escalate.to
    return rule.severity


def throttled(rule: Rule, state: dict, severity: str, now: datetime) -> bool:
    """Held back by throttle? Never the first emission, and never one that
    raises severity: an escalation is news, not noise."""
    if rule.throttle is None or state["revision"] == 0 or "emitted_at" not in state:
        return False
    if SEVERITIES.index(severity) > SEVERITIES.index(state.get("severity", rule.severity)):
        return False
    return now - timestamp(state["emitted_at"]) < rule.throttle.period


def emitted(rule: Rule, state: dict, severity: str, now: datetime) -> dict:
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
