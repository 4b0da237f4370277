"""Rule conditions and alert state, on hand-built tagged articles."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from monitor.models import Article, EntityTag, EventTag, Evidence, Mention
from monitor.rules.engine import RuleEngine
from monitor.rules.templates import render
from monitor.rules.loader import Ruleset, LoadedRule
from monitor.rules.schema import RuleFile

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)

KIM = ("kim_jong_un", "person", "Kim Jong Un")
PUTIN = ("vladimir_putin", "person", "Vladimir Putin")
RUSSIA = ("country:RU", "country", "Russia")


def entity(spec, count=1, headline=False) -> EntityTag:
    eid, etype, name = spec
    mentions = [Mention(surface=name, start=i * 10, end=i * 10 + len(name), paragraph=0) for i in range(count)]
    return EntityTag(id=eid, type=etype, name=name, mentions=mentions, in_headline=headline)


def event(etype="border_crossing", modality="asserted", actor=("kim_jong_un",), destination=("country:RU",),
          confidence=0.8) -> EventTag:
    sentence = "Kim Jong Un's train crossed into Russia on Tuesday."
    return EventTag(
        type=etype, modality=modality, trigger="crossed into",
        arguments={"actor": list(actor), "destination": list(destination)},
        evidence=Evidence(sentence=sentence, start=0, end=len(sentence), paragraph=0),
        confidence=confidence,
    )


def article(aid="a1", story="s1", entities=(), events=(), title="Kim arrives", text="body", source="wire",
            duplicate_of=None) -> Article:
    return Article(id=aid, source=source, title=title, text=text, paragraphs=[text], story_id=story,
                   entities=list(entities), events=list(events), duplicate_of=duplicate_of,
                   dup_kind="version" if duplicate_of else None)


def engine(rules_yaml: dict, store=None) -> RuleEngine:
    parsed = RuleFile.model_validate(rules_yaml)
    ruleset = Ruleset([LoadedRule(r, "test.yaml", None) for r in parsed.rules], parsed.lists, parsed.macros)
    return RuleEngine(ruleset, store if store is not None else {})


def rule(match, **extra) -> dict:
    return {"rules": [{"id": "r1", "title": "Rule one", "severity": "high", "match": match, **extra}]}


def fires(rules_yaml, art) -> bool:
    return bool(engine(rules_yaml).evaluate(art, T0))


def test_entity_any_all_none():
    both = article(entities=[entity(KIM), entity(PUTIN)])
    only_kim = article(entities=[entity(KIM)])
    assert fires(rule({"entity": {"any": ["kim_jong_un", "xi_jinping"]}}), only_kim)
    assert fires(rule({"entity": {"all": ["kim_jong_un", "vladimir_putin"]}}), both)
    assert not fires(rule({"entity": {"all": ["kim_jong_un", "vladimir_putin"]}}), only_kim)
    assert not fires(rule({"entity": {"any": ["kim_jong_un"], "none": ["vladimir_putin"]}}), both)


def test_entity_min_mentions_and_headline():
    once = article(entities=[entity(KIM, count=1)])
    thrice_headline = article(entities=[entity(KIM, count=3, headline=True)])
    assert not fires(rule({"entity": {"any": ["kim_jong_un"], "min_mentions": 2}}), once)
    assert fires(rule({"entity": {"any": ["kim_jong_un"], "min_mentions": 2}}), thrice_headline)
    assert not fires(rule({"entity": {"any": ["kim_jong_un"], "in_headline": True}}), once)
    assert fires(rule({"entity": {"any": ["kim_jong_un"], "in_headline": True}}), thrice_headline)


def test_event_defaults_to_asserted_only():
    cond = {"event": {"type": "border_crossing"}}
    ents = [entity(KIM), entity(RUSSIA)]
    assert fires(rule(cond), article(entities=ents, events=[event(modality="asserted")]))
    assert not fires(rule(cond), article(entities=ents, events=[event(modality="planned")]))
    assert not fires(rule(cond), article(entities=ents, events=[event(modality="speculative")]))
    speculation = {"event": {"type": "border_crossing", "modality": ["speculative", "planned"]}}
    assert fires(rule(speculation), article(entities=ents, events=[event(modality="planned")]))


def test_event_argument_constraints():
    ents = [entity(KIM), entity(RUSSIA), entity(PUTIN)]
    art = article(entities=ents, events=[event()])
    assert fires(rule({"event": {"type": "border_crossing", "actor": "kim_jong_un"}}), art)
    assert not fires(rule({"event": {"type": "border_crossing", "actor": "vladimir_putin"}}), art)
    assert fires(rule({"event": {"type": "border_crossing", "destination": {"type": "country"}}}), art)
    assert not fires(rule({"event": {"type": "border_crossing", "destination": {"type": "facility"}}}), art)
    assert not fires(rule({"event": {"type": "border_crossing", "min_confidence": 0.9}}), art)


def test_lists_expand_in_entity_and_argument_conditions():
    yaml = rule({"event": {"type": "border_crossing", "actor": "leaders"}})
    yaml["lists"] = {"leaders": ["vladimir_putin", "kim_jong_un"]}
    assert fires(yaml, article(entities=[entity(KIM), entity(RUSSIA)], events=[event()]))


def test_text_phrases_and_re2_regex():
    art = article(title="Train reaches Khasan", text="The special train crossed the bridge at dawn.")
    assert fires(rule({"text": {"phrases": ["KHASAN"]}}), art)
    assert not fires(rule({"text": {"phrases": ["KHASAN"], "case_sensitive": True}}), art)
    assert fires(rule({"text": {"regex": [r"cross(ed|es)\s+the\s+bridge"]}}), art)
    assert not fires(rule({"text": {"all_phrases": ["train", "airport"]}}), art)


def test_boolean_composition_and_macros():
    yaml = rule({"all": [{"macro": "kim"}, {"not": {"text": {"phrases": ["satire"]}}},
                         {"any": [{"source": ["wire"]}, {"source": ["other"]}]}]})
    yaml["macros"] = {"kim": {"entity": {"any": ["kim_jong_un"]}}}
    assert fires(yaml, article(entities=[entity(KIM)]))
    assert not fires(yaml, article(entities=[entity(KIM)], text="a satire piece"))
    assert not fires(yaml, article(entities=[entity(KIM)], source="blog"))


def test_novelty_first_report_fires_later_reports_corroborate():
    eng = engine(rule({"entity": {"any": ["kim_jong_un"]}}))
    first = eng.evaluate(article("a1", source="Yonhap", entities=[entity(KIM)]), T0)
    second = eng.evaluate(article("a2", source="Kyodo", entities=[entity(KIM)]), T0 + timedelta(minutes=5))
    third = eng.evaluate(article("a3", source="Yonhap", entities=[entity(KIM)]), T0 + timedelta(minutes=9))
    assert [a.action for a in first + second + third] == ["new", "update", "update"]
    assert len({a.id for a in first + second + third}) == 1
    assert [a.revision for a in first + second + third] == [1, 2, 3]
    assert third[0].corroboration == 3
    assert third[0].sources == ["Yonhap", "Kyodo"]
    assert third[0].created_at == T0 and third[0].updated_at == T0 + timedelta(minutes=9)


def test_duplicates_never_fire_nor_corroborate():
    eng = engine(rule({"entity": {"any": ["kim_jong_un"]}}))
    eng.evaluate(article("a1", entities=[entity(KIM)]), T0)
    copy = article("a2", entities=[entity(KIM)], duplicate_of="a1")
    assert eng.evaluate(copy, T0) == []
    later = eng.evaluate(article("a3", entities=[entity(KIM)]), T0)
    assert later[0].corroboration == 2


def test_replay_repeats_only_the_latest_emission_under_its_own_revision():
    store: dict = {}
    r = rule({"entity": {"any": ["kim_jong_un"]}})
    a1, a2 = article("a1", entities=[entity(KIM)]), article("a2", entities=[entity(KIM)])
    (first,) = engine(r, store).evaluate(a1, T0)
    (second,) = engine(r, store).evaluate(a2, T0)
    # a restarted worker with the same state sees both again (at-least-once replay):
    # a2 made the latest emission, which the crash may have lost, so it comes again
    # as the same revision; a1's was followed by a later one, so it is not repeated
    restarted = engine(r, store)
    assert restarted.evaluate(a1, T0) == []
    (again,) = restarted.evaluate(a2, T0)
    assert (again.id, again.action, again.revision, again.corroboration) == (second.id, "update", 2, 2)
    assert first.id == second.id and first.action == "new"
    # and the next real report continues from the state, not from the repeat
    (third,) = restarted.evaluate(article("a3", entities=[entity(KIM)]), T0)
    assert (third.revision, third.corroboration) == (3, 3)


def test_other_story_gets_its_own_alert_with_stable_id():
    eng = engine(rule({"entity": {"any": ["kim_jong_un"]}}))
    a = eng.evaluate(article("a1", story="s1", entities=[entity(KIM)]), T0)[0]
    b = eng.evaluate(article("b1", story="s2", entities=[entity(KIM)]), T0)[0]
    assert a.id != b.id and b.action == "new"
    again = engine(rule({"entity": {"any": ["kim_jong_un"]}})).evaluate(article("a1", story="s1", entities=[entity(KIM)]), T0)[0]
    assert again.id == a.id


def test_exceptions_suppress_until_they_expire():
    exc = {"name": "parody", "reason": "parody site", "match": {"source": ["parody"]}}
    active = rule({"entity": {"any": ["kim_jong_un"]}}, exceptions=[{**exc, "until": "2099-01-01"}])
    expired = rule({"entity": {"any": ["kim_jong_un"]}}, exceptions=[{**exc, "until": "2020-01-01"}])
    art = article(entities=[entity(KIM)], source="parody")
    assert not fires(active, art)
    assert fires(expired, art)


def test_disabled_rules_do_not_fire():
    assert not fires(rule({"entity": {"any": ["kim_jong_un"]}}, enabled=False), article(entities=[entity(KIM)]))


def test_templates_render_fields_and_refuse_object_access():
    yaml = rule({"event": {"type": "border_crossing"}},
                template={"title": "{actors} crossed into {destinations} ({modality})"})
    alert = engine(yaml).evaluate(article(entities=[entity(KIM), entity(RUSSIA)], events=[event()]), T0)[0]
    assert alert.title == "Kim Jong Un crossed into Russia (asserted)"
    assert alert.events[0].evidence.sentence.startswith("Kim Jong Un's train")
    leaked = render("{article_title.__class__.__mro__}", {"article_title": "x"})
    assert "template error" in leaked and "<class" not in leaked


def test_shipped_arms_rule_title_names_the_recipient():
    # arms_transfer fills `counterpart`, not `destination`: the template must say so
    from monitor.settings import REPO_ROOT
    from monitor.models import RawArticle
    from monitor.pipeline import Pipeline

    text = "KYIV, June 2 (Wire) -- North Korea delivered artillery shells to Russia last month, officials said."
    alerts = Pipeline.from_rules_dir(REPO_ROOT / "rules").process(RawArticle(id="a1", source="wire", content=text), T0).alerts
    (arms,) = [a for a in alerts if a.rule_id == "arms-transfer-reported"]
    assert arms.title == "Arms transfer reported: North Korea to Russia"
