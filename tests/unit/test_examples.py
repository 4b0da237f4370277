"""The sample articles under examples/ do what examples/README.md and the quick
start promise: a new alert, an update from another outlet, a silent copy, and a
different event of the same leader in a story of its own."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_examples_give_new_update_copy_and_a_separate_story():
    files = sorted(EXAMPLES.glob("*.txt"))
    assert [f.name[:2] for f in files] == ["01", "02", "03", "04"]
    result = CliRunner().invoke(main, ["scan", *map(str, files)])
    assert result.exit_code == 0, result.output
    first, other_outlet, copy, other_event = (json.loads(line) for line in result.output.splitlines())

    def crossing(record):
        return [a for a in record["alerts"] if a["rule_id"] == "leader-border-crossing"]

    assert [a["action"] for a in crossing(first)] == ["new"]
    assert [a["action"] for a in crossing(other_outlet)] == ["update"]
    assert crossing(other_outlet)[0]["alert_id"] == crossing(first)[0]["alert_id"]
    assert other_outlet["story_id"] == first["story_id"]

    assert copy["duplicate_of"] == first["id"] and copy["alerts"] == []

    assert other_event["story_id"] != first["story_id"]
    assert [a["action"] for a in crossing(other_event)] == ["new"]
    assert crossing(other_event)[0]["alert_id"] != crossing(first)[0]["alert_id"]
