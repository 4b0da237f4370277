"""SilenceSet: what the rule engine asks before it alerts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from monitor.rules.silences import Silence, SilenceSet

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)


def silence(rule_id: str, hours: float = 4, key: str | None = None, **kw) -> Silence:
    return Silence.create(rule_id, timedelta(hours=hours), key=key, now=T0, created_by="ana", **kw)


def test_a_silence_mutes_only_its_rule():
    s = silence("leader-border-crossing")
    silences = SilenceSet([s])
    assert silences.match("leader-border-crossing", "story-1", T0) == s
    assert silences.match("arms-transfer-reported", "story-1", T0) is None


def test_without_key_every_group_is_muted_with_a_key_only_that_group():
    any_group, one_group = silence("summit"), silence("arms", key="country:KP|country:RU")
    silences = SilenceSet([any_group, one_group])
    assert silences.match("summit", "story-1", T0) == any_group
    assert silences.match("summit", "story-2", T0) == any_group
    assert silences.match("arms", "country:KP|country:RU", T0) == one_group
    assert silences.match("arms", "country:IR|country:RU", T0) is None


def test_expired_silences_never_match():
    s = silence("summit", hours=4)
    silences = SilenceSet([s])
    assert silences.match("summit", "k", T0 + timedelta(hours=4) - timedelta(seconds=1)) == s
    assert silences.match("summit", "k", T0 + timedelta(hours=4)) is None  # half-open, like rule windows
    assert silences.match("summit", "k", T0 + timedelta(days=30)) is None
    assert silences.current(T0 + timedelta(hours=5)) == []
    assert silences.all() == [s]  # still stored until removed


def test_when_several_match_the_longest_lasting_is_reported():
    short, long = silence("summit", hours=1), silence("summit", hours=8)
    assert SilenceSet([short, long]).match("summit", "k", T0) == long


def test_remove_and_topic_records_add_replace_and_tombstone():
    s = silence("summit", reason="known parade")
    silences = SilenceSet()
    silences.apply_record(s.id.encode(), s.model_dump_json().encode())
    assert silences.match("summit", "k", T0) == s

    extended = s.model_copy(update={"until": T0 + timedelta(days=1)})
    silences.apply_record(s.id.encode(), extended.model_dump_json().encode())
    assert len(silences) == 1 and silences.match("summit", "k", T0 + timedelta(hours=10)) == extended

    silences.apply_record(s.id.encode(), None)  # tombstone
    assert silences.match("summit", "k", T0) is None and s.id not in silences

    silences.apply(s)
    assert silences.remove(s.id) == s and silences.remove(s.id) is None


def test_an_unreadable_record_is_skipped_and_mutes_nothing():
    silences = SilenceSet()
    silences.apply_record(b"x", b"{not json")
    silences.apply_record(b"y", b'{"id": "y", "rule_id": "summit"}')  # no times
    assert len(silences) == 0


def test_a_silence_must_end_after_it_starts():
    with pytest.raises(ValidationError):
        Silence(id="a", rule_id="r", created_at=T0, until=T0)


def test_created_silences_get_distinct_ids_and_the_user():
    a, b = silence("summit"), silence("summit")
    assert a.id != b.id and a.created_by == "ana"
    assert a.until - a.created_at == timedelta(hours=4)
