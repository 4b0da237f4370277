"""Event precision where stories and alerts depend on it: background about the
past is `historical`, and a summit needs two parties."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from monitor.models import Article, EventTag, RawArticle
from monitor.pipeline import Pipeline
from tests.unit.test_tag import default_tagger

RULES = Path(__file__).resolve().parents[2] / "rules"
PUBLISHED = datetime(2023, 9, 13, 8, 0, tzinfo=timezone.utc)


def events(text: str, type_: str) -> list[EventTag]:
    art = Article(id="a", source="s", text=text, paragraphs=[text], published=PUBLISHED)
    return [e for e in default_tagger().tag(art).events if e.type == type_]


@pytest.mark.parametrize("sentence, type_", [
    ("Kim Jong Un and Vladimir Putin held their first summit in 2019 in Vladivostok.", "summit"),
    ("Kim Jong Un met Vladimir Putin in April 2019 on Russky Island.", "summit"),
    ("Kim Jong Un has crossed the inter-Korean border twice in his 12 years in power.", "border_crossing"),
    ("Kim Jong Un crossed into Russia by train years ago, on his first trip abroad.", "border_crossing"),
])
def test_background_about_the_past_is_historical(sentence: str, type_: str) -> None:
    evs = events(sentence, type_)
    assert evs and {e.modality for e in evs} == {"historical"}, evs


@pytest.mark.parametrize("sentence, type_, modality", [
    ("Kim Jong Un crossed into Russia on Tuesday, his first trip abroad since 2019.", "border_crossing", "asserted"),
    ("Vladimir Putin will travel to Beijing for a summit with Xi Jinping in 2024.", "summit", "planned"),
    ("Kim Jong Un met Vladimir Putin at the Vostochny Cosmodrome in September 2023.", "summit", "asserted"),
])
def test_current_and_coming_events_are_not_historical(sentence: str, type_: str, modality: str) -> None:
    evs = events(sentence, type_)
    assert evs and {e.modality for e in evs} == {modality}, evs


@pytest.mark.parametrize("sentence", [
    "Vladimir Putin met farmers in Beijing on Monday.",
    "Vladimir Putin met Russian farmers in Krasnodar on Friday.",
    "Vladimir Putin spoke at a farming summit in Krasnodar.",
])
def test_a_summit_needs_two_leaders_or_states(sentence: str) -> None:
    assert events(sentence, "summit") == []


def test_a_meeting_of_two_leaders_is_a_summit_at_its_place() -> None:
    (ev,) = events("Vladimir Putin met Xi Jinping in Beijing on Monday.", "summit")
    assert ev.arguments["counterpart"] == ["person:xi-jinping"] and "country:CN" in ev.arguments["location"]


def test_a_historical_crossing_fires_no_rule_asking_for_asserted_events() -> None:
    pipeline = Pipeline.from_rules_dir(RULES)

    def fired(aid: str, text: str) -> list[str]:
        raw = RawArticle(id=aid, source="wire", content=text, published=PUBLISHED)
        return [a.rule_id for a in pipeline.process(raw, PUBLISHED).alerts]

    assert "leader-border-crossing" not in fired(
        "past", "SEOUL, Sept 13 (Wire) -- Kim Jong Un crossed into Russia in 2019 for a summit in Vladivostok.")
    assert "leader-border-crossing" in fired(
        "now", "SEOUL, Sept 13 (Wire) -- Kim Jong Un crossed into Russia on Tuesday, officials said.")
