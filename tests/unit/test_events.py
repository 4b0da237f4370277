"""Events: triggers, slots, modality, reported speech, sentence splitting, YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.enrich.events import EventCatalog, EventCatalogError
from monitor.enrich.sentences import sentence_spans
from monitor.enrich.tag import Tagger
from monitor.models import Article, EventTag
from tests.unit.test_tag import default_tagger, make_article, seed_article


def events(*paragraphs: str, tagger: Tagger | None = None) -> list[EventTag]:
    return (tagger or default_tagger()).tag(make_article(*paragraphs)).events


def only(evs: list[EventTag], type_: str) -> EventTag:
    found = [e for e in evs if e.type == type_]
    assert len(found) == 1, found
    return found[0]


# ------------------------------------------------------------ sentence split


@pytest.mark.parametrize("text, expected", [
    ("The U.S. State Department said so. It was late.",
     ["The U.S. State Department said so.", "It was late."]),
    ("SEOUL, Sept. 13 (Yonhap) -- Kim left. Mr. Kim arrived at 6 a.m. on Tuesday.",
     ["SEOUL, Sept. 13 (Yonhap) -- Kim left.", "Mr. Kim arrived at 6 a.m. on Tuesday."]),
    ('He said "we will go." Then he left.', ['He said "we will go."', "Then he left."]),
    ("Joseph R. Biden spoke. Sanctions by the U.S. The move came late.",
     ["Joseph R. Biden spoke.", "Sanctions by the U.S.", "The move came late."]),
    ("Is it over? Yes! Done", ["Is it over?", "Yes!", "Done"]),
])
def test_sentence_splitter(text: str, expected: list[str]) -> None:
    assert [text[s:e] for s, e in sentence_spans(text)] == expected


# ------------------------------------------------------------- event types


def test_border_crossing_with_slots() -> None:
    ev = only(events("Kim Jong Un\u2019s train crossed into Russia early on Tuesday."), "border_crossing")
    assert ev.modality == "asserted"
    assert ev.arguments == {"actor": ["person:kim-jong-un"], "destination": ["country:RU"]}
    assert ev.trigger == "crossed into"


def test_border_crossing_to_border_place_adds_its_country() -> None:
    ev = only(events("Kim Jong Un arrived at Khasan station in the morning."), "border_crossing")
    assert ev.arguments["destination"] == ["place:khasan", "country:RU"]


def test_arrival_in_non_border_city_is_not_a_crossing() -> None:
    assert not [e for e in events("Vladimir Putin arrived in Vladivostok on Monday.")
                if e.type == "border_crossing"]


def test_arms_transfer() -> None:
    ev = only(events("Belarus delivered artillery shells to Russia last month."), "arms_transfer")
    assert ev.modality == "asserted"
    assert ev.arguments["actor"] == ["country:BY"] and ev.arguments["counterpart"] == ["country:RU"]
    assert "item:shells" in ev.arguments["item"]


def test_supply_without_weapons_is_not_arms_transfer() -> None:
    assert not events("Brazil supplied grain and fertiliser to Egypt.")


@pytest.mark.parametrize("type_, sentence", [
    ("summit", "Xi Jinping held a summit with Vladimir Putin in Moscow."),
    ("sanctions", "Canada imposed new sanctions on Iran on Friday."),
    ("military_exercise", "Japan and Australia held joint naval drills off Okinawa."),
    ("missile_launch", "North Korea fired two ballistic missiles into the sea."),
    ("troop_movement", "Azerbaijan deployed more troops along the border with Armenia."),
    ("border_crossing", "A convoy of soldiers crossed the northern border overnight."),
])
def test_each_builtin_type(type_: str, sentence: str) -> None:
    ev = only(events(sentence), type_)
    assert ev.modality == "asserted"
    assert 0 < ev.confidence <= 1


def test_sanctions_slots() -> None:
    ev = only(events("Canada imposed new sanctions on Iran on Friday."), "sanctions")
    assert ev.arguments == {"actor": ["country:CA"], "counterpart": ["country:IR"]}


# ---------------------------------------------------------------- modality


@pytest.mark.parametrize("sentence, modality", [
    ("Vladimir Putin's motorcade crossed into Belarus on Friday.", "asserted"),
    ("Vladimir Putin will cross into Belarus next week.", "planned"),
    ("Vladimir Putin is expected to enter Belarus on Friday.", "planned"),
    ("Vladimir Putin is set to cross into Belarus on Friday.", "planned"),
    ("Analysts predicted that Belarus may agree to supply Russia with drones.", "speculative"),
    ("Belarus could supply Russia with drones.", "speculative"),
    ("Belarus is likely to supply Russia with drones.", "speculative"),
    ("Officials raised the possibility of supplying Russia with drones from Belarus.", "speculative"),
    ("Belarus would supply Russia with drones under the plan.", "speculative"),
    ("Minsk denied that Belarus had supplied Russia with drones.", "denied"),
    ("Belarus did not supply drones to Russia.", "denied"),
    ("Belarus will supply Russia with drones if they agree on a price.", "conditional"),
    ("If they agree, Belarus will supply Russia with drones.", "conditional"),
    ("An arms deal between Belarus and Russia was discussed.", "speculative"),
    ("The summit of Vladimir Putin and Xi Jinping is likely to be held in Minsk.", "speculative"),
])
def test_modality(sentence: str, modality: str) -> None:
    evs = [e for e in events(sentence) if e.type in {"border_crossing", "arms_transfer", "summit"}]
    assert evs and {e.modality for e in evs} == {modality}, evs


def test_not_hesitate_is_not_a_denial() -> None:
    ev = only(events("Canada will not hesitate to impose new sanctions on Iran."), "sanctions")
    assert ev.modality == "planned"


def test_reported_speech_is_asserted_with_reporter() -> None:
    ev = only(events("Border officials said Kim Jong Un entered Russia on Tuesday."), "border_crossing")
    assert ev.modality == "asserted" and ev.reported_by == "Border officials"
    ev = only(events("Kim Jong Un crossed into Russia, the Korean Central News Agency reported."),
              "border_crossing")
    assert ev.modality == "asserted" and ev.reported_by == "org:kcna"
    ev = only(events("According to Japanese broadcasters, Kim Jong Un arrived in Russia."), "border_crossing")
    assert ev.reported_by == "Japanese broadcasters"


def test_evidence_points_at_sentence() -> None:
    art = default_tagger().tag(make_article("Intro line here.", "Nothing. Kim Jong Un crossed into Russia."))
    ev = only(art.events, "border_crossing")
    assert art.text[ev.evidence.start:ev.evidence.end] == ev.evidence.sentence
    assert ev.evidence.sentence == "Kim Jong Un crossed into Russia." and ev.evidence.paragraph == 1


# ------------------------------------------------------------------- seeds


def seed_events(prefix: str) -> list[EventTag]:
    return default_tagger().tag(seed_article(prefix)).events


def test_seed_000_reports_asserted_border_crossing() -> None:
    crossings = [e for e in seed_events("000") if e.type == "border_crossing" and e.modality == "asserted"]
    triggers = {e.trigger for e in crossings}
    assert {"crossed into", "arrived in"} <= triggers
    assert all("country:RU" in e.arguments["destination"] for e in crossings if "destination" in e.arguments)
    assert any(e.reported_by == "Jeon" for e in crossings)


def test_seed_004_border_crossing_is_only_planned() -> None:
    crossings = [e for e in seed_events("004") if e.type == "border_crossing"]
    assert crossings and {e.modality for e in crossings} == {"planned"}


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_no_seed_asserts_a_completed_arms_transfer(prefix: str) -> None:
    arms = [e for e in seed_events(prefix) if e.type == "arms_transfer"]
    assert arms
    assert {e.modality for e in arms} <= {"speculative", "denied", "conditional"}


def test_seed_001_denial_is_denied() -> None:
    arms = [e for e in seed_events("001") if e.type == "arms_transfer"]
    assert any(e.modality == "denied" and e.trigger == "supplying" for e in arms)


# ------------------------------------------------------------------ catalog


def write(tmp_path: Path, text: str) -> Path:
    d = tmp_path / "events"
    d.mkdir(exist_ok=True)
    (d / "mine.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_builtin_catalog_types() -> None:
    assert set(EventCatalog.builtin().types) == {
        "border_crossing", "arms_transfer", "summit", "sanctions", "military_exercise",
        "missile_launch", "troop_movement"}


def test_user_event_type_added_and_builtin_replaced(tmp_path: Path) -> None:
    rules = write(tmp_path, """
