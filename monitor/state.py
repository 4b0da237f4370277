"""Where the processing core keeps its memory.

The core never knows whether it runs in the daemon or offline: it is handed
plain ``MutableMapping[str, JSON]`` stores. Offline they are dicts; in the
daemon they are changelog-backed faust tables, so a restarted worker gets its
memory back. Two rules follow from faust tables:

* values must be JSON-serialisable plain data (dict, list, str, int, float);
* a value is only persisted when it is assigned, so never mutate a value in
  place: read it, build a new one, write it back with ``store[key] = value``.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

Store = MutableMapping[str, Any]

STORE_NAMES = ("dedup_exact", "dedup_docs", "dedup_bands", "stories", "story_index", "rules")


@dataclass
class StateStores:
    """The named stores the core uses; one table each in the daemon."""

    dedup_exact: Store = field(default_factory=dict)
    dedup_docs: Store = field(default_factory=dict)
    dedup_bands: Store = field(default_factory=dict)
    stories: Store = field(default_factory=dict)
    story_index: Store = field(default_factory=dict)
    rules: Store = field(default_factory=dict)
