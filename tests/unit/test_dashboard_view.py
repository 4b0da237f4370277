"""The dashboard's materialised view, built from topic records as the
followers feed it: upserts, bounds, filters, story page and counts."""

from __future__ import annotations

from datetime import timedelta

from monitor.dashboard.chart import counts_chart
from monitor.dashboard.filters import AlertFilter
from monitor.dashboard.view import Ack, DashboardState
from monitor.rules.silences import Silence
from tests.dashboard_util import T0, alert, event, record, report, story


def state_at(now=T0 + timedelta(hours=1), **kwargs) -> DashboardState:
    return DashboardState(clock=lambda: now, **kwargs)


def ids(state: DashboardState, **query) -> list[str]:
    wanted = AlertFilter.from_query({k: v if isinstance(v, list) else [v] for k, v in query.items()})
    assert not wanted.errors, wanted.errors
    return [e.alert.id for e in state.query(wanted)[0]]


def test_alert_revisions_upsert_by_id_and_stale_ones_are_ignored():
    state = state_at()
    assert state.apply_record("alerts", b"a1", record(alert(revision=1)))
    assert state.apply_record("alerts", b"a1", record(alert(revision=3, action="update", at=T0 + timedelta(minutes=9))))
    # a replayed or out-of-order older revision changes nothing
    assert state.apply_record("alerts", b"a1", record(alert(revision=2, action="update"))) is None
    assert state.apply_record("alerts", b"a1", record(alert(revision=3, action="update"))) is None
    entry = state.alerts["a1"]
    assert entry.alert.revision == 3 and entry.alert.action == "update"
    assert [r.revision for r in entry.revisions] == [1, 3]
    assert len(state.alerts) == 1


def test_memory_is_bounded_to_the_latest_alerts():
    state = state_at(max_alerts=100)
    for i in range(250):
        state.apply_alert(alert(f"a{i}", story=f"s{i}", at=T0 + timedelta(seconds=i)))
    assert len(state.alerts) == 100
    assert "a149" not in state.alerts and "a150" in state.alerts
    assert state.story_page("s10") is None  # the evicted alert's story link went with it
    # a changed old alert is the most recent again
    state.apply_alert(alert("a150", revision=2, story="s150", at=T0 + timedelta(hours=1)))
    assert ids(state)[0] == "a150"


def test_unreadable_records_are_skipped_not_raised():
    state = state_at()
    assert state.apply_record("alerts", b"x", b"{not json") is None
    assert state.apply_record("stories", b"x", b'{"id": "x"}') is None
    assert state.apply_record("acks", b"a1", b'{"alert_id": "a1"}') is None
    assert state.unreadable == 3
    assert state.apply_record("alerts", b"a1", record(alert())) is not None


def test_filters_each_narrow_the_list():
    state = state_at()
    state.apply_alert(alert("old", severity="medium", rule="kim-crossing", at=T0 - timedelta(days=3),
                            title="An older crossing"))
    state.apply_alert(alert("crit", severity="critical", rule="nuke", sources=("AP", "Reuters"),
                            entities=("country:kp",), events=(event("weapons_test", "planned"),)))
    state.apply_alert(alert("low", severity="low", rule="kim-crossing", sources=("Yonhap",), action="update",
                            revision=2))
    assert ids(state) == ["low", "crit", "old"]  # most recently changed (on the topic) first
    assert ids(state, severity="high") == ["crit"]
    assert ids(state, severity=">=medium") == ["crit", "old"]
    assert ids(state, rule="kim-crossing") == ["low", "old"]
    assert ids(state, rule="nuke,kim-crossing") == ["low", "crit", "old"]
    assert ids(state, entity="country:kp") == ["crit"]
    assert ids(state, entity="kim jong un") == ["low", "old"]  # by name too
    assert ids(state, event="weapons_test") == ["crit"]
    assert ids(state, modality="planned") == ["crit"]
    assert ids(state, source="Reuters") == ["crit", "old"]
    assert ids(state, action="update") == ["low"]
    assert ids(state, since="24h") == ["low", "crit"]
    assert ids(state, start="2026-04-28T00:00", end="2026-04-29T00:00") == ["old"]
    assert ids(state, q="older CROSSING") == ["old"]
    assert ids(state, rule="kim-crossing", severity="medium") == ["old"]


