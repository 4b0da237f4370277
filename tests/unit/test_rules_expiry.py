"""Rule state that can no longer change an outcome is dropped (RuleEngine.expire),
so a long-running worker's rule state stops growing; state that still matters stays."""

from __future__ import annotations

from datetime import timedelta

from monitor.models import stable_id
from monitor.rules.engine import STORY_GROUP_RETENTION
from tests.unit.test_rules_correlate import arms, pair, summit
from tests.unit.test_rules_stateful import ARMS, NEW_DESTINATION, RUSSIA, Feed, at, kim, rules
from tests.unit.test_rules_stateful import arms as arms_to

DAYS = STORY_GROUP_RETENTION.days


def test_a_story_group_goes_once_its_story_is_long_dead_and_other_groupings_stay():
    per_story, per_rule = Feed(rules()), Feed(rules(group_by=["rule"]))
    for feed in (per_story, per_rule):
        feed(kim("a1", story="s1"), at(0))
    story_key, rule_key = stable_id("r1", "s1"), stable_id("r1", "")

    assert per_story.engine.expire(at(days=DAYS - 1)) == 0  # quiet, but not for long enough
    assert story_key in per_story.store
    assert per_story.engine.expire(at(days=DAYS)) == 1
    assert story_key not in per_story.store
    # a group that a later report can reach again keeps its state, so it is updated, not re-opened
    assert per_rule.engine.expire(at(days=10 * DAYS)) == 0
    (later,) = per_rule(kim("b1", story="s9"), at(days=10 * DAYS))
    assert (later.id, later.action, later.revision) == (rule_key, "update", 2)


def test_an_open_alert_that_will_resolve_stays_until_its_notice_went_out():
    feed = Feed(rules(resolve_after="30d"))
    feed(kim("a1"), at(0))
    assert feed.engine.expire(at(days=DAYS + 1)) == 0
    (notice,) = feed.engine.sweep(at(days=30))
    assert notice.action == "resolved"
    assert feed.engine.expire(at(days=30)) == 1  # resolved, and its story long gone


def test_a_report_keeps_its_story_group_alive():
    feed = Feed(rules())
    feed(kim("a1"), at(0))
    feed(kim("a2"), at(days=DAYS - 1))
    assert feed.engine.expire(at(days=DAYS + 1)) == 0
    (alert,) = feed(kim("a3"), at(days=DAYS + 1))
    assert (alert.action, alert.corroboration) == ("update", 3)


def test_new_term_sightings_go_when_they_no_longer_count():
    feed = Feed(rules(ARMS, group_by=["rule"], new_term=NEW_DESTINATION))
    feed(arms_to("a1", RUSSIA), at(0))
    terms = [k for k in feed.store if k.startswith("term:")]
    assert len(terms) == 1
    assert feed.engine.expire(at(days=29)) == 0
    assert feed.engine.expire(at(days=30)) == 1 and not [k for k in feed.store if k.startswith("term:")]
    # a sighting that old counted as unseen anyway: the value fires again, as it would have
    (again,) = feed(arms_to("a2", RUSSIA), at(days=30))
    assert again.action == "update"


def test_correlation_records_go_after_the_longest_window_that_could_use_them():
    feed = Feed(pair(within="2d"))
    feed(arms("a1"), at(0))  # arms fired: a corr: record for summit to find
    assert any(k.startswith("corr:") for k in feed.store)
    assert not feed.engine.expire(at(days=1)) and any(k.startswith("corr:") for k in feed.store)
    feed.engine.expire(at(days=2))
    assert not any(k.startswith("corr:") for k in feed.store)
    assert feed(summit("b1"), at(days=2)) == []  # it could not have fired anyway

    waiting = Feed(pair(mode="with", within="2d"))
    waiting(summit("b1"), at(0))  # summit waits for arms
    assert any(k.startswith("wait:") for k in waiting.store)
    waiting.engine.expire(at(days=2))
    assert not any(k.startswith("wait:") for k in waiting.store)
    assert [a.rule_id for a in waiting(arms("a1"), at(days=2))] == ["arms"]  # too late to release it


def test_the_pipeline_expires_rule_state_with_the_rest():
    from monitor.pipeline import Pipeline

    feed = Feed(rules())
    feed(kim("a1"), at(0))
    pipeline = Pipeline.__new__(Pipeline)  # only the stores matter here
    pipeline.engine = feed.engine
    pipeline.dedup = _NoExpiry()
    pipeline.stories = _NoExpiry()
    pipeline.confirm_closes = False
    pipeline.expire(at(days=DAYS) + timedelta(seconds=1))
    assert stable_id("r1", "s1") not in feed.store


class _NoExpiry:
    def expire(self, now) -> int:
        return 0


def test_story_groups_follow_the_story_ttl():
    """With stories closed after 2 h idle, their rule groups go after 3.5 h,
    not the 7 days that the default 96 h story TTL gives."""
    from monitor.pipeline import Pipeline
    from monitor.settings import REPO_ROOT
    from monitor.stories import StoryConfig

    short = Pipeline.from_rules_dir(REPO_ROOT / "rules", story_config=StoryConfig(ttl_hours=2))
    assert short.engine.story_group_retention == timedelta(hours=3.5)
    short.reload(REPO_ROOT / "rules")  # a reload keeps it
    assert short.engine.story_group_retention == timedelta(hours=3.5)
    assert Pipeline.from_rules_dir(REPO_ROOT / "rules").engine.story_group_retention == timedelta(days=7)

    feed = Feed(rules())
    feed.engine.story_group_retention = short.engine.story_group_retention
    feed(kim("a1", story="s1"), at(0))
    assert feed.engine.expire(at(0) + timedelta(hours=3)) == 0
    assert feed.engine.expire(at(0) + timedelta(hours=3.5)) == 1


def test_a_story_group_stays_while_other_reports_keep_its_story_open():
    feed = Feed(rules())
    feed(kim("a1", story="s1"), at(0))
    open_stories = {"s1"}
    feed.engine.story_is_open = open_stories.__contains__
    assert feed.engine.expire(at(days=2 * DAYS)) == 0  # no matching report for long, but s1 still open
    (again,) = feed(kim("a2", story="s1"), at(days=2 * DAYS))
    assert (again.action, again.revision) == ("update", 2)  # not a second "new" for the same story
    open_stories.clear()  # s1 closed
    assert feed.engine.expire(at(days=3 * DAYS)) == 1
