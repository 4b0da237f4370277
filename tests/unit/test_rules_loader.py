"""Rule files: what a rule author sees when a rule is right, and when it is wrong."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from monitor.rules.loader import RulesetError, load_ruleset
from monitor.rules.schema import json_schema

ENTITIES = {"kim_jong_un", "vladimir_putin", "country:RU", "country:KP"}
EVENTS = {"border_crossing", "arms_transfer", "summit"}


def write(tmp_path: Path, text: str, name: str = "rules.yaml") -> Path:
    (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def errors_for(tmp_path: Path, text: str) -> list:
    with pytest.raises(RulesetError) as info:
        load_ruleset(write(tmp_path, text), ENTITIES, EVENTS)
    return info.value.errors


GOOD = """\
lists:
  leaders: [kim_jong_un, vladimir_putin]
macros:
  crossing:
    event: {type: border_crossing, actor: leaders}
rules:
  - id: leader-crossing
    title: A watched leader crossed a border
    severity: high
    match:
      all:
        - macro: crossing
        - not: {text: {phrases: ["satire"]}}
"""


def test_valid_file_loads_with_lists_and_macros(tmp_path):
    ruleset = load_ruleset(write(tmp_path, GOOD), ENTITIES, EVENTS)
    assert [lr.rule.id for lr in ruleset.rules] == ["leader-crossing"]
    assert ruleset.lists["leaders"] == ["kim_jong_un", "vladimir_putin"]
    assert ruleset.rules[0].rule.severity == "high"


def test_invalid_yaml_names_line_and_column(tmp_path):
    (err,) = errors_for(tmp_path, "rules:\n  - id: a\n    title: [unclosed\n")
    assert err.file.endswith("rules.yaml")
    assert err.line is not None and err.line >= 3
    assert "invalid YAML" in err.message


def test_unknown_key_suggests_the_valid_one(tmp_path):
    (err,) = errors_for(tmp_path, """\
        rules:
          - id: a
            title: t
            severity: high
            match: {entity: {any: [kim_jong_un]}}
            descripton: typo here
        """)
    assert "unknown key 'descripton'" in err.message
    assert "description" in err.suggestion
    assert err.rule_id == "a"
    assert err.line == 6


def test_unknown_condition_suggests_entity(tmp_path):
    (err,) = errors_for(tmp_path, """\
        rules:
          - id: a
            title: t
            match: {entitiy: {any: [kim_jong_un]}}
        """)
    assert "unknown condition 'entitiy'" in err.message
    assert "'entity'" in err.suggestion
    assert err.line == 4


def test_unknown_key_inside_a_condition(tmp_path):
    (err,) = errors_for(tmp_path, """\
        rules:
          - id: a
            title: t
            match:
              entity:
                anyy: [kim_jong_un]
        """)
    assert "unknown key 'anyy'" in err.message
    assert "'any'" in err.suggestion
    assert err.line == 6


def test_wrong_type_is_reported_with_position(tmp_path):
    (err,) = errors_for(tmp_path, """\
        rules:
          - id: a
            title: t
            severity: urgent
            match: {entity: {any: [kim_jong_un]}}
        """)
    assert "severity" in err.message and "'high'" in err.message
    assert err.line == 4


def test_unknown_entity_id_suggests_closest(tmp_path):
    (err,) = errors_for(tmp_path, """\
        rules:
          - id: a
            title: t
            match: {entity: {any: [kim_jong_uun]}}
        """)
    assert "unknown entity id 'kim_jong_uun'" in err.message
    assert "kim_jong_un" in err.suggestion


def test_unknown_event_type_and_macro(tmp_path):
    errors = errors_for(tmp_path, """\
        rules:
          - id: a
            title: t
            match:
              all:
                - event: {type: border_crosing}
                - macro: nowhere
        """)
    messages = " | ".join(e.message for e in errors)
    assert "unknown event type 'border_crosing'" in messages
    assert "unknown macro 'nowhere'" in messages


def test_regex_that_re2_rejects(tmp_path):
    (err,) = errors_for(tmp_path, r"""
        rules:
          - id: a
            title: t
            match: {text: {regex: ['(kim)\s+\1']}}
        """)
    assert "not valid RE2" in err.message


def test_unsafe_yaml_tag_is_refused(tmp_path):
    (err,) = errors_for(tmp_path, """\
        rules:
          - id: a
            title: !!python/object:os.system {}
            match: {entity: {any: [kim_jong_un]}}
        """)
    assert "unsupported YAML tag" in err.message


def test_alias_bomb_is_refused_quickly(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        bomb += f"{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
    bomb += "rules: []\n"
    (err,) = errors_for(tmp_path, bomb)
    assert "alias bomb" in err.message


def test_duplicate_rule_ids_across_files(tmp_path):
    rule = "rules:\n  - id: same\n    title: t\n    match: {entity: {any: [kim_jong_un]}}\n"
    write(tmp_path, rule, "a.yaml")
    write(tmp_path, rule, "b.yaml")
    with pytest.raises(RulesetError) as info:
        load_ruleset(tmp_path, ENTITIES, EVENTS)
    assert any("duplicate rule id" in e.message for e in info.value.errors)


def test_all_errors_are_reported_in_one_run(tmp_path):
    write(tmp_path, "rules:\n  - id: a\n    title: t\n    match: {entity: {any: [nobody]}}\n", "a.yaml")
    write(tmp_path, "rules:\n  - id: b\n    title: t\n    severity: loud\n    match: {entity: {any: [kim_jong_un]}}\n", "b.yaml")
    with pytest.raises(RulesetError) as info:
        load_ruleset(tmp_path, ENTITIES, EVENTS)
    assert {e.rule_id for e in info.value.errors} == {"a", "b"}


def test_editor_litter_is_not_loaded(tmp_path):
    write(tmp_path, GOOD)
    write(tmp_path, "rules: [broken", ".rules.yaml.swp")
    write(tmp_path, "rules: [broken", "#rules.yaml#")
    ruleset = load_ruleset(tmp_path, ENTITIES, EVENTS)
    assert len(ruleset.rules) == 1


def test_json_schema_describes_rules():
    schema = json_schema()
    assert "rules" in schema["properties"]
    assert "Rule" in schema["$defs"]
