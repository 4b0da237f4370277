"""Silences: an operator mutes one rule (or one group of it) for a while.

Unlike a rule's `exceptions`, a silence is an operational act, not part of
the rule pack: it is made from the command line, lives in the compacted
topic `news.silences` (see monitor/kafka/silences.py) and expires by
itself. The engine asks `SilenceSet.match` for every match it is about to
emit, and counts silenced matches instead of dropping them without trace.

Pure: no Kafka here. Records are applied in topic order; a tombstone (a
record without a value) removes the silence with that key.
"""

from __future__ import annotations

import getpass
import os
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from monitor.log import get_logger
from monitor.models import utcnow

log = get_logger(__name__)


class Silence(BaseModel):
    """One silence. Value of a `news.silences` record, keyed by `id`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    rule_id: str
    key: str | None = Field(default=None, description="the alert's group_key; None silences every group")
    created_at: datetime
    until: datetime = Field(description="the silence no longer matches from this instant on")
    reason: str = ""
    created_by: str = ""

    @model_validator(mode="after")
    def _ends_after_start(self) -> Silence:
        if self.until <= self.created_at:
            raise ValueError("a silence must end after it starts")
        return self

    @classmethod
    def create(cls, rule_id: str, duration: timedelta, *, key: str | None = None, reason: str = "",
               now: datetime | None = None, created_by: str | None = None) -> Silence:
        now = now or utcnow()
        return cls(
            id=uuid.uuid4().hex[:12], rule_id=rule_id, key=key, created_at=now, until=now + duration,
            reason=reason, created_by=created_by if created_by is not None else _user(),
        )

    def active(self, now: datetime) -> bool:
        """Half-open like every window in the rule language: at `until` it is over."""
        return now < self.until

    def covers(self, rule_id: str, group_key: str, now: datetime) -> bool:
        return self.rule_id == rule_id and self.key in (None, group_key) and self.active(now)


def _user() -> str:
    """$USER, else the login name; '' where neither exists (some containers)."""
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (OSError, KeyError):
        return ""


class SilenceSet:
    """The current silences, as the engine sees them (its `silences` protocol:
    `match(rule_id, group_key, now) -> Silence | None`)."""

    def __init__(self, silences: Iterable[Silence] = ()) -> None:
        self._by_id: dict[str, Silence] = {}
        for silence in silences:
            self.apply(silence)

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, silence_id: object) -> bool:
        return silence_id in self._by_id

    def get(self, silence_id: str) -> Silence | None:
        return self._by_id.get(silence_id)

    def apply(self, silence: Silence) -> None:
        """Add a silence, or replace the one with the same id."""
        self._by_id[silence.id] = silence

    def remove(self, silence_id: str) -> Silence | None:
        return self._by_id.pop(silence_id, None)

    def apply_record(self, key: bytes | str | None, value: bytes | None) -> None:
        """One record of the silences topic: a Silence as JSON, or a tombstone.
        An unreadable record is logged and skipped; it must not stop the
        worker, and it cannot silence anything."""
        silence_id = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
        if value is None:
            if silence_id:
                self.remove(silence_id)
            return
        try:
            silence = Silence.model_validate_json(value)
        except ValidationError as exc:
            log.warning("silence_unreadable", key=silence_id, error=exc.errors()[0]["msg"])
            return
        if silence_id and silence_id != silence.id:
            log.warning("silence_key_mismatch", key=silence_id, id=silence.id)
        self.apply(silence)

    def match(self, rule_id: str, group_key: str, now: datetime) -> Silence | None:
        """The silence that mutes this rule's group at `now`, if any (the one
        lasting longest when several do). Expired silences never match."""
        found = [s for s in self._by_id.values() if s.covers(rule_id, group_key, now)]
        return max(found, key=lambda s: (s.until, s.id)) if found else None

    def current(self, now: datetime) -> list[Silence]:
        """Silences still in force, soonest to expire first."""
        return sorted((s for s in self._by_id.values() if s.active(now)), key=lambda s: (s.until, s.id))

    def all(self) -> list[Silence]:
        return sorted(self._by_id.values(), key=lambda s: (s.until, s.id))
