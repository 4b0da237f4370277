"""Stateful rule keys: group_by, threshold, spike, new_term, throttle, escalate.

Every test passes explicit times, and every store is a `JsonStore`: it keeps
a JSON round-trip of each assigned value, as a faust table does. So state
that is not plain data fails loudly, and state changed in place after
assignment is lost, exactly as it would be in the daemon.
"""

from __future__ import annotations

import json
from datetime import timedelta

from monitor.models import stable_id
from monitor.rules.engine import RuleEngine
from monitor.state import JsonStore
from tests.unit.test_rules_engine import KIM, RUSSIA, T0, article, engine, entity, event

UKRAINE = ("country:UA", "country", "Ukraine")
IRAN = ("country:IR", "country", "Iran")
KIM_ONLY = {"entity": {"any": ["kim_jong_un"]}}
ARMS = {"event": {"type": "arms_transfer"}}


def at(hours: float = 0, **delta) -> object:
    return T0 + timedelta(hours=hours, **delta)


def rules(match=KIM_ONLY, **extra) -> dict:
    return {"rules": [{"id": "r1", "title": "Rule one", "severity": "high", "match": match, **extra}]}


def kim(aid: str, source: str = "wire", story: str = "s1", **kw):
    return article(aid, story=story, source=source, entities=[entity(KIM)], **kw)


def arms(aid: str, *destinations, story: str = "s1", source: str = "wire"):
    """An asserted arms transfer from North Korea to the given countries."""
    ids = [d[0] for d in destinations]
    ev = event(etype="arms_transfer", actor=("country:KP",), destination=ids)
    return article(aid, story=story, source=source, entities=[entity(d) for d in destinations], events=[ev])


class Feed:
    """An engine on a JSON store that can be 'restarted' mid-scenario."""

    def __init__(self, yaml: dict):
        self.yaml, self.store = yaml, JsonStore()
        self.engine = engine(yaml, self.store)

    def restart(self) -> None:
        self.engine = engine(self.yaml, self.store)

    def __call__(self, art, when):
        return self.engine.evaluate(art, when)


# ---------------------------------------------------------------- group_by


def test_default_group_is_the_story_with_unchanged_alert_ids():
    feed = Feed(rules())
    (alert,) = feed(kim("a1", story="s1"), at(0))
    assert alert.group_key == "s1" and alert.id == stable_id("r1", "s1")
    (per_rule,) = engine(rules(novelty={"per": "rule"})).evaluate(kim("a1"), at(0))
    (group_rule,) = engine(rules(group_by=["rule"])).evaluate(kim("a1"), at(0))
    assert per_rule.id == group_rule.id == stable_id("r1", "")


def test_novelty_per_rule_gives_one_alert_across_stories():
    feed = Feed(rules(novelty={"per": "rule"}))
    first = feed(kim("a1", story="s1"), at(0))
    second = feed(kim("b1", story="s2"), at(1))
    assert [a.action for a in first + second] == ["new", "update"]
    assert first[0].id == second[0].id


def test_group_by_destination_merges_stories_and_splits_countries():
    feed = Feed(rules(ARMS, group_by=["event.destination"]))
    (ru1,) = feed(arms("a1", RUSSIA, story="s1"), at(0))
    (ru2,) = feed(arms("b1", RUSSIA, story="s2"), at(1))
    (ir,) = feed(arms("c1", IRAN, story="s1"), at(2))
    assert (ru1.action, ru2.action, ir.action) == ("new", "update", "new")
    assert ru1.id == ru2.id != ir.id
    assert ru1.group_key == "country:RU" and ir.group_key == "country:IR"


def test_group_key_is_sorted_so_tagging_order_does_not_change_the_id():
    yaml = rules(ARMS, group_by=["source", "event.destination"])
    (one,) = engine(yaml).evaluate(arms("a1", RUSSIA, UKRAINE, source="Yonhap"), at(0))
    (two,) = engine(yaml).evaluate(arms("a1", UKRAINE, RUSSIA, source="Yonhap"), at(0))
    assert one.group_key == two.group_key == "Yonhap|country:RU,country:UA"
    assert one.id == two.id == stable_id("r1", "Yonhap|country:RU,country:UA")


def test_group_by_source_and_entity():
    feed = Feed(rules(group_by=["source"]))
    yonhap = feed(kim("a1", "Yonhap", story="s1"), at(0)) + feed(kim("a2", "Yonhap", story="s2"), at(1))
    kyodo = feed(kim("a3", "Kyodo", story="s1"), at(2))
    assert [a.action for a in yonhap + kyodo] == ["new", "update", "new"]
    (by_entity,) = engine(rules(group_by=["entity"])).evaluate(kim("a1"), at(0))
    assert by_entity.group_key == "kim_jong_un"


# ---------------------------------------------------------------- threshold