def test_bad_filter_values_are_reported_and_left_off():
    wanted = AlertFilter.from_query({"severity": ["urgent"], "since": ["soon"], "action": ["new", "deleted"],
                                     "start": ["yesterday"]})
    assert len(wanted.errors) == 4
    assert wanted.severity is None and wanted.since is None and wanted.action == {"new"}


def test_filter_round_trips_through_the_url_query():
    query = {"severity": ["high"], "rule": ["b,a"], "source": ["AP"], "since": ["7d"], "q": ["kim"]}
    wanted = AlertFilter.from_query(query)
    parsed: dict[str, list[str]] = {}
    for k, v in _pairs(wanted.to_query()):
        parsed.setdefault(k, []).append(v)
    again = AlertFilter.from_query(parsed)
    assert again.to_query() == wanted.to_query() == "severity=high&rule=a&rule=b&source=AP&since=7d&q=kim"


def _pairs(query: str):
    from urllib.parse import parse_qsl

    return parse_qsl(query)


def test_acknowledgements_show_on_the_row_and_a_tombstone_withdraws_them():
    state = state_at()
    state.apply_alert(alert())
    ack = Ack(alert_id="a1", by="ana", at=T0, note="on it")
    state.apply_record("acks", b"a1", record(ack))
    assert state.summary(state.alerts["a1"])["ack"] == {"by": "ana", "at": "2026-05-01T12:00:00Z"}
    state.apply_record("acks", b"a1", None)
    assert state.summary(state.alerts["a1"])["ack"] is None


def test_silences_follow_the_topic_records():
    state = state_at()
    silence = Silence.create("kim-crossing", timedelta(hours=4), now=T0, created_by="ana")
    state.apply_record("silences", silence.id.encode(), record(silence))
    assert state.silences.match("kim-crossing", "s1", T0 + timedelta(hours=1)) == silence
    state.apply_alert(alert())
    assert state.alert_detail("a1")["silenced_by"] == silence
    state.apply_record("silences", silence.id.encode(), None)
    assert len(state.silences) == 0


def test_story_page_timeline_copies_sources_names_and_alerts_with_revisions():
    state = state_at()
    state.apply_record("stories", b"s1", record(story()))
    state.apply_alert(alert("a1"))
    state.apply_alert(alert("a1", revision=2, action="update", at=T0 + timedelta(minutes=10)))
    state.apply_alert(alert("a2", rule="kim-russia", at=T0 + timedelta(minutes=20)))
    state.apply_alert(alert("other", story="s2"))
    page = state.story_page("s1")
    assert page["known"] and page["first_report"]["source"] == "Reuters"
    assert [(t["article_id"], t["source"]) for t in page["timeline"]] == [("r1", "Reuters"), ("r2", "AP"), ("r3", "Yonhap")]
    copy = page["timeline"][2]
    assert copy["duplicate_of"] == "r1" and copy["original_in_timeline"]
    assert page["timeline"][0]["evidence"] == "Kim Jong Un crossed the border."
    assert page["sources"] == ["Reuters", "AP", "Yonhap"] and page["copies"] == 1
    assert "Kim Jong Un" in page["names"] and page["entities"] == ["person:kim-jong-un"]
    assert [a["row"]["id"] for a in page["alerts"]] == ["a1", "a2"]
    assert [r.revision for r in page["alerts"][0]["revisions"]] == [2, 1]  # latest first
    # the alert list shows the story's title next to its alerts
    assert state.summary(state.alerts["a1"])["story_title"] == "Kim Jong Un crosses into Russia"


def test_a_newer_story_record_replaces_the_old_and_a_story_known_only_from_alerts_has_a_page():
    state = state_at()
    state.apply_record("stories", b"s1", record(story(reports=[report("r1", "Reuters", T0)])))
    state.apply_record("stories", b"s1", record(story()))
    assert len(state.story_page("s1")["timeline"]) == 3
    state.apply_alert(alert("a9", story="s9"))
    page = state.story_page("s9")
    assert page["known"] is False and [a["id"] for a in page["articles"]] == ["art-a9-1"]
    assert state.story_page("nope") is None


