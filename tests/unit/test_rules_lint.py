"""What a rule author sees for the stateful keys and the lint warnings:
clear messages, the right line, and warnings that never fail a check."""

from __future__ import annotations

import shutil
from datetime import date

from click.testing import CliRunner

from monitor.cli import main
from monitor.settings import REPO_ROOT
from monitor.rules.loader import load_ruleset
from monitor.rules.schema import json_schema
from tests.unit.test_rules_loader import ENTITIES, EVENTS, errors_for, write

RULE = """\
rules:
  - id: a
    title: t
    match: {entity: {any: [kim_jong_un]}}
"""


def only(errors: list, text: str):
    (err,) = [e for e in errors if text in e.message]
    return err


# ---------------------------------------------------------------- durations


def test_invalid_durations_say_what_a_duration_is_with_line_numbers(tmp_path):
    errors = errors_for(tmp_path, RULE + """\
    threshold: {count: 2, within: 6 hours}
    throttle:
      period: 4
""")
    words = only(errors, "invalid duration '6 hours'")
    assert words.suggestion == "write a whole number and a unit s, m, h or d, e.g. 30s, 15m, 6h, 7d"
    assert words.line == 5 and words.rule_id == "a"
    number = only(errors, "invalid duration 4")
    assert number.line == 7 and number.suggestion == "add a unit s, m, h or d, e.g. '4h'"


def test_zero_and_unknown_units_are_refused(tmp_path):
    errors = errors_for(tmp_path, RULE + "    spike: {window: 0m, baseline: 2w, ratio: 3}\n")
    assert "'0m': it must be longer than zero" in only(errors, "'0m'").message
    assert only(errors, "'2w'").line == 5


def test_valid_durations_load_and_keep_their_spelling(tmp_path):
    write(tmp_path, RULE + "    spike: {window: 90s, baseline: 7d, ratio: 3}\n    throttle: {period: 15m}\n")
    rule = load_ruleset(tmp_path, ENTITIES, EVENTS).rules[0].rule
    assert rule.spike.window.total_seconds() == 90 and rule.spike.baseline.days == 7
    assert rule.model_dump(mode="json")["throttle"]["period"] == "15m"


# ---------------------------------------------------------------- new keys


def test_unknown_keys_in_new_sections_get_suggestions(tmp_path):
    errors = errors_for(tmp_path, RULE + """\
    trottle: {period: 4h}
    threshold: {count: 2, within: 1h, distinct_source: 2}
    escalate: {at_corroboration: 3, too: critical}
""")
    top = only(errors, "unknown key 'trottle'")
    assert "'throttle'" in top.suggestion and top.line == 5
    nested = only(errors, "unknown key 'distinct_source'")
    assert "'distinct_sources'" in nested.suggestion and nested.line == 6
    assert "'to'" in only(errors, "unknown key 'too'").suggestion


def test_unknown_selector_suggests_the_closest(tmp_path):
    errors = errors_for(tmp_path, RULE + """\
    group_by:
      - source
      - event.destinaton
""")
    err = only(errors, "unknown selector 'event.destinaton'")
    assert "'event.destination'" in err.suggestion and err.line == 7


def test_conflicting_keys_point_at_the_second_one(tmp_path):
    errors = errors_for(tmp_path, RULE + """\
    novelty: {per: rule}
    group_by: [source]
""")
    err = only(errors, "novelty and group_by both set")
    assert err.line == 6 and "short for group_by" in err.suggestion

    errors = errors_for(tmp_path, RULE + """\
    threshold: {count: 2, within: 1h}
    new_term: {field: entity, within: 7d}
""")
    err = only(errors, "alternative triggers")
    assert "threshold and new_term" in err.message and err.line == 6


def test_impossible_settings_are_errors(tmp_path):
    high = RULE.replace("title: t", "title: t\n    severity: high")
    errors = errors_for(tmp_path, high + "    escalate: {at_corroboration: 3, to: medium}\n")
    err = only(errors, "escalate.to 'medium' is not above the rule's severity 'high'")
    assert err.suggestion == "use one of: critical" and err.line == 6
    errors = errors_for(tmp_path, RULE + "    threshold: {count: 2, distinct_sources: 3, within: 1h}\n")
    err = only(errors, "distinct_sources 3 is more than count 2: it could never fire")
    assert err.line == 5 and err.suggestion == "raise count to at least 3"
    rule_combined = errors_for(tmp_path, RULE + "    group_by: [rule, story]\n")
    assert "cannot be combined" in rule_combined[0].message


