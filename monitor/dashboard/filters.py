"""The alert list's filters, read from and written back to the URL query, so
every view can be bookmarked, shared and survives a reload. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from monitor.dashboard.display import aware, iso, parse_duration
from monitor.models import Alert

SEVERITIES = ("info", "low", "medium", "high", "critical")
ACTIONS = ("new", "update", "resolved")
MODALITIES = ("asserted", "planned", "speculative", "denied", "conditional", "historical")
MULTI = ("rule", "entity", "event", "modality", "source", "action")


@dataclass
class AlertFilter:
    severity: str | None = None  # at least this severity
    rule: set[str] = field(default_factory=set)
    entity: set[str] = field(default_factory=set)  # entity id, or name (case-insensitive)
    event: set[str] = field(default_factory=set)
    modality: set[str] = field(default_factory=set)
    source: set[str] = field(default_factory=set)
    action: set[str] = field(default_factory=set)  # the alert's latest action
    since: str | None = None  # a duration back from now, e.g. "24h"
    start: datetime | None = None  # or an absolute range (updated_at)
    end: datetime | None = None
    q: str = ""  # words in the title
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, query: Mapping[str, Sequence[str]]) -> AlertFilter:
        """From `{name: [values]}`; a bad value is reported in `errors` and
        that filter left off, never an exception."""
        f = cls()

        def values(name: str) -> set[str]:
            return {v.strip() for raw in query.get(name, ()) for v in raw.split(",") if v.strip()}

        for name in MULTI:
            setattr(f, name, values(name))
        for name, allowed in (("action", ACTIONS), ("modality", MODALITIES)):
            bad = getattr(f, name) - set(allowed)
            if bad:
                f.errors.append(f"unknown {name} {', '.join(sorted(bad))}; one of {', '.join(allowed)}")
                setattr(f, name, getattr(f, name) & set(allowed))
        severity = next(iter(query.get("severity", ())), "").strip().lower().removeprefix(">=")
        if severity:
            if severity in SEVERITIES:
                f.severity = severity
            else:
                f.errors.append(f"unknown severity {severity!r}; one of {', '.join(SEVERITIES)}")
        since = next(iter(query.get("since", ())), "").strip()
        if since:
            try:
                parse_duration(since)
                f.since = since
            except ValueError as exc:
                f.errors.append(str(exc))
        for name in ("start", "end"):
            text = next(iter(query.get(name, ())), "").strip()
            if text:
                try:
                    setattr(f, name, aware(datetime.fromisoformat(text)))
                except ValueError:
                    f.errors.append(f"{name}: not a date and time: {text!r} (e.g. 2026-05-01T14:00)")
        f.q = next(iter(query.get("q", ())), "").strip()[:200]
        return f

    def to_query(self, **changes) -> str:
        """The URL query of this filter (with `changes` applied), canonical order."""
        data = {name: getattr(self, name) for name in ("severity", *MULTI, "since", "start", "end", "q")}
        data.update(changes)
        pairs: list[tuple[str, str]] = []
        for name, value in data.items():
            if isinstance(value, set):
                pairs.extend((name, v) for v in sorted(value))
            elif isinstance(value, datetime):
                pairs.append((name, iso(value) or ""))
            elif value:
                pairs.append((name, str(value)))
        return urlencode(pairs)

    @property
    def active(self) -> bool:
        return bool(self.to_query())

    def window(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        start = now - parse_duration(self.since) if self.since else self.start
        return start, self.end

    def matches(self, alert: Alert, now: datetime) -> bool:
        if self.severity and SEVERITIES.index(alert.severity) < SEVERITIES.index(self.severity):
            return False
        if self.rule and alert.rule_id not in self.rule:
            return False
        if self.action and alert.action not in self.action:
            return False
        if self.source and not self.source.intersection(alert.sources):
            return False
        if self.entity:
            wanted = {e.lower() for e in self.entity}
            if not any(e.id in self.entity or e.name.lower() in wanted for e in alert.entities):
                return False
        if self.event and not any(e.type in self.event for e in alert.events):
            return False
        if self.modality and not any(e.modality in self.modality for e in alert.events):
            return False
        start, end = self.window(now)
        updated = aware(alert.updated_at)
        if start and updated < start:
            return False
        if end and updated >= end:
            return False
        return not self.q or all(word in alert.title.lower() for word in self.q.lower().split())


def since_choices() -> list[tuple[str, str]]:
    return [("", "any time"), ("1h", "last hour"), ("24h", "last day"), ("7d", "last week")]


def duration_ok(text: str) -> timedelta:
    """A silence duration: positive, at most 90 days."""
    duration = parse_duration(text)
    if duration <= timedelta(0) or duration > timedelta(days=90):
        raise ValueError("a duration between 1s and 90d")
    return duration
