"""Where the processing core keeps its memory.

The core never knows whether it runs in the daemon or offline: it is handed
plain ``MutableMapping[str, JSON]`` stores. Offline they are dicts; in the
daemon they are changelog-backed faust tables, so a restarted worker gets its
memory back. Two rules follow from faust tables:

* values must be JSON-serialisable plain data (dict, list, str, int, float);
* a value is only persisted when it is assigned, so never mutate a value in
  place: read it, build a new one, write it back with ``store[key] = value``.

Every assignment is a changelog record (the worker's largest cost after the
core), so only primary data is stored. Indexes that can be computed from it
(dedup candidate bands from ``dedup_docs``, story postings from ``stories``,
article -> story from ``story_reports``) live in memory in the core and are
rebuilt on first use after a restart or a table recovery
(``Pipeline.reset_indexes``).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

Store = MutableMapping[str, Any]

STORE_NAMES = ("dedup_exact", "dedup_docs", "stories", "story_reports", "story_df", "rules")


@dataclass
class StateStores:
    """The named stores the core uses; one table each in the daemon."""

    dedup_exact: Store = field(default_factory=dict)
    dedup_docs: Store = field(default_factory=dict)  # original id -> signature, paragraph hashes
    stories: Store = field(default_factory=dict)  # story id -> profile (with the keys it is posted under)
    story_reports: Store = field(default_factory=dict)  # "story id/bucket" -> reports
    story_df: Store = field(default_factory=dict)  # online document frequencies, sharded
    rules: Store = field(default_factory=dict)


class JsonStore(MutableMapping[str, Any]):
    """A store with faust-table semantics, for tests and benchmarks: values are
    serialised on assignment and parsed on read, so a value that is not plain
    data fails at once and an in-place change of a read value is lost, as it
    would be in the daemon."""

    def __init__(self) -> None:
        self._data: dict[str, str] = {}

    def __getitem__(self, key: str) -> Any:
        return json.loads(self._data[key])

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = json.dumps(value, separators=(",", ":"))

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def nbytes(self) -> int:
        """Serialised size of keys and values: what the state costs."""
        return sum(len(k) + len(v) for k, v in self._data.items())


class CountingStore(MutableMapping[str, Any]):
    """A dict store that counts writes and deletes: in the daemon each one is a
    changelog record, so tests and benchmarks can hold the count down."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.writes = 0

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.writes += 1
        self.data[key] = value

    def __delitem__(self, key: str) -> None:
        self.writes += 1
        del self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self.data))

    def __len__(self) -> int:
        return len(self.data)

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def get(self, key: str, default: Any = None) -> Any:  # a dict's speed: the benchmarks time through it
        return self.data.get(key, default)


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside (building a derived index makes
    many containers at once, and each collection would walk them all)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
