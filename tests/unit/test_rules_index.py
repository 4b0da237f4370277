"""The rule index only skips rules that cannot match: indexed evaluation gives
exactly the alerts of checking every rule, and checks far fewer rules."""

from __future__ import annotations

import random

from monitor.rules.conditions import required_keys
from monitor.rules.engine import RuleEngine
from monitor.rules.loader import LoadedRule, Ruleset
from monitor.rules.schema import RuleFile
from tests.unit.test_rules_engine import T0, article, entity, event

PEOPLE = [(f"person:p{i}", "person", f"Person {i}") for i in range(12)]
COUNTRIES = [(f"country:C{i}", "country", f"Country {i}") for i in range(6)]
TYPES = ["border_crossing", "arms_transfer", "summit"]


def random_condition(rng: random.Random, depth: int = 0) -> dict:
    kinds = ["entity", "event", "text", "source"] + (["all", "any", "not"] if depth < 2 else [])
    kind = rng.choice(kinds)
    if kind == "entity":
        ids = [e[0] for e in rng.sample(PEOPLE + COUNTRIES, rng.randint(1, 3))]
        return {"entity": {rng.choice(["any", "all", "none"]): ids}}
    if kind == "event":
        spec = {"type": rng.sample(TYPES, rng.randint(1, 2)),
                "modality": rng.sample(["asserted", "planned", "speculative"], rng.randint(1, 2))}
        if rng.random() < 0.5:
            spec["actor"] = [rng.choice(PEOPLE)[0]]
        return {"event": spec}
    if kind == "text":
        pick = rng.choice(["phrases", "all_phrases", "regex"])
        words = rng.sample(["Harbour", "talks", "train", "left", "news"], 2)
        if pick == "regex":
            return {"text": {"regex": [rf"\b{words[0].lower()}\b"]}}
        return {"text": {pick: words, "case_sensitive": rng.random() < 0.3}}
    if kind == "source":
        return {"source": [rng.choice(["wire", "blog"])]}
    if kind == "not":
        return {"not": random_condition(rng, depth + 1)}
    return {kind: [random_condition(rng, depth + 1) for _ in range(rng.randint(1, 3))]}


def random_article(rng: random.Random, n: int):
    people = rng.sample(PEOPLE, rng.randint(0, 3))
    countries = rng.sample(COUNTRIES, rng.randint(0, 2))
    events = [event(etype=rng.choice(TYPES), modality=rng.choice(["asserted", "planned", "speculative"]),
                    actor=(rng.choice(PEOPLE)[0],), destination=(rng.choice(COUNTRIES)[0],))
              for _ in range(rng.randint(0, 2))]
    return article(f"a{n}", story=f"s{n % 7}", source=rng.choice(["wire", "blog"]),
                   text=rng.choice(["harbour news", "talks resumed", "the train left"]),
                   entities=[entity(e) for e in people + countries], events=events)


def engines(seed: int) -> tuple[RuleEngine, RuleEngine]:
    rng = random.Random(seed)
    rules = [{"id": f"r{i}", "title": "t", "match": random_condition(rng)} for i in range(120)]
    parsed = RuleFile.model_validate({"rules": rules})
    ruleset = Ruleset([LoadedRule(r, "x.yaml", None) for r in parsed.rules])
    indexed, brute = RuleEngine(ruleset, {}), RuleEngine(ruleset, {})
    brute._always, brute._index = list(range(len(brute.compiled))), {}
    return indexed, brute


def test_indexed_evaluation_equals_checking_every_rule():
    for seed in range(5):
        indexed, brute = engines(seed)
        rng = random.Random(100 + seed)
        checked = fired = 0
        for n in range(150):
            art = random_article(rng, n)
            checked += len(indexed.candidates(art))
            ours = [(a.id, a.action, a.revision) for a in indexed.evaluate(art, T0)]
            assert ours == [(a.id, a.action, a.revision) for a in brute.evaluate(art, T0)]
            fired += len(ours)
        assert fired > 50  # the comparison is not between two empty lists
        assert checked < 150 * len(indexed.compiled)  # the index does skip rules


def test_required_keys_of_each_condition_kind():
    rules = RuleFile.model_validate({"lists": {"leaders": ["person:p1", "person:p2"]}, "rules": [
        {"id": "a", "title": "t", "match": {"entity": {"any": ["leaders"]}}},
        {"id": "b", "title": "t", "match": {"all": [{"text": {"phrases": ["x"]}}, {"event": {"type": ["summit", "sanctions"]}}]}},
        {"id": "c", "title": "t", "match": {"any": [{"event": {"type": "summit"}}, {"source": ["wire"]}]}},
        {"id": "d", "title": "t", "match": {"entity": {"none": ["person:p1"]}}},
        {"id": "e", "title": "t", "match": {"text": {"phrases": ["Harbour Lights", "quay"]}}},
        {"id": "f", "title": "t", "match": {"text": {"regex": ["quays?"]}}},
    ]})
    ruleset = Ruleset([LoadedRule(r, "x.yaml", None) for r in rules.rules], rules.lists)
    keys = [required_keys(r.match, ruleset) for r in rules.rules]
    assert keys == [frozenset({"person:p1", "person:p2"}), frozenset({"phrase:x"}), None, None,
                    frozenset({"phrase:harbour lights", "phrase:quay"}), None]
