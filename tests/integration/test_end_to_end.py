"""The walking skeleton: a seed dropped into the inbox of a running daemon
becomes an alert on news.alerts, through the real broker."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.daemon import REPO, newsmon_env, running, wait_until
from tests.kafka_util import read_topic
from tests.seeds import seed_path

pytestmark = pytest.mark.kafka


async def test_seed_dropped_in_inbox_fires_border_crossing_alert(kafka_bootstrap, tmp_path):
    env = newsmon_env(kafka_bootstrap, tmp_path)
    prefix = env["NEWSMON_TOPIC_PREFIX"]
    inbox = tmp_path / "inbox"
    with running(["run"], env, tmp_path / "run") as daemon:
        await wait_until(lambda: "inbox_watching" in daemon.logs(), 120, "watcher start", daemon)
        shutil.copy(seed_path("000"), inbox / "000.txt")

        alerts = await read_topic(kafka_bootstrap, f"{prefix}news.alerts", until=lambda v: len(v) >= 1, timeout=90)
        assert alerts, f"no alert; daemon log tail:\n{daemon.logs()[-4000:]}"
        alert = alerts[0]
        assert alert["rule_id"] == "leader-border-crossing"
        assert alert["severity"] == "high"
        assert alert["action"] == "new" and alert["revision"] == 1
        assert alert["story_id"]
        assert any(e["id"] == "person:kim-jong-un" for e in alert["entities"])
        crossing = [e for e in alert["events"] if e["type"] == "border_crossing"]
        assert crossing and crossing[0]["modality"] == "asserted"
        assert "Russia" in crossing[0]["evidence"]["sentence"]

        articles = await read_topic(kafka_bootstrap, f"{prefix}news.articles", until=lambda v: len(v) >= 1, timeout=30)
        (article,) = articles
        assert article["id"] == alert["articles"][0]["id"]
        assert "Legal Disclaimer" not in article["text"]
        assert article["story_id"] == alert["story_id"]
        # tags travel on news.articles for every subscriber, with their evidence
        assert {"person:kim-jong-un", "country:RU", "country:KP"} <= {e["id"] for e in article["entities"]}
        kim = next(e for e in article["entities"] if e["id"] == "person:kim-jong-un")
        assert all(article["text"][m["start"]:m["end"]] == m["surface"] for m in kim["mentions"])
        assert {(e["type"], e["modality"]) for e in article["events"]} >= {("border_crossing", "asserted")}
        assert (inbox / "processed" / "000.txt").exists()

        # `newsmon run` prints alerts as they fire
        await wait_until(lambda: "leader-border-crossing" in daemon.output(), 30, "printed alert", daemon)

    # a separate subscriber sees the same alert, as JSON lines
    tail = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "alerts", "tail", "--from-beginning", "--json", "--limit", "1"],
        env=env, capture_output=True, text=True, timeout=60, cwd=REPO,
    )
    assert tail.returncode == 0, tail.stderr
    assert json.loads(tail.stdout.splitlines()[0])["id"] == alert["id"]
