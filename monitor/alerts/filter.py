"""Which alerts a subscriber wants (`newsmon alerts tail` and every sink)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from monitor.durations import SEVERITIES
from monitor.models import Alert


def alert_filter(rules: Iterable[str] = (), min_severity: str | None = None,
                 entities: Iterable[str] = ()) -> Callable[[Alert], bool]:
    """Which alerts a subscriber wants: any of the rules, at least the severity,
    mentioning any of the entities (each filter applies only when given)."""
    rules, entities = set(rules), set(entities)
    floor = SEVERITIES.index(min_severity) if min_severity else 0

    def wanted(alert: Alert) -> bool:
        return (
            (not rules or alert.rule_id in rules)
            and SEVERITIES.index(alert.severity) >= floor
            and (not entities or any(e.id in entities for e in alert.entities))
        )
    return wanted