THRESHOLD = {"count": 3, "distinct_sources": 2, "within": "6h"}


def test_threshold_opens_on_the_nth_report_within_the_window():
    feed = Feed(rules(threshold=THRESHOLD))
    assert feed(kim("a1", "Yonhap"), at(0)) == []
    assert feed(kim("a2", "Kyodo"), at(1)) == []
    (alert,) = feed(kim("a3", "Yonhap"), at(2))
    assert (alert.action, alert.revision, alert.corroboration) == ("new", 1, 3)
    assert [a.id for a in alert.articles] == ["a1", "a2", "a3"]
    assert alert.sources == ["Yonhap", "Kyodo"] and alert.created_at == at(2)


def test_threshold_window_is_half_open_at_its_boundary():
    def third_report_fires(after: timedelta) -> bool:
        feed = Feed(rules(threshold=THRESHOLD))
        feed(kim("a1", "Yonhap"), at(0))
        feed(kim("a2", "Kyodo"), at(1))
        return bool(feed(kim("a3", "Yonhap"), T0 + after))

    assert third_report_fires(timedelta(hours=6) - timedelta(seconds=1))
    assert not third_report_fires(timedelta(hours=6))  # a1 is exactly 6h old: out


def test_threshold_needs_distinct_sources():
    feed = Feed(rules(threshold=THRESHOLD))
    for i in range(4):
        assert feed(kim(f"a{i}", "Yonhap"), at(i)) == []
    (alert,) = feed(kim("b1", "Kyodo"), at(4.5))
    assert alert.action == "new" and alert.corroboration == 5


def test_threshold_alert_stays_open_and_later_reports_update_it():
    feed = Feed(rules(threshold={"count": 2, "within": "1h"}))
    feed(kim("a1"), at(0))
    (opened,) = feed(kim("a2"), at(0.5))
    (later,) = feed(kim("a3"), at(48))  # long after the window: still an update
    assert (opened.action, later.action, later.revision, later.id) == ("new", "update", 2, opened.id)


def test_threshold_survives_a_restart():
    feed = Feed(rules(threshold=THRESHOLD))
    feed(kim("a1", "Yonhap"), at(0))
    feed(kim("a2", "Kyodo"), at(1))
    feed.restart()
    (alert,) = feed(kim("a3", "Yonhap"), at(2))
    assert alert.action == "new" and alert.corroboration == 3


def test_threshold_never_counts_duplicates_or_replays():
    feed = Feed(rules(threshold={"count": 2, "distinct_sources": 2, "within": "6h"}))
    assert feed(kim("a1", "Yonhap"), at(0)) == []
    assert feed(kim("a2", "Kyodo", duplicate_of="a1"), at(1)) == []  # a copy from another source
    assert feed(kim("a1", "Yonhap"), at(1)) == []  # the same article again
    (alert,) = feed(kim("a3", "Kyodo"), at(2))
    assert [a.id for a in alert.articles] == ["a1", "a3"]


def test_expired_reports_are_dropped_from_the_group_lazily():
    yaml = rules(threshold={"count": 3, "within": "6h"})
    feed = Feed(yaml)
    s1 = stable_id("r1", "s1")
    feed(kim("a1"), at(0))
    feed(kim("a2"), at(1))
    feed(kim("a3", story="other"), at(8))  # another group: s1 is not scanned
    assert [h["id"] for h in feed.store[s1]["hits"]] == ["a1", "a2"]
    assert feed(kim("a4"), at(8)) == []  # s1 touched again: a1, a2 expire now
    assert [h["id"] for h in feed.store[s1]["hits"]] == ["a4"]
    assert [a["id"] for a in feed.store[s1]["articles"]] == ["a4"]


# ---------------------------------------------------------------- spike

SPIKE = {"window": "1h", "baseline": "24h", "ratio": 4, "min_count": 3}


def spike_feed(**overrides) -> Feed:
    """One report an hour for 24 hours (T0 .. T0+23h): a baseline of 1/h."""
    feed = Feed(rules(group_by=["rule"], spike={**SPIKE, **overrides}))
    for hour in range(24):
        assert feed(kim(f"base{hour}", story=f"s{hour}"), at(hour)) == []
    return feed


def test_spike_fires_when_the_rate_reaches_ratio_times_baseline():
    feed = spike_feed()
    burst = [feed(kim(f"b{i}", story=f"x{i}"), at(24, minutes=10 * i)) for i in range(4)]
    assert burst[:3] == [[], [], []]  # 3/h is above min_count, below 4 x 1/h
    (alert,) = burst[3]
    assert alert.action == "new" and alert.corroboration == 4  # the burst, not the baseline
    assert [a.id for a in alert.articles] == ["b0", "b1", "b2", "b3"]


