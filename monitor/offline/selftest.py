"""Run the inline `tests:` of rules through the real offline pipeline.

Each sample goes through normalize, tag and the one rule under test with
fresh state, so a rule pack carries its own regression tests and
`newsmon rules check` fails when a rule stops doing what its author meant.
"""

from __future__ import annotations

from pathlib import Path

from monitor.enrich.tag import Tagger
from monitor.models import RawArticle, stable_id
from monitor.pipeline import Pipeline
from monitor.rules.loader import LoadedRule, RuleError, Ruleset
from monitor.watch.files import ACCEPTED_SUFFIXES, RejectedFile, read_articles

MAX_SAMPLE_BYTES = 1024 * 1024


def _samples(sample: str, rule_file: Path) -> list[RawArticle]:
    """A sample is inline text, or a path (relative to the rule file) to an article file."""
    candidate = sample.strip()
    if "\n" not in candidate and Path(candidate).suffix.lower() in ACCEPTED_SUFFIXES:
        return read_articles(rule_file.parent / candidate, MAX_SAMPLE_BYTES, source="rules-test")
    return [RawArticle(id=stable_id("rules-test", sample), source="rules-test", content=sample)]


def run_inline_tests(ruleset: Ruleset, tagger: Tagger) -> list[RuleError]:
    failures: list[RuleError] = []
    for loaded in ruleset.rules:
        single = Ruleset([loaded], ruleset.lists, ruleset.macros)
        cases = [(s, True) for s in loaded.rule.tests.fire] + [(s, False) for s in loaded.rule.tests.no_fire]
        for sample, should_fire in cases:
            failures.extend(_check(loaded, single, tagger, sample, should_fire))
    return failures


def _check(loaded: LoadedRule, single: Ruleset, tagger: Tagger, sample: str, should_fire: bool) -> list[RuleError]:
    rule = loaded.rule
    try:
        raws = _samples(sample, Path(loaded.file))
    except (RejectedFile, OSError) as exc:
        return [RuleError(loaded.file, loaded.line, None, f"test sample {sample!r}: {exc}", rule.id)]
    pipeline = Pipeline(tagger, single)
    fired = any(a.rule_id == rule.id for raw in raws for a in pipeline.process(raw).alerts)
    if fired == should_fire:
        return []
    expected = "to fire" if should_fire else "not to fire"
    preview = " ".join(sample.split())[:100]
    return [RuleError(loaded.file, loaded.line, None, f"inline test failed: expected {expected} on {preview!r}", rule.id)]
