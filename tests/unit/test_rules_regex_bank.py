"""The RegexBank (one FilteredRE2 scan for every regex of a ruleset) finds
exactly the patterns a plain re2 search finds, case options and non-ASCII
text included, and the engine's regex index skips rules without changing
any alert."""

from __future__ import annotations

import random

import re2

from monitor.rules.conditions import RegexBank
from monitor.rules.engine import RuleEngine
from monitor.rules.loader import LoadedRule, Ruleset
from monitor.rules.schema import RuleFile
from tests.unit.test_rules_engine import T0, article

PATTERNS = [
    r"\bdrones?\b", r"\b(?:coup|junta)\b", r"\bstate of emergency in [A-Z]\w+", r"\d{4,}",
    r"\bin the (?:19[5-9]0|19[6-9]\d)s\b", r"\b\d{4,} (?:people|workers) (?:were|had been) (?:killed|displaced)\b",
    r"Straße", r"STRASSE", r"\bΑθήνα\b", r"(?i)kelvin", r"^Breaking", r"(?s)start.*end", r"[Ss]anctions? on",
    r"x", r".", r"\bKyiv|Kiev\b", r"ﬁnance", r"[^\x00-\x7f]{3}", r"(?:a|b)(?:c|d)e{2,}",
]
WORDS = ["drone", "Drones", "DRONE", "coup", "junta", "state of emergency in Peru", "12000", "in the 1970s",
         "in the 1950s", "4000 workers were killed", "Straße", "STRASSE", "strasse", "Αθήνα", "ΑΘΉΝΑ", "KELVIN",
         "\u212aelvin", "Breaking", "start", "end", "sanctions on", "Sanction on", "Kyiv", "Kiev", "ﬁnance",
         "finance", "ace", "bdee", "adeee", "ſanctions on", "the", "news", "\n", "ÉCOLE", "école"]


def test_bank_matches_equal_plain_search():
    rng = random.Random(7)
    bank = RegexBank()
    plain = {}
    for p in PATTERNS:
        for cs in (False, True):
            options = re2.Options()
            options.case_sensitive = cs
            plain[bank.add(p, cs)] = re2.compile(p, options)
    assert bank.add(PATTERNS[0], False) == bank.add(PATTERNS[0], False)  # deduplicated
    bank.compile()
    for _ in range(400):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 12)))
        assert bank.matches(text) == {i for i, r in plain.items() if r.search(text)}, text


def test_regex_rules_indexed_alerts_unchanged():
    rng = random.Random(3)
    rules = []
    for i in range(60):
        text = {"regex": rng.sample(PATTERNS, rng.randint(1, 2)), "case_sensitive": rng.random() < 0.3}
        if rng.random() < 0.3:
            text["phrases"] = [rng.choice(WORDS).lower()]
        match = {"text": text} if rng.random() < 0.7 else {"not": {"text": text}}
        rules.append({"id": f"r{i}", "title": "t", "match": match})
    parsed = RuleFile.model_validate({"rules": rules})
    ruleset = Ruleset([LoadedRule(r, "x.yaml", None) for r in parsed.rules])
    indexed, brute = RuleEngine(ruleset, {}), RuleEngine(ruleset, {})
    brute._always, brute._index, brute._phrases = list(range(len(brute.compiled))), {}, None
    brute.regexes = RegexBank()  # no bank: every regex predicate searches on its own
    brute.compiled = [type(c)(c.rule, _plain(c.rule.match, ruleset), []) for c in brute.compiled]
    fired = 0
    for n in range(200):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 15)))
        art = article(f"a{n}", story=f"s{n}", text=text)
        ours = [(a.id, a.action, a.revision) for a in indexed.evaluate(art, T0)]
        assert ours == [(a.id, a.action, a.revision) for a in brute.evaluate(art, T0)]
        fired += len(ours)
    assert fired > 100
    assert not indexed._always or len(indexed._always) < len(indexed.compiled)


def _plain(cond, ruleset):
    from monitor.rules.conditions import compile_condition

    return compile_condition(cond, ruleset)