events:
  - type: cyberattack
    triggers: ["{hack}", {pattern: "cyber ?attacks?", noun: true}]
    slots:
      actor: {types: [country, organization], find: [{side: before}]}
  - type: summit
    triggers: ["tete-a-tete"]
""")
    cat = EventCatalog.from_rules_dir(rules)
    assert "cyberattack" in cat.types and "border_crossing" in cat.types
    t = Tagger(default_tagger().watchlist, cat)
    ev = only(events("Hackers from Iran hacked the water utility.", tagger=t), "cyberattack")
    assert ev.arguments == {"actor": ["country:IR"]} and ev.modality == "asserted"
    assert not [e for e in events("Kim Jong Un held a summit with Xi Jinping.", tagger=t) if e.type == "summit"]


@pytest.mark.parametrize("body, expected", [
    ("events:\n  - type: x\n    trigers: [a]\n", r"mine.yaml:3: 'x': unknown key 'trigers' \(did you mean 'triggers'\?\)"),
    ("events:\n  - type: x\n    triggers: ['a(?!b)']\n", r"mine.yaml:3: 'x': bad pattern"),
    ("events:\n  - type: x\n    triggers: [{pattern: a, requires: [who]}]\n", "undefined slot 'who'"),
    ("events:\n  - type: x\n    triggers: [a]\n    slots: {s: {side: after}}\n", "unknown key 'side'"),
    ("modality_cues:\n  maybe: [{scope: near, pattern: x}]\n", "mine.yaml"),
])
def test_catalog_errors(tmp_path: Path, body: str, expected: str) -> None:
    with pytest.raises(EventCatalogError, match=expected):
        EventCatalog.from_rules_dir(write(tmp_path, body))


def test_article_without_entities_or_text() -> None:
    assert default_tagger().tag(Article(id="e", source="s")).events == []
