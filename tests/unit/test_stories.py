"""Story clustering: seeds form one story, unrelated news does not join it."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import pytest

from monitor.models import Article
from monitor.stories import StoryClusterer, StoryConfig
from monitor.stories.profile import KEY_SEP, unpack, unpack_terms
from tests.unit.test_tag import default_tagger, make_article, seed_article

NOW = datetime(2023, 9, 13, 6, 0, tzinfo=timezone.utc)
SEEDS = ["000", "001", "002", "003", "004"]

IRAN_SANCTIONS = (
    "The European Union on Monday imposed new sanctions on Iran over its supply of drones, "
    "freezing the assets of six Iranian officials and two companies.",
    "Tehran condemned the decision and said it would respond. Iranian Foreign Ministry "
    "spokesman Nasser Kanaani called the measures illegal.",
    "EU foreign ministers meeting in Brussels also extended an arms embargo. Diplomats said "
    "further measures against Iran were possible if talks on its nuclear program stall.",
)
RUSSIA_RATES = (
    "Russia's central bank raised its key interest rate to 13 percent on Friday as the rouble "
    "weakened and inflation picked up.",
    "The bank said the Russian economy was overheating. Analysts in Moscow expected another "
    "increase before the end of the year.",
)
PUTIN_GRAIN = (
    "Vladimir Putin told farmers in Krasnodar that Russia expects a record wheat harvest and "
    "will expand grain exports to Egypt and Turkey.",
    "Putin said fertiliser prices had fallen and promised subsidies for new tractors and "
    "storage silos across southern Russia.",
)


@lru_cache(maxsize=None)
def tagged_seed(prefix: str) -> Article:
    return default_tagger().tag(seed_article(prefix))


def tagged(aid: str, paragraphs: tuple[str, ...], title: str, source: str = "wire") -> Article:
    return default_tagger().tag(make_article(*paragraphs, title=title, aid=aid, source=source))


def clusterer(**config: float) -> StoryClusterer:
    return StoryClusterer({}, StoryConfig(**config))


def test_all_seeds_join_one_story_in_any_order() -> None:
    arts = [tagged_seed(p) for p in SEEDS]
    for order in itertools.permutations(arts):
        c = clusterer()
        story_ids = {c.assign(a, now=NOW).story_id for a in order}
        assert len(story_ids) == 1, [a.id for a in order]
        story = c.stories[story_ids.pop()]
        assert story["article_count"] == 5
        assert len(story["sources"]) == 5
        assert c.record(story["id"]).first_report.article_id == order[0].id


def test_unrelated_stories_do_not_join() -> None:
    c = clusterer()
    seed_story = {c.assign(tagged_seed(p), now=NOW).story_id for p in SEEDS}
    others = [
        tagged("iran", IRAN_SANCTIONS, "EU imposes new sanctions on Iran over drones"),
        tagged("rates", RUSSIA_RATES, "Russia raises interest rates"),
        tagged("grain", PUTIN_GRAIN, "Putin promises record grain exports"),
    ]
    other_ids = [c.assign(a, now=NOW).story_id for a in others]
    assert len(seed_story) == 1 and not seed_story & set(other_ids)
    assert len(set(other_ids)) == 3
    assert len(c.stories) == 4


def test_duplicate_joins_its_originals_story() -> None:
    c = clusterer()
    original = c.assign(tagged_seed("001"), now=NOW)
    iran = c.assign(tagged("iran", IRAN_SANCTIONS, "EU sanctions Iran"), now=NOW)
    dup = tagged("iran-copy", IRAN_SANCTIONS, "EU sanctions Iran", source="other-wire")
    dup = dup.model_copy(update={"duplicate_of": "iran", "dup_kind": "exact"})
    out = c.assign(dup, now=NOW)
    assert out.story_id == iran.story_id != original.story_id
    assert c.index["iran-copy"] == iran.story_id
    story = c.stories[iran.story_id]
    assert story["article_count"] == 2 and story["sources"] == ["wire", "other-wire"]


def test_time_window_is_respected() -> None:
    c = clusterer(window_hours=24)
    first = c.assign(tagged_seed("000"), now=NOW)
    late = c.assign(tagged_seed("001"), now=NOW + timedelta(hours=30))
    assert first.story_id != late.story_id
    c = clusterer()  # default 72h
    assert c.assign(tagged_seed("000"), now=NOW).story_id == \
        c.assign(tagged_seed("001"), now=NOW + timedelta(hours=30)).story_id


def test_published_time_wins_and_first_report_is_earliest() -> None:
    c = clusterer()
    later = tagged_seed("002").model_copy(update={"published": NOW})
    earlier = tagged_seed("000").model_copy(update={"published": NOW - timedelta(hours=20)})
    sid = c.assign(later, now=NOW + timedelta(days=30)).story_id
    assert c.assign(earlier).story_id == sid
    story = c.stories[sid]
    assert c.record(sid).first_report.article_id == earlier.id
    assert story["published_min"] == pytest.approx((NOW - timedelta(hours=20)).timestamp())
    assert story["published_max"] == pytest.approx(NOW.timestamp())


def test_replay_is_idempotent() -> None:
    c = clusterer()
    a = tagged_seed("003")
    assert c.assign(a, now=NOW).story_id == c.assign(a, now=NOW).story_id
    assert next(iter(c.stories.values()))["article_count"] == 1


def test_state_is_json_plain_and_compact() -> None:
    c = clusterer()
    for p in SEEDS:
        c.assign(tagged_seed(p), now=NOW)
    story = next(iter(c.stories.values()))
    assert json.loads(json.dumps(story)) == story
    assert json.loads(json.dumps(dict(c.index))) == dict(c.index)
    assert json.loads(json.dumps(dict(c.reports))) == dict(c.reports)
    keys, terms = unpack(story["keys"], KEY_SEP), unpack_terms(story["terms"])
    assert 0 < len(keys) <= c.config.story_keys and 0 < len(terms) <= c.config.story_terms
    record = c.record(story["id"])
    assert "person:kim-jong-un" in record.entities and "person:vladimir-putin" in record.entities


def test_stored_values_are_replaced_not_mutated() -> None:
    c = clusterer()
    sid = c.assign(tagged_seed("000"), now=NOW).story_id
    before = c.stories[sid]
    snapshot = json.dumps(before, sort_keys=True)
    c.assign(tagged_seed("001"), now=NOW)
    assert json.dumps(before, sort_keys=True) == snapshot
    assert c.stories[sid] is not before


def test_expire() -> None:
    c = clusterer(ttl_hours=48)
    old = c.assign(tagged_seed("000"), now=NOW)
    fresh = c.assign(tagged("iran", IRAN_SANCTIONS, "EU sanctions Iran"), now=NOW + timedelta(hours=40))
    assert [r.id for r in c.expire(NOW + timedelta(hours=60))] == [old.story_id]
    assert old.story_id not in c.stories and fresh.story_id in c.stories
    assert "seed-000" not in c.index and c.index["iran"] == fresh.story_id
    assert c.expire(NOW + timedelta(hours=60)) == []
    assert not any(old.story_id in {sid for _, sid in entries} for entries in c.postings.postings.values())


def test_a_closing_story_stays_until_its_record_is_published_and_returns_to_life_on_a_report() -> None:
    c = clusterer(ttl_hours=48)
    old = c.assign(tagged_seed("000"), now=NOW)
    later = NOW + timedelta(hours=60)
    assert [r.status for r in c.closing(later)] == ["closed"]
    assert old.story_id in c.stories and c.index["seed-000"] == old.story_id  # not yet published
    assert [r.id for r in c.closing(later)] == [old.story_id]  # not confirmed: handed out again
    c.drop_closed([old.story_id])
    assert old.story_id not in c.stories and "seed-000" not in c.index and c.closing(later) == []

    again = c.assign(tagged_seed("000"), now=NOW)
    c.closing(later)
    c.assign(tagged_seed("001"), now=later)  # a report before the closed record is out
    c.drop_closed([again.story_id])
    assert again.story_id in c.stories and c.stories[again.story_id]["article_count"] == 2


def test_a_story_stored_before_packing_still_joins_and_reports_the_same() -> None:
    """A worker upgraded over a changelog written by the unpacked profile
    format (dict vectors keyed by words, its first report inside) reads it."""
    from monitor.stories.features import article_terms, features
    from monitor.stories.record import report_fields, report_state, story_title

    first, later = tagged_seed("000"), tagged_seed("001")
    c = clusterer()
    feats = features(first)
    seen = NOW.timestamp()
    report = report_fields(report_state(first, seen))
    c.stories["old"] = {
        "id": "old", "title": story_title(first), "first_article": first.id, "first_source": first.source,
        "first_seen": seen, "updated": seen, "article_count": 1, "published_min": None,
        "published_max": None, "sources": [first.source], "keys": feats.keys,
        "labels": {k: feats.labels[k] for k in list(feats.keys)[:10]}, "terms": article_terms(first),
        "events": feats.events, "event_types": sorted(feats.events), "posted": list(feats.specific),
        "first_report": report,
    }
    c.reports["old/0"] = [report]
    c.index[first.id] = "old"
    c.postings.post("old", feats.specific, seen)
    c.df.add([*feats.keys, *feats.terms], seen)

    assert c.record("old").first_report.article_id == first.id
    assert c.assign(later, now=NOW).story_id == "old"
    record = c.record("old")
    assert record.report_count == 2 and record.title == story_title(first) != ""
    assert [r.article_id for r in record.reports] == [first.id, later.id]
    assert record.first_report.article_id == first.id and record.names
    assert "first_report" not in c.stories["old"]


def test_document_frequencies_counted_by_word_are_read_by_term_id() -> None:
    from monitor.stories.docfreq import DocFreq
    from monitor.stories.profile import term_id

    df = DocFreq({"s1": {"quarry": 3.0, "n:ivo marek": 2.0}, "meta": {"n": 5.0, "t": 0.0}})
    assert df.count(term_id("quarry")) == 3.0 and df.count("n:ivo marek") == 2.0


def test_a_short_story_ttl_makes_document_frequencies_forget_sooner_too() -> None:
    """Word counts decay over StoryConfig.memory_hours (7 days at the default
    96 h TTL): a deployment that closes stories after an hour does not keep a
    week of vocabulary in its state."""
    from monitor.stories.docfreq import DocFreq
    from monitor.stories.profile import term_id

    def kept_after(config: StoryConfig, hours: float) -> float:
        store: dict = {}
        c = StoryClusterer({}, config, docfreq=store)
        c.df.add([term_id("quarry"), "n:ivo marek"], 0.0)
        c.df.flush(hours * 3600)
        return DocFreq(store).count(term_id("quarry"))

    assert StoryConfig().memory_hours == 7 * 24
    assert kept_after(StoryConfig(), 4) == pytest.approx(1.0, abs=0.02)
    assert kept_after(StoryConfig(ttl_hours=1), 1.75) == pytest.approx(0.5, abs=0.01)
    assert kept_after(StoryConfig(ttl_hours=1), 4) == 0.0  # faded below MIN_COUNT: gone from the table


def test_title_and_first_report_come_from_the_opening_report_past_the_report_cap() -> None:
    c = clusterer(max_reports=3)
    seed = tagged_seed("002")
    opening = seed.model_copy(update={"id": "open", "title": "Opening headline", "published": NOW})
    sid = c.assign(opening, now=NOW).story_id
    for i in range(30):  # 30 later reports: the opening one leaves the record's report list
        copy = seed.model_copy(update={"id": f"r{i}", "title": f"Report {i}", "published": NOW + timedelta(minutes=i)})
        assert c.assign(copy, now=NOW).story_id == sid
    early = seed.model_copy(update={"id": "early", "title": "Earlier report", "published": NOW - timedelta(hours=1)})
    assert c.assign(early, now=NOW).story_id == sid
    record = c.record(sid)
    assert record.title == "Opening headline" and record.first_report.article_id == "early"
    assert [r.article_id for r in record.reports] == ["r28", "r29", "early"] and record.report_count == 32
