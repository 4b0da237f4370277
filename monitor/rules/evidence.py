"""What made a condition true (`Evidence`): produced by the compiled
conditions, grouped on (groups.py), correlated (correlate.py) and carried
into the alert by the engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from monitor.models import EntityTag, EventTag


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
