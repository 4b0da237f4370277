"""Correlation across rules: `correlate: {after|with: RULE, within: D, on: [...]}`.

Engine behaviour on hand-built articles with explicit times, the loader's
errors for bad references, and the README's example on real text.
"""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest

from monitor.settings import REPO_ROOT
from monitor.models import RawArticle
from monitor.pipeline import Pipeline
from monitor.rules.loader import load_ruleset
from monitor.rules.schema import json_schema
from tests.unit.test_rules_engine import RUSSIA, T0, article, entity, event
from tests.unit.test_rules_lint import only
from tests.unit.test_rules_loader import ENTITIES, EVENTS, errors_for, write
from tests.unit.test_rules_stateful import Feed, at

KOREA = ("country:KP", "country", "North Korea")
CHINA = ("country:CN", "country", "China")


def report(aid: str, etype: str, *countries, story: str = "s1"):
    """An asserted event of `etype` between the given countries, all tagged."""
    ids = [c[0] for c in countries]
    ev = event(etype=etype, actor=ids[:1], destination=ids[1:])
    return article(aid, story=story, entities=[entity(c) for c in countries], events=[ev])


def arms(aid: str, *countries, story: str = "s1"):
    return report(aid, "arms_transfer", *(countries or (KOREA, RUSSIA)), story=story)


def summit(aid: str, *countries, story: str = "s2"):
    return report(aid, "summit", *(countries or (KOREA, RUSSIA)), story=story)


def pair(mode: str = "after", within: str = "7d", **correlate) -> dict:
    """`summit` correlates with `arms`; summit is listed first on purpose:
    the engine must still evaluate `arms` first."""
    spec = {mode: "arms", "within": within, "on": ["entity:country"], **correlate}
    return {"rules": [
        {"id": "summit", "title": "Summit", "severity": "high", "match": {"event": {"type": "summit"}},
         "correlate": {k: v for k, v in spec.items() if v is not None}},
        {"id": "arms", "title": "Arms", "severity": "high", "match": {"event": {"type": "arms_transfer"}}},
    ]}


def fired(alerts) -> list[tuple[str, str]]:
    return [(a.rule_id, a.action) for a in alerts]


# ---------------------------------------------------------------- ordered: after


def test_after_fires_when_the_partner_fired_first_for_the_same_key():
    feed = Feed(pair())
    assert fired(feed(arms("a1"), at(0))) == [("arms", "new")]
    (alert,) = feed(summit("b1"), at(48))
    assert (alert.rule_id, alert.action, [a.id for a in alert.articles]) == ("summit", "new", ["b1"])


def test_after_window_is_half_open():
    def summit_fires_after(delay: timedelta) -> bool:
        feed = Feed(pair())
        feed(arms("a1"), T0)
        return bool(feed(summit("b1"), T0 + delay))

    assert summit_fires_after(timedelta(days=7) - timedelta(seconds=1))
    assert not summit_fires_after(timedelta(days=7))


def test_a_different_key_does_not_correlate():
    feed = Feed(pair())
    feed(arms("a1", KOREA, RUSSIA), at(0))
    assert feed(summit("b1", CHINA, RUSSIA), at(1)) == []
    assert feed(summit("b2", KOREA, RUSSIA, CHINA), at(2)) == []  # keys are compared whole


def test_after_is_ordered_an_earlier_match_is_not_a_match():
    feed = Feed(pair())
    assert feed(summit("b1"), at(0)) == []
    assert fired(feed(arms("a1"), at(1))) == [("arms", "new")]  # b1 is not released
    assert fired(feed(summit("b2"), at(2))) == [("summit", "new")]
    assert [a.id for a in feed(summit("b3"), at(3))[0].articles] == ["b2", "b3"]  # b1 never counted


def test_one_article_matching_both_rules_fires_both_partner_first():
    both = article("x1", story="s1", entities=[entity(KOREA), entity(RUSSIA)],
                   events=[event(etype="summit", actor=["country:KP"], destination=["country:RU"]),
                           event(etype="arms_transfer", actor=["country:KP"], destination=["country:RU"])])
    assert fired(Feed(pair())(both, at(0))) == [("arms", "new"), ("summit", "new")]


def test_default_key_is_the_rules_group_by():
    yaml = pair(on=None)
    feed = Feed(yaml)
    feed(arms("a1", story="s1"), at(0))
    assert feed(summit("b1", story="s2"), at(1)) == []  # another story
    assert fired(feed(summit("b2", story="s1"), at(2))) == [("summit", "new")]


def test_chains_need_every_link():
    yaml = pair()
    yaml["rules"].append({"id": "follow-up", "title": "Sanctions after the summit", "match": {"event": {"type": "sanctions"}},
                          "correlate": {"after": "summit", "within": "2d", "on": ["entity:country"]}})
    unlinked = Feed(yaml)
    unlinked(summit("b1"), at(0))
    assert unlinked(report("c1", "sanctions", KOREA, RUSSIA), at(1)) == []
    feed = Feed(yaml)
    feed(arms("a1"), at(0))
    feed(summit("b1"), at(10))
    assert fired(feed(report("c1", "sanctions", KOREA, RUSSIA), at(20))) == [("follow-up", "new")]


# ---------------------------------------------------------------- unordered: with


def test_with_releases_a_waiting_report_when_the_partner_fires_later():
    feed = Feed(pair("with"))
    assert feed(summit("b1"), at(0)) == []
    feed.restart()  # the waiting report is in the store
    alerts = feed(arms("a1"), at(48))
    assert fired(alerts) == [("arms", "new"), ("summit", "new")]
    assert [a.id for a in alerts[1].articles] == ["b1"] and alerts[1].updated_at == at(48)
    assert fired(feed(arms("a2"), at(50))) == [("arms", "update")]  # released once only


