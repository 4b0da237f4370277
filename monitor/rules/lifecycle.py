"""Alert lifecycle: `new`, then `update` for each revision, then `resolved`
once the alert's group had no matching report for the rule's `resolve_after`.

Resolution happens while nothing arrives, so something must find the alerts
that fell due at a given time without reading every alert state (the store
also holds new-term sightings, counts of unopened groups, resolved alerts).
That is the `DueIndex`: a timing wheel kept in the same plain-data store,
with one key per 5-minute bucket of due times and a cursor naming the first
and last bucket in use. Finding nothing due costs one read of the cursor.

Index entries are hints, not truth: the alert's state decides. A group that
saw another report since it was scheduled has a later due time (and a later
entry); the stale entry is dropped when its bucket comes up.

A resolved alert stays resolved. A later matching report opens a new
*episode* of the group: a fresh alert (`action: new`, revision 1) under an
id derived from rule, group key and episode number, so no subscriber ever
sees an id go from `resolved` back to open, nor a second `new` for one id.
"""

from __future__ import annotations

from datetime import datetime

from monitor.durations import timestamp
from monitor.models import stable_id
from monitor.rules.schema import Rule
from monitor.state import Store

BUCKET_SECONDS = 300
CURSOR = "due:cursor"


def _bucket(at: datetime) -> int:
    return int(at.timestamp()) // BUCKET_SECONDS


def _bucket_key(bucket: int) -> str:
    return f"due:{bucket}"


class DueIndex:
    """When each open alert of a rule with `resolve_after` falls due.

    Store keys: `due:<bucket>` -> {state key: [rule id, due ISO]} and
    `due:cursor` -> {"first": bucket, "last": bucket}; absent when empty.
    Values are replaced, never changed in place (faust persists on assignment)."""

    def __init__(self, store: Store):
        self.store = store

    def schedule(self, state_key: str, rule_id: str, due: datetime) -> None:
        bucket = _bucket(due)
        key = _bucket_key(bucket)
        entries = self.store.get(key) or {}
        entry = [rule_id, due.isoformat()]
        if entries.get(state_key) != entry:
            self.store[key] = {**entries, state_key: entry}
        cursor = self.store.get(CURSOR)
        if cursor is None:
            self.store[CURSOR] = {"first": bucket, "last": bucket}
        elif not cursor["first"] <= bucket <= cursor["last"]:
            self.store[CURSOR] = {"first": min(cursor["first"], bucket), "last": max(cursor["last"], bucket)}

    def pop_due(self, now: datetime) -> list[tuple[str, str, datetime]]:
        """Remove and return (state key, rule id, due) of every entry due at
        or before `now`, earliest first."""
        cursor = self.store.get(CURSOR)
        if cursor is None:
            return []
        first, last, current = cursor["first"], cursor["last"], _bucket(now)
        if current < first:
            return []
        due: list[tuple[str, str, datetime]] = []
        left_in_current = False
        for bucket in range(first, min(current, last) + 1):
            key = _bucket_key(bucket)
            entries = self.store.get(key)
            if not entries:
                continue
            ready = {k for k, (_rule, at) in entries.items() if timestamp(at) <= now}
            due.extend((k, entries[k][0], timestamp(entries[k][1])) for k in ready)
            rest = {k: v for k, v in entries.items() if k not in ready}
            if rest:
                left_in_current = True  # only the current bucket can hold entries not yet due
                if ready:
                    self.store[key] = rest
            elif key in self.store:
                del self.store[key]
        if current >= last and not left_in_current:
            del self.store[CURSOR]
        elif first != min(current, last):
            self.store[CURSOR] = {"first": min(current, last), "last": last}
        return sorted(due, key=lambda item: (item[2], item[0]))


# ---------------------------------------------------------------- group state
#
# Lifecycle fields of a group's state (see engine.py for the others):
#   seen_at      the last counted report (ISO): the quiet period starts here
#   resolved_at  set once resolved (ISO); the state is then closed for good
#   episode      1 unless the group was resolved and reopened
#   alert_id     the alert id of episodes after the first


def is_open(state: dict | None) -> bool:
    return state is not None and state["revision"] > 0 and "resolved_at" not in state


def is_closed(state: dict | None) -> bool:
    return state is not None and "resolved_at" in state


def due_at(rule: Rule, state: dict) -> datetime | None:
    """When the open alert resolves if nothing else arrives; None if never."""
    if rule.resolve_after is None or not is_open(state) or "seen_at" not in state:
        return None
    return timestamp(state["seen_at"]) + rule.resolve_after


def resolved(state: dict, at: datetime) -> dict:
    """The closed state: one more revision, the resolve notice."""
    return {**state, "revision": state["revision"] + 1, "resolved_at": at.isoformat()}


def reopened(rule_id: str, key: str, closed: dict) -> dict:
    """A fresh state for the next episode of a resolved group: counting and
    triggers start over, under a new alert id."""
    episode = closed.get("episode", 1) + 1
    return {
        "revision": 0, "created_at": None, "articles": [], "sources": [],
        "episode": episode, "alert_id": episode_alert_id(rule_id, key, episode),
    }


def episode_alert_id(rule_id: str, key: str, episode: int) -> str:
    """Episode 1 keeps the plain id (a hash of rule id and group key)."""
    return stable_id(rule_id, key) if episode == 1 else stable_id(rule_id, key, f"episode {episode}")