def test_spike_needs_min_count_even_without_a_baseline():
    feed = Feed(rules(group_by=["rule"], spike=SPIKE))
    assert feed(kim("a1"), at(0)) == [] and feed(kim("a2"), at(0.1)) == []
    (alert,) = feed(kim("a3"), at(0.2))
    assert alert.action == "new"


def test_spike_goes_quiet_when_the_rate_drops_and_fires_again_on_the_next_burst():
    feed = Feed(rules(group_by=["rule"], spike={**SPIKE, "min_count": 2}))
    feed(kim("a1"), at(0))
    (first,) = feed(kim("a2"), at(0.5))
    assert feed(kim("a3"), at(2)) == []  # 1 in the window: below min_count
    feed.restart()
    assert feed(kim("a4"), at(30)) == []
    (again,) = feed(kim("a5"), at(30.5))
    assert (first.action, again.action, again.revision, again.id) == ("new", "update", 2, first.id)


def test_spike_window_boundary():
    def second_report_fires(after: timedelta) -> bool:
        feed = Feed(rules(group_by=["rule"], spike={**SPIKE, "min_count": 2}))
        feed(kim("a1"), at(0))
        return bool(feed(kim("a2"), T0 + after))

    assert second_report_fires(timedelta(hours=1) - timedelta(seconds=1))
    assert not second_report_fires(timedelta(hours=1))  # a1 is exactly 1h old: baseline now


def test_spike_baseline_boundary():
    def second_report_emits(after: timedelta) -> bool:
        feed = Feed(rules(group_by=["rule"], spike={"window": "1h", "baseline": "2h", "ratio": 3, "min_count": 1}))
        assert feed(kim("a1"), at(0))  # nothing before it: a spike of one
        return bool(feed(kim("a2"), T0 + after))

    # a1 in the baseline: 1 per 1h against 1 per 2h is a ratio of 2, below 3
    assert not second_report_emits(timedelta(hours=3) - timedelta(seconds=1))
    assert second_report_emits(timedelta(hours=3))  # a1 is exactly 3h old: out of the baseline


def test_spike_ignores_duplicates():
    feed = Feed(rules(group_by=["rule"], spike=SPIKE))
    feed(kim("a1"), at(0))
    feed(kim("a2"), at(0.1))
    assert feed(kim("copy", duplicate_of="a2"), at(0.2)) == []
    assert feed.store[stable_id("r1", "")]["hits"][-1]["id"] == "a2"


# ---------------------------------------------------------------- new_term

NEW_DESTINATION = {"field": "event.destination", "within": "30d"}


def test_new_term_fires_only_for_a_value_unseen_within_the_lookback():
    feed = Feed(rules(ARMS, new_term=NEW_DESTINATION))
    (first,) = feed(arms("a1", RUSSIA, story="s1"), at(0))
    assert feed(arms("b1", RUSSIA, story="s2"), at(24 * 10)) == []  # Russia seen 10 days ago
    (iran,) = feed(arms("b2", IRAN, story="s2"), at(24 * 11))  # Iran is new: s2 opens
    assert first.action == iran.action == "new"
    assert iran.corroboration == 2  # s2's earlier report was counted, silently


def test_new_term_lookback_boundary_counts_from_the_last_sighting():
    def fires_after(days: float, seconds: int = 0) -> bool:
        feed = Feed(rules(ARMS, new_term=NEW_DESTINATION))
        feed(arms("a1", RUSSIA, story="s1"), at(0))
        feed(arms("a2", RUSSIA, story="s2"), at(24 * 10))  # seen again: the lookback restarts
        return bool(feed(arms("a3", RUSSIA, story="s3"), at(24 * (10 + days), seconds=seconds)))

    assert not fires_after(30, seconds=-1)
    assert fires_after(30)


def test_new_term_alert_is_updated_by_its_story_and_survives_restart():
    feed = Feed(rules(ARMS, new_term=NEW_DESTINATION))
    (opened,) = feed(arms("a1", RUSSIA, story="s1"), at(0))
    feed.restart()
    assert feed(arms("b1", RUSSIA, story="s2"), at(1)) == []  # the restarted engine remembers
    (update,) = feed(arms("a2", RUSSIA, story="s1"), at(2))
    assert update.action == "update" and update.id == opened.id


def test_new_term_without_a_value_never_fires_and_duplicates_are_not_sightings():
    feed = Feed(rules({"entity": {"any": ["country:RU"]}}, new_term=NEW_DESTINATION))
    assert feed(article("a1", entities=[entity(RUSSIA)]), at(0)) == []  # no event, no destination
    copy = arms("c1", RUSSIA, story="s9")
    copy = copy.model_copy(update={"duplicate_of": "x", "dup_kind": "near"})
    feed2 = Feed(rules(ARMS, new_term=NEW_DESTINATION))
    assert feed2(copy, at(0)) == []
    assert feed2(arms("a1", RUSSIA), at(1))  # the copy did not mark Russia as seen


