"""`newsmon rules test --input`: which rules fire on which articles, and why,
through the same pipeline as `newsmon scan` (stateful rules included)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import main
from monitor.settings import REPO_ROOT
from monitor.models import RawArticle
from monitor.pipeline import Pipeline
from monitor.offline.backtest import replay_article
from tests.texts import FIRST, SECOND, UNRELATED

RULES = """
rules:
  - id: kim-crossing
    title: Kim Jong Un crossed a border
    severity: high
    match:
      event: {type: border_crossing, actor: person:kim-jong-un}
    template:
      title: "{actors} crossed into {destinations}"
  - id: crossing-confirmed
    title: Crossing confirmed by two sources
    severity: critical
    match:
      event: {type: border_crossing, actor: person:kim-jong-un}
    group_by: [rule]
    threshold: {count: 2, distinct_sources: 2, within: 1d}
  - id: funicular-news
    title: Funiculars
    severity: info
    match:
      text: {phrases: [funicular]}
"""

def rules_dir(tmp_path: Path, rules: str = RULES) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(REPO_ROOT / "rules" / "watchlists", target / "watchlists")
    (target / "candidate.yaml").write_text(rules)
    return target


def articles(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    copy = FIRST.replace("regional officials said", "officials in the region said")  # an edited syndicated copy
    for name, text in [("first", FIRST), ("second", SECOND), ("unrelated", UNRELATED), ("copy", copy)]:
        paths[name] = tmp_path / f"{name}.txt"
        paths[name].write_text(text)
    return paths


def rules_test(*args: str):
    return CliRunner().invoke(main, ["rules", "test", *args])


def test_report_names_each_rule_its_articles_actions_and_evidence(tmp_path):
    rules, a = rules_dir(tmp_path), articles(tmp_path)
    result = rules_test(str(rules), "--input", str(a["first"]), str(a["second"]), str(a["unrelated"]), str(a["copy"]))
    assert result.exit_code == 0, result.output
    out = result.stdout

    kim, confirmed, funicular = (out[out.index(a):out.index(b)] for a, b in [
        ("kim-crossing", "crossing-confirmed"), ("crossing-confirmed", "funicular-news"), ("funicular-news", "article(s)")])
    assert kim.startswith("kim-crossing  [high]  1 alert(s), 2 emission(s)")
    assert 'new     rev 1  [high]' in kim and '"Kim Jong Un crossed into Russia"' in kim
    assert kim.index("first.txt") < kim.index("update  rev 2") < kim.index("second.txt")
    assert 'crossed into Russia by armoured train early on Thursday' in kim  # the evidence sentence
    # the threshold rule waits for a second source, then opens on the second report
    assert confirmed.startswith("crossing-confirmed  [critical]  1 alert(s), 1 emission(s)")
    assert "second.txt" in confirmed and "first.txt" not in confirmed
    assert funicular.startswith("funicular-news  [info]  would not fire")
    assert "4 article(s) (1 duplicate(s), which never fire); 2 of 3 rule(s) would fire" in out
    assert "copy.txt" not in out and "unrelated.txt" not in out


def test_json_report_follows_the_order_given(tmp_path):
    rules, a = rules_dir(tmp_path), articles(tmp_path)

    def firings(*paths: Path) -> dict[str, list[tuple[str, str]]]:
        result = rules_test(str(rules), "--json", "--input", *map(str, paths))
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["articles"] == len(paths)
        return {r["rule_id"]: [(Path(f["input"]).stem, f["action"]) for f in r["firings"]] for r in report["rules"]}

    assert firings(a["first"], a["second"])["kim-crossing"] == [("first", "new"), ("second", "update")]
    assert firings(a["second"], a["first"])["kim-crossing"] == [("second", "new"), ("first", "update")]

    result = rules_test(str(rules), "--json", "--input", str(a["first"]))
    (firing,) = next(r for r in json.loads(result.stdout)["rules"] if r["rule_id"] == "kim-crossing")["firings"]
    assert firing["severity"] == "high" and firing["alert_title"] == "Kim Jong Un crossed into Russia"
    assert {"event": "border_crossing", "modality": "asserted"}.items() <= firing["evidence"][0].items()
    assert "armoured train" in firing["evidence"][0]["sentence"]


def test_one_input_flag_per_file_works_too_and_unreadable_files_are_reported(tmp_path):
    rules, a = rules_dir(tmp_path), articles(tmp_path)
    result = rules_test(str(rules), "--input", str(a["first"]), "--input", str(tmp_path / "missing.txt"))
    assert result.exit_code == 0
    assert "missing.txt" in result.stderr and "kim-crossing  [high]  1 alert(s)" in result.stdout


def test_wrong_invocations_say_what_to_do(tmp_path):
    rules, a = rules_dir(tmp_path), articles(tmp_path)
    nothing = rules_test(str(rules))
    assert nothing.exit_code == 2 and "--input PATH... or --from-topic" in nothing.output
    no_flag = rules_test(str(rules), str(a["first"]))
    assert no_flag.exit_code == 2 and "after --input" in no_flag.output
    since_offline = rules_test("--input", str(a["first"]), "--since", "2h")
    assert since_offline.exit_code == 2 and "--from-topic only" in since_offline.output
    (rules / "bad.yaml").write_text("rules:\n  - id: x\n    title: t\n    match: {entity: {any: [person:nobody]}}\n")
    invalid = rules_test(str(rules), "--input", str(a["first"]))
    assert invalid.exit_code == 1 and "person:nobody" in invalid.output


def test_replay_tags_with_the_candidate_watchlists_and_keeps_the_daemons_story(tmp_path):
    """A backtest of a rule on a newly watched entity fires on history that
    the daemon tagged without it."""
    daemon = Pipeline.from_rules_dir(rules_dir(tmp_path / "daemon"))
    raw = RawArticle(id="r1", source="wire", content=UNRELATED)
    seen = daemon.process(raw).article
    assert not any(e.id == "org:riga-council" for e in seen.entities)

    candidate_dir = rules_dir(tmp_path / "candidate", """
rules:
  - id: council-watch
    title: Riga council in the news
    severity: low
    match: {entity: {any: [org:riga-council]}}
""")
    (candidate_dir / "watchlists" / "extra.yaml").write_text(
        "entities:\n  - id: org:riga-council\n    type: organization\n    name: Riga city council\n"
        "    aliases: [city council]\n")
    candidate = Pipeline.from_rules_dir(candidate_dir)
    at = datetime(2026, 4, 4, 9, 0, tzinfo=timezone.utc)
    result = replay_article(candidate, seen, at)
    (alert,) = result.alerts
    assert alert.rule_id == "council-watch" and alert.action == "new"
    assert result.article.story_id == seen.story_id and alert.story_id == seen.story_id
    assert alert.updated_at == at
