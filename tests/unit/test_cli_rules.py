"""`newsmon rules check` and `newsmon rules schema`, as a rule author runs them."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

from monitor.cli import main
from monitor.settings import REPO_ROOT


def check(path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["rules", "check", str(path)])
    return result.exit_code, result.output


def rules_copy(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(REPO_ROOT / "rules", target)
    return target


def test_shipped_rules_and_their_inline_tests_pass():
    code, output = check(REPO_ROOT / "rules")
    assert code == 0, output
    assert "inline test(s) passed" in output


def test_invalid_rule_fails_with_file_and_line(tmp_path):
    rules = rules_copy(tmp_path)
    (rules / "bad.yaml").write_text(
        "rules:\n  - id: bad-rule\n    title: t\n    match:\n      entity: {any: [person:kim-jong-uun]}\n"
    )
    code, output = check(rules)
    assert code == 1
    assert "bad.yaml:5:22:" in output and "unknown entity id 'person:kim-jong-uun'" in output  # at the value
    assert "person:kim-jong-un" in output  # the suggestion


def test_failing_inline_test_fails_the_check(tmp_path):
    rules = rules_copy(tmp_path)
    (rules / "wrong.yaml").write_text(
        "rules:\n"
        "  - id: wrong-expectation\n"
        "    title: t\n"
        "    match: {entity: {any: [person:vladimir-putin]}}\n"
        "    tests:\n"
        "      fire: ['The harvest in Kansas was early this year.']\n"
    )
    code, output = check(rules)
    assert code == 1
    assert "wrong-expectation" in output and "expected to fire" in output


def test_rules_schema_is_json_schema():
    result = CliRunner().invoke(main, ["rules", "schema"])
    schema = json.loads(result.output)
    assert schema["type"] == "object" and "rules" in schema["properties"]


def test_every_kind_of_error_in_one_run_each_at_its_value(tmp_path):
    rules = rules_copy(tmp_path)
    (rules / "leaders.yaml").unlink()
    (rules / "bad.yaml").write_text(
        "rules:\n"
        "  - id: leader-summit\n"
        "    title: Leaders meet\n"
        "    severty: high\n"
        "    match:\n"
        "      event:\n"
        "        type: sumit\n"
        "        actor: [person:puttin]\n"
    )
    code, output = check(rules)
    assert code == 1
    lines = [line.split(str(rules / "bad.yaml") + ":", 1)[1] for line in output.splitlines() if "bad.yaml" in line]
    assert [line.split(": [rule")[0] for line in lines] == ["4:5", "7:15", "8:17"], output
    assert "unknown key 'severty'" in lines[0] and "'severity'" in lines[0]
    assert "unknown event type 'sumit'" in lines[1] and "'summit'" in lines[1]
    assert "unknown entity id 'person:puttin'" in lines[2] and "person:vladimir-putin" in lines[2]
    assert "3 error(s)" in output
