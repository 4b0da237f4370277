"""Alert lifecycle: new, update, then resolved once the group is quiet for
`resolve_after`; `sweep` finds due alerts with no article arriving.

Explicit times throughout, and `JsonStore`s, so state changed in place
after assignment is lost here exactly as it would be in a faust table.
"""

from __future__ import annotations

from datetime import timedelta

from monitor.models import stable_id
from monitor.rules.engine import RuleEngine
from monitor.rules.loader import load_ruleset
from monitor.state import JsonStore
from tests.unit.test_rules_engine import engine
from tests.unit.test_rules_lint import RULE, only
from tests.unit.test_rules_loader import ENTITIES, EVENTS, errors_for, write
from tests.unit.test_rules_stateful import Feed, at, kim, rules

QUIET = rules(resolve_after="48h", template={"title": "Kim seen ({corroboration})"})


class Lifecycle(Feed):
    def sweep(self, when):
        return self.engine.sweep(when)


def test_alert_resolves_after_the_quiet_period_under_the_same_id():
    feed = Lifecycle(QUIET)
    (new,) = feed(kim("a1", "Yonhap"), at(0))
    (update,) = feed(kim("a2", "Kyodo"), at(10))  # the quiet period restarts here
    assert feed.sweep(at(48)) == []  # 48h after a1, but only 38h after a2
    assert feed.sweep(at(58) - timedelta(seconds=1)) == []
    (resolved,) = feed.sweep(at(58))
    assert [a.action for a in (new, update, resolved)] == ["new", "update", "resolved"]
    assert resolved.id == new.id == stable_id("r1", "s1") and resolved.revision == 3
    assert resolved.updated_at == at(58) and resolved.created_at == at(0)
    assert resolved.title == "Kim seen (2)" and resolved.severity == "high" and resolved.group_key == "s1"
    assert resolved.corroboration == 2 and resolved.sources == ["Yonhap", "Kyodo"]
    assert "No matching report for 2d since" in resolved.summary


def test_sweep_is_idempotent_and_survives_a_restart():
    feed = Lifecycle(QUIET)
    feed(kim("a1"), at(0))
    feed.restart()  # the schedule is in the store, not in the engine
    (resolved,) = feed.sweep(at(49))
    assert resolved.action == "resolved"
    assert feed.sweep(at(49)) == [] and feed.sweep(at(500)) == []
    feed.restart()
    assert feed.sweep(at(1000)) == []


def test_a_resolve_notice_can_be_rebuilt_from_the_state_after_a_crash():
    feed = Lifecycle(QUIET)
    feed(kim("a1", story="s1"), at(0))
    feed(kim("b1", story="s2"), at(1))
    (early,) = feed.sweep(at(48))  # s1, found when due
    (late,) = feed.sweep(at(60))  # s2 fell due at 49h, found at 60h
    feed.restart()  # a new worker, the same state
    # what the crashed worker resolved from 50h on: s2, the same notice again (timed when it fell due)
    assert feed.engine.resolved_since(at(50)) == [late] and late.updated_at == at(49)
    assert [a.id for a in feed.engine.resolved_since(at(0))] == [early.id, late.id]
    assert feed.engine.resolved_since(at(61)) == []


def test_sweep_resolves_exactly_the_groups_due_earliest_first_and_leaves_no_schedule():
    feed = Lifecycle(rules(resolve_after="1h"))
    for story, hour in (("s3", 0.9), ("s1", 0), ("s2", 0.5)):  # out of order: the earliest comes later
        feed(kim(f"a-{story}", story=story), at(hour))
    assert [a.group_key for a in feed.sweep(at(1.6))] == ["s1", "s2"]  # due at 1h and 1.5h
    (last,) = feed.sweep(at(2))
    assert last.group_key == "s3" and last.updated_at == at(1.9)
    assert [k for k in feed.store if k.startswith("due:")] == []


def test_a_report_after_resolution_opens_a_fresh_alert():
    feed = Lifecycle(QUIET)
    (first,) = feed(kim("a1"), at(0))
    (resolved,) = feed.sweep(at(48))
    assert feed(kim("a1"), at(49)) == []  # a replay of a report of the closed episode
    (reopened,) = feed(kim("a2", "Kyodo"), at(50))
    assert (reopened.action, reopened.revision, reopened.corroboration) == ("new", 1, 1)
    assert reopened.id not in (first.id, resolved.id)
    assert reopened.id == stable_id("r1", "s1", "episode 2")  # deterministic, so replays stay idempotent
    (update,) = feed(kim("a3"), at(51))
    (closed_again,) = feed.sweep(at(99))
    assert (update.id, update.action, closed_again.id, closed_again.revision) == (reopened.id, "update", reopened.id, 3)