def test_with_also_fires_in_the_other_order_and_not_outside_the_span():
    feed = Feed(pair("with"))
    feed(arms("a1"), at(0))
    assert fired(feed(summit("b1"), at(24))) == [("summit", "new")]
    late = Feed(pair("with"))
    late(summit("b1"), at(0))
    assert fired(late(arms("a1"), at(24 * 7))) == [("arms", "new")]  # exactly 7 days: too late


# ---------------------------------------------------------------- loader

PARTNER = """\
rules:
  - id: arms-transfer-reported
    title: t
    match: {event: {type: arms_transfer}}
"""


def test_unknown_partner_is_an_error_with_did_you_mean_and_position(tmp_path):
    errors = errors_for(tmp_path, PARTNER + """\
  - id: summit
    title: t
    match: {event: {type: summit}}
    correlate: {after: arms-transfer-reportd, within: 7d}
""")
    err = only(errors, "unknown rule id 'arms-transfer-reportd' in correlate")
    assert (err.line, err.column, err.rule_id) == (8, 17, "summit")
    assert err.suggestion == "did you mean 'arms-transfer-reported'?"
    assert str(err).startswith(f"{tmp_path / 'rules.yaml'}:8:17: [rule summit] error:")


def test_cycles_are_errors(tmp_path):
    errors = errors_for(tmp_path, """\
rules:
  - id: a
    title: t
    match: {event: {type: summit}}
    correlate: {with: b, within: 1d}
  - id: b
    title: t
    match: {event: {type: summit}}
    correlate:
      after: a
      within: 1d
  - id: c
    title: t
    match: {event: {type: summit}}
    correlate: {after: c, within: 1d}
""")
    cycle = only(errors, "correlation cycle a -> b -> a")
    assert cycle.rule_id == "a" and cycle.line == 5 and "could ever fire first" in cycle.message
    itself = only(errors, "rule correlates with itself")
    assert itself.rule_id == "c" and itself.line == 15
    assert len(errors) == 2  # one error per cycle


def test_correlate_shape_errors_and_suggestions(tmp_path):
    errors = errors_for(tmp_path, PARTNER + """\
  - id: b
    title: t
    match: {event: {type: summit}}
    correlate: {after: arms-transfer-reported, with: arms-transfer-reported, within: 7d}
  - id: c
    title: t
    match: {event: {type: summit}}
    correlate: {wiht: arms-transfer-reported, within: 7d, on: [entity:contry]}
""")
    both = only(errors, "exactly one of 'after'")
    assert both.line == 8 and both.rule_id == "b"
    assert "'with'" in only(errors, "unknown key 'wiht'").suggestion
    assert "'entity:country'" in only(errors, "unknown selector 'entity:contry'").suggestion


def test_disabled_partner_warns_and_fire_tests_are_refused(tmp_path):
    text = PARTNER.replace("    title: t\n", "    title: t\n    enabled: false\n", 1) + """\
  - id: b
    title: t
    match: {event: {type: summit}}
    correlate: {after: arms-transfer-reported, within: 7d}
"""
    (warning,) = load_ruleset(write(tmp_path, text), ENTITIES, EVENTS).warnings
    assert "correlates with disabled rule 'arms-transfer-reported'" in warning.message and warning.line == 9
    errors = errors_for(tmp_path, text + '    tests: {fire: ["Putin met Kim."]}\n')
    err = only(errors, "cannot have fired first")
    assert err.line == 10 and "no_fire" in err.suggestion


def test_json_schema_has_the_new_keys():
    schema = json_schema()["$defs"]
    assert {"resolve_after", "correlate"} <= set(schema["Rule"]["properties"])
    assert set(schema["Correlate"]["properties"]) == {"after", "with", "within", "on"}


# ---------------------------------------------------------------- the README example, on real text

EXAMPLE = """\
rules:
  - id: summit-after-arms-transfer
    title: Summit between two states within a week of an arms transfer between them
    severity: high
    match:
      all:
        - event: {type: summit, modality: [asserted, planned]}
        - entity: {any: [watched_states]}
    correlate:
      after: arms-transfer-reported
      within: 7d
      on: [entity:country]
"""
ARMS_TEXT = "KYIV, June 2 (Wire) -- North Korea delivered artillery shells to Russia last month, Ukrainian intelligence said."
SUMMIT_TEXT = ("VLADIVOSTOK, June 4 (Wire) -- Russian President Vladimir Putin and North Korean leader Kim Jong Un "
               "held talks in Vladivostok on Wednesday, Russia and North Korea said.")


@pytest.mark.parametrize(("days", "fires"), [(2, True), (8, False)])
def test_summit_within_a_week_of_an_arms_transfer_on_real_text(tmp_path, days, fires):
    rules = tmp_path / "rules"
    shutil.copytree(REPO_ROOT / "rules", rules)
    (rules / "correlated.yaml").write_text(EXAMPLE, encoding="utf-8")
    pipeline = Pipeline.from_rules_dir(rules)
    first = pipeline.process(RawArticle(id="a1", source="wire", content=ARMS_TEXT), T0)
    assert "arms-transfer-reported" in [a.rule_id for a in first.alerts]
    second = pipeline.process(RawArticle(id="b1", source="wire", content=SUMMIT_TEXT), T0 + timedelta(days=days))
    assert "leaders-summit" in [a.rule_id for a in second.alerts]  # a summit either way
    assert ("summit-after-arms-transfer" in [a.rule_id for a in second.alerts]) is fires
