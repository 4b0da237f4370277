"""Story identity on an adversarial stream: one leader in many events, many
outlets on one event, unwatched events reported twice (tests/story_stream.py).
Stories must be exactly the events: no wrong merge, no missed join."""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from monitor.pipeline import Pipeline, Result
from monitor.state import STORE_NAMES, JsonStore, StateStores
from tests.story_stream import EVENTS, REPORTS, raw_articles

RULES = Path(__file__).resolve().parents[2] / "rules"


def partition(groups: dict[str, list[str]]) -> set[frozenset[str]]:
    return {frozenset(v) for v in groups.values()}


@lru_cache(maxsize=1)
def run_stream() -> tuple[Result, ...]:
    stores = StateStores(**{name: JsonStore() for name in STORE_NAMES})
    pipeline = Pipeline.from_rules_dir(RULES, stores)
    return tuple(pipeline.process(raw, raw.published) for raw in raw_articles())


def explain(results: tuple[Result, ...]) -> str:
    event_of = {f"r{i:02d}": r[0] for i, r in enumerate(REPORTS)}
    by_story = defaultdict(list)
    for r in results:
        by_story[r.article.story_id].append(f"{r.article.id}:{event_of[r.article.id]}")
    return "\n".join(" ".join(v) for v in by_story.values())


def test_stories_are_exactly_the_events() -> None:
    results = run_stream()
    stories: dict[str, list[str]] = defaultdict(list)
    for r in results:
        stories[r.article.story_id].append(r.article.id)
    assert partition(stories) == partition(EVENTS), explain(results)


def test_every_report_publishes_its_story_record() -> None:
    results = run_stream()
    for r in results:
        assert [s.id for s in r.stories] == [r.article.story_id]
        record = r.stories[0]
        assert record.latest_report.article_id == r.article.id
        assert record.report_count == len(record.reports)
    kim = next(r.stories[0] for r in reversed(results) if r.article.id == EVENTS["kim-summit"][-1])
    assert kim.report_count == 3 and kim.sources == ["Harbour Wire", "Steppe News", "Peninsula Daily"]
    assert kim.first_report.article_id == EVENTS["kim-summit"][0]
    assert {"person:kim-jong-un", "person:vladimir-putin"} <= set(kim.entities)
    assert "summit" in kim.event_types
    assert kim.latest_report.modality == "asserted"


def test_one_alert_per_event_with_updates_for_other_outlets() -> None:
    """A new event of a watched leader opens a new alert even while another
    story of that leader is open; further outlets on the same event update it."""
    results = run_stream()
    crossings = [(r.article.id, a.id, a.action) for r in results for a in r.alerts
                 if a.rule_id == "leader-border-crossing"]
    ankara, minsk = EVENTS["ankara-trip"], EVENTS["minsk-trip"]
    by_article = {aid: (alert, action) for aid, alert, action in crossings}
    assert [by_article[a][1] for a in ankara] == ["new", "update", "update"]
    assert [by_article[a][1] for a in minsk] == ["new", "update"]
    assert len({by_article[a][0] for a in ankara}) == 1 and len({by_article[a][0] for a in minsk}) == 1
    assert by_article[ankara[0]][0] != by_article[minsk[0]][0]
    summits = [(r.article.id, a.action) for r in results for a in r.alerts if a.rule_id == "leaders-summit"]
    assert summits == [(aid, "new" if k == 0 else "update") for k, aid in enumerate(EVENTS["kim-summit"])]