def test_evaluate_emits_resolutions_that_fell_due_before_the_article():
    feed = Lifecycle(QUIET)
    feed(kim("a1", story="s1"), at(0))
    alerts = feed(kim("b1", story="s2"), at(60))  # nobody swept in between
    assert [(a.group_key, a.action, a.updated_at) for a in alerts] == [("s1", "resolved", at(48)), ("s2", "new", at(60))]


def test_an_overdue_group_resolves_before_its_next_report_even_if_never_scheduled():
    store = JsonStore()
    engine(rules(), store).evaluate(kim("a1"), at(0))  # open, under a rule without resolve_after
    edited = engine(QUIET, store)  # hot reload adds resolve_after
    alerts = edited.evaluate(kim("a2"), at(100))
    assert [(a.action, a.revision, a.updated_at) for a in alerts] == [("resolved", 2, at(48)), ("new", 1, at(100))]


def test_held_and_silently_counted_reports_keep_the_alert_open():
    feed = Lifecycle(rules(resolve_after="2h", throttle={"period": "4h", "digest": True}))
    feed(kim("a1"), at(0))
    assert feed(kim("a2"), at(1)) == []  # held back by throttle, but it is activity
    assert feed.sweep(at(2)) == []
    (resolved,) = feed.sweep(at(3))
    assert "+1 more matching report held back since" in resolved.summary  # the held report is not lost


def test_no_resolution_without_resolve_after_or_before_an_alert_opens():
    plain = Lifecycle(rules())
    plain(kim("a1"), at(0))
    assert plain.sweep(at(10_000)) == []
    unopened = Lifecycle(rules(resolve_after="30d", threshold={"count": 2, "within": "30d"}))
    assert unopened(kim("a1"), at(0)) == []
    assert unopened.sweep(at(24 * 29)) == []
    assert unopened(kim("a2"), at(24 * 29))[0].action == "new"  # a1 still counts: nothing was reset


def test_removed_or_disabled_rules_do_not_resolve():
    store = JsonStore()
    engine(QUIET, store).evaluate(kim("a1"), at(0))
    disabled = RuleEngine(engine(rules(resolve_after="48h", enabled=False)).ruleset, store)
    assert disabled.sweep(at(100)) == []
    assert engine(rules(resolve_after="48h")).sweep(at(100)) == []  # an empty store: nothing to do


def test_reload_keeps_the_schedule_of_an_unchanged_rule():
    store = JsonStore()
    engine(QUIET, store).evaluate(kim("a1"), at(0))
    (resolved,) = engine(QUIET, store).sweep(at(48))
    assert resolved.revision == 2


def test_a_longer_resolve_after_after_reload_postpones_the_resolution():
    store = JsonStore()
    engine(QUIET, store).evaluate(kim("a1"), at(0))
    longer = engine(rules(resolve_after="72h"), store)
    assert longer.sweep(at(48)) == []  # the 48h entry comes up, the alert is not due yet
    (resolved,) = longer.sweep(at(72))
    assert resolved.updated_at == at(72)


# ---------------------------------------------------------------- loader


def test_resolve_after_shorter_than_the_window_is_a_warning(tmp_path):
    def warnings(extra: str) -> list:
        return load_ruleset(write(tmp_path, RULE + extra), ENTITIES, EVENTS).warnings

    (short,) = warnings("    threshold: {count: 2, within: 6h}\n    resolve_after: 1h\n")
    assert short.level == "warning" and short.line == 6 and short.rule_id == "a"
    assert "resolve_after 1h is shorter than threshold.within 6h" in short.message
    assert short.suggestion == "use resolve_after: 6h or longer"
    (spike,) = warnings("    spike: {window: 2h, baseline: 1d, ratio: 3}\n    resolve_after: 30m\n")
    assert "shorter than spike.window 2h" in spike.message
    assert warnings("    threshold: {count: 2, within: 6h}\n    resolve_after: 6h\n") == []


def test_resolve_after_is_a_duration(tmp_path):
    err = only(errors_for(tmp_path, RULE + "    resolve_after: 2 days\n"), "invalid duration '2 days'")
    assert err.line == 5 and err.rule_id == "a"
