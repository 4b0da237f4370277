"""The engine side of silences: a silenced emission is not returned, it is
counted per rule, and the alert state advances as if it had gone out.

The silence store itself (monitor/rules/silences.py) has its own tests; here
a minimal `SilenceMatcher` stands in, so these tests pin the protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tests.unit.test_rules_correlate import arms, fired, pair, summit
from tests.unit.test_rules_stateful import Feed, at, kim, rules


@dataclass(frozen=True)
class Mute:
    rule_id: str
    until: datetime
    key: str | None = None


class Silences:
    """SilenceMatcher: the first mute covering rule, key and time, or None."""

    def __init__(self, *mutes: Mute):
        self.mutes = list(mutes)
        self.asked: list[tuple[str, str, datetime]] = []

    def match(self, rule_id: str, group_key: str, now: datetime) -> Mute | None:
        self.asked.append((rule_id, group_key, now))
        return next((m for m in self.mutes if m.rule_id == rule_id and m.key in (None, group_key) and now < m.until), None)


def silenced_feed(yaml: dict, *mutes: Mute) -> Feed:
    feed = Feed(yaml)
    feed.engine.silences = Silences(*mutes)
    return feed


def test_a_silenced_new_alert_is_counted_and_the_next_one_after_the_silence_is_an_update():
    feed = silenced_feed(rules(), Mute("r1", at(4)))
    assert feed(kim("a1"), at(0)) == []
    assert feed(kim("a2"), at(1)) == []
    assert feed.engine.silenced == {"r1": 2}
    (alert,) = feed(kim("a3"), at(4))  # the silence is over at `until`
    assert (alert.action, alert.revision, alert.corroboration) == ("update", 3, 3)
    assert feed.engine.silences.asked[-1] == ("r1", "s1", at(4))


def test_a_silence_on_one_group_key_leaves_the_others_alone():
    feed = silenced_feed(rules(), Mute("r1", at(10), key="s1"))
    assert feed(kim("a1", story="s1"), at(0)) == []
    (other,) = feed(kim("b1", story="s2"), at(0))
    assert other.group_key == "s2" and feed.engine.silenced == {"r1": 1}


def test_a_silenced_resolution_still_closes_the_alert():
    feed = silenced_feed(rules(resolve_after="1h"), Mute("r1", at(2)))
    assert feed(kim("a1"), at(0)) == []
    assert feed.engine.sweep(at(1)) == []  # resolved, silently: muted until 2h
    assert feed.engine.silenced == {"r1": 2}
    (reopened,) = feed(kim("a2"), at(3))
    assert (reopened.action, reopened.revision) == ("new", 1)  # a fresh episode, not an update of a closed one


def test_a_silenced_partner_still_counts_for_correlation():
    feed = silenced_feed(pair(), Mute("arms", at(100)))
    assert feed(arms("a1"), at(0)) == []
    assert fired(feed(summit("b1"), at(1))) == [("summit", "new")]
    assert feed.engine.silenced == {"arms": 1}



@dataclass(frozen=True)
class NamedMute(Mute):
    id: str = "mute-7"
    reason: str = "known drill"


def test_a_silenced_match_logs_one_line_naming_the_silence():
    from structlog.testing import capture_logs

    feed = silenced_feed(rules(), NamedMute("r1", at(4)))
    with capture_logs() as logs:
        assert feed(kim("a1"), at(0)) == []
    held = [entry for entry in logs if entry["event"] == "alert_silenced"]
    assert len(held) == 1
    assert (held[0]["rule_id"], held[0]["silence_id"], held[0]["reason"], held[0]["action"]) == (
        "r1", "mute-7", "known drill", "new")