# ---------------------------------------------------------------- throttle


def test_throttle_allows_one_emission_per_period_and_digests_the_rest():
    feed = Feed(rules(throttle={"period": "4h", "digest": True}))
    (first,) = feed(kim("a1"), at(0))
    assert feed(kim("a2"), at(1)) == []
    assert feed(kim("a3"), at(4) - timedelta(seconds=1)) == []
    (second,) = feed(kim("a4"), at(4))  # the period has passed
    assert (first.action, second.action, second.revision) == ("new", "update", 2)
    assert second.corroboration == 4  # held reports still count
    assert "+2 more matching reports held back since" in second.summary
    assert feed(kim("a5"), at(5)) == []
    feed.restart()
    (third,) = feed(kim("a6"), at(8))
    assert third.revision == 3 and "+1 more matching report held back" in third.summary


def test_throttle_without_digest_keeps_the_summary_and_exposes_a_template_field():
    feed = Feed(rules(throttle={"period": "1h"}, template={"title": "Kim ({suppressed} held)"}))
    feed(kim("a1", title="First"), at(0))
    feed(kim("a2", title="Second"), at(0.5))
    (alert,) = feed(kim("a3", title="Third"), at(1))
    assert alert.summary == "Third" and alert.title == "Kim (1 held)"


def test_throttle_is_per_group():
    feed = Feed(rules(throttle={"period": "4h"}))
    feed(kim("a1", story="s1"), at(0))
    assert feed(kim("b1", story="s2"), at(1))  # another story, another group


def test_throttle_with_threshold_starts_at_the_opening():
    feed = Feed(rules(threshold={"count": 2, "within": "1h"}, throttle={"period": "4h"}))
    feed(kim("a1"), at(0))
    assert feed(kim("a2"), at(0.5))[0].action == "new"
    assert feed(kim("a3"), at(4)) == []  # 3.5h after the opening
    assert feed(kim("a4"), at(4.5))[0].revision == 2


# ---------------------------------------------------------------- escalate


def test_escalate_raises_severity_from_the_revision_that_reaches_the_level():
    feed = Feed(rules(escalate={"at_corroboration": 3, "to": "critical"}, template={"title": "{severity}"}))
    alerts = [feed(kim(f"a{i}", source=f"src{i}"), at(i))[0] for i in range(4)]
    assert [a.severity for a in alerts] == ["high", "high", "critical", "critical"]
    assert alerts[2].title == "critical"


def test_escalation_is_emitted_even_inside_a_throttle_period():
    feed = Feed(rules(escalate={"at_corroboration": 3, "to": "critical"}, throttle={"period": "4h"}))
    feed(kim("a1"), at(0))
    assert feed(kim("a2"), at(1)) == []
    (escalated,) = feed(kim("a3"), at(2))
    assert escalated.severity == "critical" and escalated.revision == 2
    assert feed(kim("a4"), at(3)) == []  # still critical: throttled again


# ---------------------------------------------------------------- state as data


def test_state_is_plain_json_and_replay_is_deterministic():
    yaml = rules(ARMS, new_term=NEW_DESTINATION, throttle={"period": "1h", "digest": True},
                 escalate={"at_corroboration": 2, "to": "critical"})
    inputs = [(arms("a1", RUSSIA), at(0)), (arms("a2", RUSSIA, source="Kyodo"), at(0.5)),
              (arms("a3", IRAN, story="s2"), at(1)), (arms("a4", RUSSIA), at(2))]

    def run() -> tuple[list, dict]:
        store = JsonStore()
        out = [a.model_dump(mode="json") for art, when in inputs for a in engine(yaml, store).evaluate(art, when)]
        return out, dict(store)

    first, store = run()
    second, store_again = run()
    assert first == second and store == store_again
    assert json.loads(json.dumps(store)) == store  # plain data, as a faust table needs
    assert any(k.startswith("term:") for k in store)


def test_rules_that_do_not_match_leave_no_state():
    store = JsonStore()
    eng = RuleEngine(engine(rules(ARMS, threshold={"count": 2, "within": "1h"})).ruleset, store)
    eng.evaluate(kim("a1"), at(0))
    assert store == {}


def test_throttle_keeps_working_after_escalate_is_edited_out():
    store = JsonStore()
    with_escalate = rules(escalate={"at_corroboration": 2, "to": "critical"}, throttle={"period": "4h"})
    engine(with_escalate, store).evaluate(kim("a1"), at(0))
    assert engine(with_escalate, store).evaluate(kim("a2"), at(1))[0].severity == "critical"
    edited = engine(rules(throttle={"period": "4h"}), store)  # hot reload without escalate
    assert edited.evaluate(kim("a3"), at(2)) == []  # a lower severity is no reason to emit
    assert edited.evaluate(kim("a4"), at(5))[0].severity == "high"
