"""Editing rules/ under a running worker: valid edits apply, broken ones are refused."""

from __future__ import annotations

import asyncio
import json
import shutil

import pytest

from monitor.settings import REPO_ROOT
from monitor.models import RawArticle
from tests.daemon import newsmon_env, running
from tests.kafka_util import read_topic, send_raw

pytestmark = pytest.mark.kafka

NEW_RULE = """\
rules:
  - id: harbour-festival
    title: Harbour festival news
    severity: info
    match: {text: {phrases: ["harbour lantern festival"]}}
"""


BODIES = [
    "Fishermen repainted their boats before the harbour lantern festival, which opens next week.",
    "Ticket sales for the harbour lantern festival doubled after the council cut prices for students.",
    "Rain delayed the final parade of the harbour lantern festival by two hours on Sunday evening.",
]


def article(n: int) -> RawArticle:
    """Three different reports (copies would rightly be caught by dedup)."""
    return RawArticle(id=f"fest-{n}", source=f"paper-{n}", content=f"PORTVILLE (Wire) -- {BODIES[n - 1]}")


async def wait_for_log(daemon, needle: str, count: int = 1, timeout: float = 60) -> None:
    for _ in range(int(timeout * 10)):
        if daemon.logs().count(needle) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{needle!r} not logged; tail:\n{daemon.logs()[-3000:]}")


async def test_valid_edit_applies_and_invalid_edit_keeps_previous_rules(kafka_bootstrap, tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(REPO_ROOT / "rules", rules)
    env = newsmon_env(kafka_bootstrap, tmp_path, NEWSMON_RULES_DIR=str(rules))
    prefix = env["NEWSMON_TOPIC_PREFIX"]

    async def send(n: int) -> None:
        await send_raw(kafka_bootstrap, f"{prefix}news.raw", article(n))

    def festival_alerts(values):
        return [v for v in values if v["rule_id"] == "harbour-festival"]

    with running(["worker"], env, tmp_path / "worker") as worker:
        await send(1)
        await read_topic(kafka_bootstrap, f"{prefix}news.articles", until=lambda v: len(v) >= 1, timeout=90)

        # an editor writes a temp file first, then moves it into place
        tmp = rules / ".festival.yaml.swp"
        tmp.write_text(NEW_RULE)
        tmp.rename(rules / "festival.yaml")
        await wait_for_log(worker, "rules_reloaded")
        reload_line = next(ln for ln in worker.logs().splitlines() if "rules_reloaded" in ln)
        assert json.loads(reload_line)["added"] == ["harbour-festival"]
        await send(2)
        alerts = await read_topic(kafka_bootstrap, f"{prefix}news.alerts",
                                  until=lambda v: len(festival_alerts(v)) >= 1, timeout=60)
        assert [a["articles"][-1]["id"] for a in festival_alerts(alerts)] == ["fest-2"]

        # a broken edit: refused with a precise error, the previous rules keep running
        (rules / "festival.yaml").write_text(NEW_RULE.replace("severity: info", "severity: loud"))
        await wait_for_log(worker, "rules_reload_failed")
        failed = json.loads(next(ln for ln in worker.logs().splitlines() if "rules_reload_failed" in ln))
        assert any("festival.yaml:4" in e and "severity" in e for e in failed["errors"])
        await send(3)
        alerts = await read_topic(kafka_bootstrap, f"{prefix}news.alerts",
                                  until=lambda v: len(festival_alerts(v)) >= 2, timeout=60)
        assert [a["action"] for a in festival_alerts(alerts)] == ["new", "new"]
        assert worker.proc.poll() is None
