"""The `name` selector: rules on open-vocabulary names (Article.names), watched
or not, matched on folded keys; and the `{names}` template field."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.models import RawArticle
from monitor.pipeline import Pipeline
from monitor.rules.loader import RulesetError
from monitor.settings import REPO_ROOT

WAGNER = ("KYIV, June 3 (Wire) -- The Wagner Group withdrew its fighters from Bakhmut on Saturday, "
          "Yevgeny Prigozhin said in a video.")
SCHOLZ = "BERLIN, June 3 (Wire) -- Chancellor Olaf Scholz met Emmanuel Macron in Paris on Monday."


def rules_dir(tmp_path: Path, rules: str) -> Path:
    """The shipped watchlists and events (which list neither Wagner nor Prigozhin), and `rules`."""
    directory = tmp_path / "rules"
    for sub in ("watchlists", "events"):
        if (REPO_ROOT / "rules" / sub).exists():
            shutil.copytree(REPO_ROOT / "rules" / sub, directory / sub)
    (directory / "names.yaml").write_text(textwrap.dedent(rules), encoding="utf-8")
    return directory


def alerts(directory: Path, *texts: str) -> list:
    pipeline = Pipeline.from_rules_dir(directory)
    out = []
    for i, text in enumerate(texts):
        out.extend(pipeline.process(RawArticle(id=f"a{i}", source="wire", content=text)).alerts)
    return out


WATCH_WAGNER = """\
rules:
  - id: wagner
    title: Wagner in the news
    match: {name: {any: ["WAGNER group", "Kim Jong-un"]}}
    template: {title: "Names: {names}"}
"""


def test_a_name_rule_fires_on_an_unwatched_name_matched_folded(tmp_path):
    [alert] = alerts(rules_dir(tmp_path, WATCH_WAGNER), WAGNER)
    assert alert.rule_id == "wagner"
    assert alert.title == "Names: Wagner Group, Yevgeny Prigozhin, Bakhmut"


def test_a_name_rule_does_not_fire_on_other_names(tmp_path):
    assert alerts(rules_dir(tmp_path, WATCH_WAGNER), SCHOLZ) == []


def test_name_all_none_and_shorthand_compose_with_other_conditions(tmp_path):
    directory = rules_dir(tmp_path, """\
        rules:
          - id: both
            title: Prigozhin on Wagner
            match: {name: {all: [Yevgeny Prigozhin, wagner group], none: [Bakhmut]}}
          - id: shorthand
            title: Scholz met someone
            match:
              all:
                - name: olaf scholz
                - not: {name: [Wagner Group]}
                - text: {phrases: [met]}
        """)
    assert [a.rule_id for a in alerts(directory, WAGNER)] == []  # Bakhmut is named
    assert [a.rule_id for a in alerts(directory, SCHOLZ)] == ["shorthand"]
    assert [a.rule_id for a in alerts(directory, WAGNER.replace("Bakhmut", "the front"))] == ["both"]


@pytest.mark.parametrize(("condition", "message"), [
    ("{name: {any: []}}", "a name condition needs at least one name"),
    ("{name: []}", "a name condition needs at least one name"),
    ("{name: {any: [Wagner Group, 42]}}", "a name is a string, got int 42"),
    ('{name: {any: ["--"]}}', "'--' is not a name"),
    ("{name: {anyy: [Wagner Group]}}", "unknown key 'anyy'"),
])
def test_a_bad_name_condition_is_an_error_at_its_line_and_column(tmp_path, condition, message):
    directory = rules_dir(tmp_path, f"""\
        rules:
          - id: ok
            title: fine
            match: {{entity: {{any: [person:kim-jong-un]}}}}
          - id: bad
            title: broken
            match: {condition}
        """)
    with pytest.raises(RulesetError) as info:
        Pipeline.from_rules_dir(directory)
    [error] = info.value.errors
    assert message in error.message
    assert error.file.endswith("names.yaml") and error.line == 7 and error.column is not None


def test_scan_prints_the_names_a_rule_can_select(tmp_path):
    (tmp_path / "wagner.txt").write_text(WAGNER, encoding="utf-8")
    result = CliRunner().invoke(main, ["scan", str(tmp_path / "wagner.txt")])
    record = json.loads(result.output)
    assert {"key": "wagner group", "name": "Wagner Group"}.items() <= record["names"][0].items()
