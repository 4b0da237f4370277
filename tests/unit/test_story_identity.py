"""Story identity mechanics: rarity of names, event places, the index and its
expiry, story records, table writes, and state that survives a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.models import Article, EventTag, Evidence, NameTag, RawArticle
from monitor.pipeline import Pipeline
from monitor.state import STORE_NAMES, CountingStore, JsonStore, StateStores
from monitor.stories import StoryClusterer, StoryConfig
from monitor.stories.features import features

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
RULES = Path(__file__).resolve().parents[2] / "rules"
FILLER = "officials said the meeting would continue later in the week according to the statement"


def article(aid: str, names: list[str], text: str, *, t: datetime = T0, events: list[EventTag] | None = None,
            source: str = "wire", duplicate_of: str | None = None) -> Article:
    tags = [NameTag(key=n.lower(), name=n, kind="person", count=2, in_headline=k == 0) for k, n in enumerate(names)]
    body = f"{text}. {', '.join(names)}."
    return Article(id=aid, source=source, title=f"{names[0]} {text.split(maxsplit=1)[0]}", text=body, paragraphs=[body],
                   names=tags, published=t, ingested_at=t, events=events or [], duplicate_of=duplicate_of)


def summit(*where: str) -> EventTag:
    return EventTag(type="summit", modality="asserted", trigger="summit", arguments={"location": list(where)},
                    evidence=Evidence(sentence="A summit.", start=0, end=9, paragraph=0))


def stores(kind: type = JsonStore) -> StateStores:
    return StateStores(**{name: kind() for name in STORE_NAMES})


def test_a_leader_in_many_stories_proves_little() -> None:
    c = StoryClusterer.from_stores(stores())
    for i in range(30):  # thirty different events, each naming the leader
        c.assign(article(f"e{i}", ["Ivo Marek", f"Person{i} Alpha", f"Place{i} Town"],
                         f"topic{i} story{i} item{i} {FILLER}"))
    assert c.df.idf("n:ivo marek") < c.df.idf("n:person3 alpha") / 2
    other = c.assign(article("new", ["Ivo Marek", "Vera Lund"], f"harbour opening ceremony {FILLER}"))
    assert other.story_id not in {c.index[f"e{i}"] for i in range(30)}
    same = c.assign(article("e3-again", ["Person3 Alpha", "Place3 Town", "Ivo Marek"], f"topic3 story3 {FILLER}"))
    assert same.story_id == c.index["e3"]


def test_same_people_at_a_summit_elsewhere_is_another_story() -> None:
    c = StoryClusterer.from_stores(stores())
    names = ["Ivo Marek", "Lin Qiao", "Dana Volk"]
    text = "summit talks trade pipeline energy agreement signed"
    first = c.assign(article("a", names, text, events=[summit("country:CN")]))
    elsewhere = c.assign(article("b", names, text, events=[summit("country:RU")], t=T0 + timedelta(hours=2)))
    there = c.assign(article("c", names, text, events=[summit("country:CN", "place:x")], t=T0 + timedelta(hours=3)))
    assert elsewhere.story_id != first.story_id and there.story_id == first.story_id


def test_historical_and_denied_events_are_not_current_evidence() -> None:
    old = summit("place:vladivostok").model_copy(update={"modality": "historical"})
    denied = summit("place:minsk").model_copy(update={"modality": "denied"})
    feats = features(article("a", ["Ivo Marek"], "talks", events=[old, denied, summit("country:CN")]))
    assert feats.events == {"summit": ["country:CN"]}


def test_expiry_closes_the_story_and_cleans_every_store() -> None:
    s = stores()
    c = StoryClusterer.from_stores(s, StoryConfig(ttl_hours=48))
    old = c.assign(article("old", ["Ivo Marek", "Dana Volk"], "quarry collapse rescue"))
    c.assign(article("old-2", ["Ivo Marek", "Dana Volk"], "quarry collapse rescue", source="other"))
    fresh = c.assign(article("fresh", ["Lin Qiao"], "bridge reopening", t=T0 + timedelta(hours=40)))
    closed = c.expire(T0 + timedelta(hours=60))
    assert [(r.id, r.status, r.report_count) for r in closed] == [(old.story_id, "closed", 2)]
    assert old.story_id not in s.stories and "old" not in c.index and "old-2" not in c.index
    assert not [k for k in s.story_reports if k.startswith(old.story_id)]
    assert all(old.story_id not in {sid for _, sid in v} for v in c.postings.postings.values())
    assert fresh.story_id in s.stories and c.expire(T0 + timedelta(hours=60)) == []


def test_records_keep_the_last_reports_and_an_exact_count() -> None:
    c = StoryClusterer.from_stores(stores(), StoryConfig(max_reports=5))
    first, record = c.place(article("a0", ["Ivo Marek", "Dana Volk"], "quarry collapse rescue"))
    for i in range(1, 12):
        _, record = c.place(article(f"a{i}", ["Ivo Marek", "Dana Volk"], "quarry collapse rescue",
                                    source=f"s{i}", duplicate_of="a0"))
    assert record.report_count == 12 and [r.article_id for r in record.reports] == [f"a{i}" for i in range(7, 12)]
    assert record.first_report.article_id == "a0" and record.latest_report.article_id == "a11"
    assert record.latest_report.duplicate_of == "a0" and len(record.sources) == 12
    assert c.record(first.story_id) == record


def test_a_report_of_a_known_story_writes_two_records() -> None:
    s = stores(CountingStore)
    c = StoryClusterer.from_stores(s)
    c.assign(article("a", ["Ivo Marek", "Dana Volk"], "quarry collapse rescue miners trapped"))
    before = {n: getattr(s, n).writes for n in STORE_NAMES}
    c.assign(article("b", ["Ivo Marek", "Dana Volk"], "quarry collapse rescue miners trapped", source="other"))
    writes = {n: getattr(s, n).writes - before[n] for n in STORE_NAMES}
    assert writes == {**dict.fromkeys(STORE_NAMES, 0), "stories": 1, "story_reports": 1}
    assert s.story_df.writes == 0  # document frequencies are written by the sweep
    c.expire(T0)
    assert s.story_df.writes > 0


def test_a_restarted_worker_sees_the_same_stories_and_frequencies() -> None:
    s = stores()
    first = StoryClusterer.from_stores(s)
    for i in range(10):
        first.assign(article(f"e{i}", ["Ivo Marek", f"Person{i} Alpha"], f"topic{i} story{i} {FILLER}"))
    first.expire(T0)  # the sweep persists the document frequencies
    second = StoryClusterer.from_stores(s)
    assert second.df.idf("n:ivo marek") == first.df.idf("n:ivo marek")
    again = second.assign(article("e4-b", ["Person4 Alpha", "Ivo Marek"], f"topic4 story4 {FILLER}", source="b"))
    assert again.story_id == second.index["e4"] == first.index["e4"]


def test_pipeline_publishes_changed_and_closed_stories() -> None:
    pipeline = Pipeline.from_rules_dir(RULES, stores())
    raw = RawArticle(id="q1", source="wire", title="Quarry collapse in Dorvik",
                     content="Rescuers searched the Dorvik quarry on Monday after a collapse trapped six miners.",
                     published=T0, ingested_at=T0)
    result = pipeline.process(raw, T0)
    assert [s.id for s in result.stories] == [result.article.story_id]
    assert result.stories[0].status == "active" and result.stories[0].report_count == 1
    closed = pipeline.expire(T0 + timedelta(days=5))
    assert [(s.id, s.status) for s in closed] == [(result.article.story_id, "closed")]


def test_a_replayed_article_changes_nothing_and_returns_the_current_record() -> None:
    c = StoryClusterer.from_stores(stores())
    a = article("a", ["Ivo Marek", "Dana Volk"], "quarry collapse rescue")
    _, first = c.place(a)
    c.place(article("b", ["Ivo Marek", "Dana Volk"], "quarry collapse rescue", source="other"))
    again, record = c.place(a)
    assert again.story_id == first.id and record.report_count == 2 and record == c.record(first.id)


def test_stories_left_by_the_previous_clusterer_are_not_joined_and_expire_quietly() -> None:
    s = stores()
    legacy = {"id": "old1", "first_article": "x1", "first_source": "w", "first_seen": T0.timestamp(),
              "title": "t", "updated": T0.timestamp(), "article_count": 1, "published_min": None,
              "published_max": None, "sources": ["w"], "articles": ["x1"], "entities": {}, "terms": {},
              "event_types": []}
    s.stories["old1"] = legacy
    c = StoryClusterer.from_stores(s)
    copy = c.assign(article("x2", ["Ivo Marek"], "quarry collapse", duplicate_of="x1"))
    assert c.index["x1"] == "old1"  # legacy profiles list their articles
    assert copy.story_id != "old1" and c.record(copy.story_id).report_count == 1
    assert [r.id for r in c.expire(T0 + timedelta(days=5))] == [copy.story_id]
    assert "old1" not in s.stories and "x1" not in c.index


def test_a_new_story_writes_its_profile_once() -> None:
    s = stores(CountingStore)
    c = StoryClusterer.from_stores(s)
    c.assign(article("a", ["Ivo Marek", "Dana Volk"], "quarry collapse rescue miners trapped"))
    assert {n: getattr(s, n).writes for n in STORE_NAMES} == {
        **dict.fromkeys(STORE_NAMES, 0), "stories": 1, "story_reports": 1}
    assert len(s.stories[c.index["a"]]["posted"]) > 0


def test_a_story_without_headline_is_titled_by_its_first_sentence() -> None:
    c = StoryClusterer.from_stores(stores())
    a = Article(id="t", source="s", text="Rescuers reached the Dorvik quarry. Six miners were trapped.",
                paragraphs=["Rescuers reached the Dorvik quarry. Six miners were trapped."], published=T0)
    _, record = c.place(a)
    assert record.title == "Rescuers reached the Dorvik quarry."