def test_inline_fire_tests_that_a_threshold_cannot_pass_are_explained(tmp_path):
    errors = errors_for(tmp_path, RULE + """\
    threshold: {count: 3, within: 1h}
    tests:
      fire: ["Kim Jong Un arrived."]
""")
    err = only(errors, "cannot reach threshold.count 3")
    assert err.line == 7 and "no_fire" in err.suggestion


# ---------------------------------------------------------------- lint warnings


def warnings_for(tmp_path, text: str, today: date | None = None) -> list:
    return load_ruleset(write(tmp_path, text), ENTITIES, EVENTS, today=today).warnings


def test_unused_lists_and_macros_are_warnings_with_their_line(tmp_path):
    warnings = warnings_for(tmp_path, """\
lists:
  leaders: [kim_jong_un]
  states: [country:RU]
macros:
  kim: {entity: {any: [leaders]}}
  spare: {entity: {any: [country:KP]}}
rules:
  - id: a
    title: t
    match: {macro: kim}
""")
    assert [(w.level, w.line, w.message) for w in warnings] == [
        ("warning", 3, "list 'states' is defined but no rule uses it"),
        ("warning", 6, "macro 'spare' is defined but no rule uses it"),
    ]


def test_lists_used_in_exceptions_and_event_arguments_count_as_used(tmp_path):
    warnings = warnings_for(tmp_path, """\
lists:
  leaders: [kim_jong_un]
  parody: [country:KP]
rules:
  - id: a
    title: t
    match: {event: {type: border_crossing, actor: leaders}}
    exceptions:
      - {name: x, reason: y, match: {entity: {none: [parody]}}}
""")
    assert warnings == []


def test_two_rules_with_the_same_match_warn_on_the_second(tmp_path):
    warnings = warnings_for(tmp_path, RULE + """\
  - id: b
    title: other title, same condition
    severity: critical
    match:
      entity:
        any: [kim_jong_un]
""")
    (warning,) = warnings
    assert warning.rule_id == "b" and warning.level == "warning" and warning.line == 8
    assert "same match condition as rule 'a' (rules.yaml:4)" in warning.message


def test_expired_exception_warns_at_its_until_line(tmp_path):
    text = RULE + """\
    exceptions:
      - name: old-parody
        reason: parody site, since closed
        until: 2026-02-28
        match: {source: [parody]}
"""
    (warning,) = warnings_for(tmp_path, text, today=date(2026, 3, 1))
    assert "expired exception 'old-parody'" in warning.message and "2026-02-28 has passed" in warning.message
    assert warning.line == 8 and warning.level == "warning" and warning.rule_id == "a"
    assert warnings_for(tmp_path, text, today=date(2026, 2, 28)) == []  # still valid on its last day


def test_rules_check_prints_warnings_and_still_passes(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(REPO_ROOT / "rules", rules)
    (rules / "extra.yaml").write_text(
        "lists:\n  unused_list: [person:kim-jong-un]\n"
        "rules:\n  - id: extra\n    title: t\n    match: {entity: {any: [person:kim-jong-un]}}\n"
        "    throttle: {period: 4h, digest: true}\n"
        "    exceptions:\n      - {name: gone, reason: r, until: 2020-01-01, match: {source: [x]}}\n"
    )
    result = CliRunner().invoke(main, ["rules", "check", str(rules)])
    assert result.exit_code == 0, result.output
    assert "extra.yaml:2:3: warning: list 'unused_list' is defined but no rule uses it" in result.output
    assert "expired exception 'gone'" in result.output
    assert "rule(s) OK" in result.output


def test_shipped_rules_have_no_warnings():
    result = CliRunner().invoke(main, ["rules", "check", str(REPO_ROOT / "rules")])
    assert result.exit_code == 0 and "warning" not in result.output


def test_json_schema_describes_the_stateful_keys():
    rule = json_schema()["$defs"]["Rule"]["properties"]
    assert {"group_by", "threshold", "spike", "new_term", "throttle", "escalate"} <= set(rule)
    threshold = json_schema()["$defs"]["Threshold"]["properties"]
    assert threshold["within"]["pattern"] == "^[0-9]+[smhd]$"