def test_stories_are_bounded_by_the_reports_they_hold_not_only_by_count():
    """Large stories (a record carries up to 200 reports) push the least
    recently changed ones out; a tombstone gives its reports back."""
    state = state_at(max_story_reports=8)
    state.apply_record("stories", b"s1", record(story("s1")))  # 3 reports
    state.apply_record("stories", b"s2", record(story("s2")))
    state.apply_record("stories", b"s1", record(story("s1")))  # s1 changed last
    state.apply_record("stories", b"s3", record(story("s3")))  # 9 reports: the oldest change goes
    assert list(state.stories) == ["s1", "s3"]
    assert state.apply_record("stories", b"s1", None) is not None  # a tombstone
    state.apply_record("stories", b"s4", record(story("s4")))
    assert list(state.stories) == ["s3", "s4"]
    big = [report(f"r{i}", "Wire", T0 + timedelta(minutes=i)) for i in range(20)]
    state.apply_record("stories", b"s5", record(story("s5", big)))  # over the budget alone: kept, by itself
    assert list(state.stories) == ["s5"]


def test_counts_per_rule_and_per_entity_over_the_last_day_and_week():
    now = T0 + timedelta(hours=1)
    state = state_at(now)
    state.apply_alert(alert("a1", rule="r1", at=T0))
    state.apply_alert(alert("a1", rule="r1", revision=2, action="update", at=T0 + timedelta(minutes=30)))
    state.apply_alert(alert("a2", rule="r2", at=T0 - timedelta(hours=3), entities=("country:kp",)))
    state.apply_alert(alert("a3", rule="r2", at=T0 - timedelta(days=3)))
    day = counts_chart(state.entries(), now, "rule", "day")
    assert {s.key: (s.alerts, s.reports) for s in day.series} == {"r1": (1, 2), "r2": (1, 1)}
    assert sum(1 for b in day.bars) == 2 and day.ymax == 1
    week = counts_chart(state.entries(), now, "rule", "week")
    assert {s.key: s.alerts for s in week.series} == {"r1": 1, "r2": 2}
    by_entity = counts_chart(state.entries(), now, "entity", "week")
    assert {s.key: s.alerts for s in by_entity.series} == {"person:kim-jong-un": 2, "country:kp": 1}
    assert counts_chart([], now).empty


def test_the_list_payload_stays_small_however_big_the_alerts():
    import json

    from monitor.models import ArticleRef

    state = state_at(max_alerts=10_000)
    long_text = "word " * 5000
    big = alert("a", title=long_text, sources=tuple(f"source {n}" for n in range(40)),
                events=(event(sentence=long_text),) * 5)
    big.articles = [ArticleRef(id=f"x{n}", source="s", title=long_text) for n in range(30)]
    for i in range(10_500):
        state.apply_alert(big.model_copy(update={"id": f"a{i}"}))
    assert len(state.alerts) == 10_000
    rows, total = state.query(AlertFilter(), limit=200)
    assert total == 10_000 and len(rows) == 200
    sizes = [len(json.dumps(state.summary(r))) for r in rows]
    assert max(sizes) < 1000  # title cut, four sources named: details are on the alert's own page
    assert len(state.alert_detail("a10499")["articles"]) == 30


def test_a_live_event_says_whether_the_changed_alert_still_matches_the_page():
    from monitor.dashboard.server import _event_payload
    from monitor.dashboard.view import Change

    state = state_at()
    state.apply_alert(alert("a1", action="new"))
    new_only = AlertFilter.from_query({"action": ["new"]})
    kind, data = _event_payload(state, new_only, Change("alert", "a1"))
    assert kind == "alert" and data["match"] and data["title"] == "Kim Jong Un crossed a border"
    state.apply_alert(alert("a1", action="resolved", revision=2))
    assert _event_payload(state, new_only, Change("alert", "a1")) == ("alert", {"id": "a1", "match": False})
    assert _event_payload(state, AlertFilter(), Change("story", "s1")) == ("story", {"id": "s1"})
