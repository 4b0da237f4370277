"""In the running worker: alerts resolve on their own once quiet, and a
silence published with the CLI holds an alert back."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from monitor.settings import REPO_ROOT
from monitor.models import RawArticle
from tests.daemon import newsmon_env, running
from tests.kafka_util import read_topic, send_raw

pytestmark = pytest.mark.kafka

CROSSING = ("SEOUL, May 3 (Wire) -- North Korean leader Kim Jong Un crossed into Russia by train on "
            "Tuesday, officials said. {extra}")
SUMMIT = ("VLADIVOSTOK (Wire) -- Vladimir Putin and Kim Jong Un held talks at a naval base on Friday, "
          "officials said, and discussed fishing rights.")


def rules_with_resolve_after(tmp_path, duration: str):
    rules = tmp_path / "rules"
    shutil.copytree(REPO_ROOT / "rules", rules)
    pack = rules / "leaders.yaml"
    text = pack.read_text()
    anchor = "  - id: leader-border-crossing\n"
    assert anchor in text
    pack.write_text(text.replace(anchor, anchor + f"    resolve_after: {duration}\n", 1))
    return rules


async def test_quiet_alert_resolves_without_new_articles(kafka_bootstrap, tmp_path):
    rules = rules_with_resolve_after(tmp_path, "3s")
    env = newsmon_env(kafka_bootstrap, tmp_path, NEWSMON_RULES_DIR=str(rules), NEWSMON_SWEEP_INTERVAL="1")
    prefix = env["NEWSMON_TOPIC_PREFIX"]
    with running(["worker"], env, tmp_path / "worker") as worker:
        await send_raw(kafka_bootstrap, f"{prefix}news.raw", RawArticle(
            id="cross-1", source="wire-a", content=CROSSING.format(extra="The visit was unannounced.")))
        alerts = await read_topic(kafka_bootstrap, f"{prefix}news.alerts", timeout=120,
                                  until=lambda v: any(a["action"] == "resolved" for a in v))
        logs = worker.logs()

    crossing = [a for a in alerts if a["rule_id"] == "leader-border-crossing"]
    assert [a["action"] for a in crossing] == ["new", "resolved"], logs[-3000:]
    assert crossing[1]["id"] == crossing[0]["id"]
    assert crossing[1]["revision"] == crossing[0]["revision"] + 1


async def test_silence_from_the_cli_holds_back_the_alert(kafka_bootstrap, tmp_path):
    env = newsmon_env(kafka_bootstrap, tmp_path)
    prefix = env["NEWSMON_TOPIC_PREFIX"]
    cli = [sys.executable, "-m", "monitor.cli"]
    subprocess.run([*cli, "alerts", "silence", "leader-border-crossing", "--for", "1h", "--reason", "test"],
                   env=env, check=True, capture_output=True, timeout=120)
    with running(["worker"], env, tmp_path / "worker") as worker:
        raw = f"{prefix}news.raw"
        await send_raw(kafka_bootstrap, raw, RawArticle(
            id="cross-1", source="wire-a", content=CROSSING.format(extra="The visit was unannounced.")))
        await send_raw(kafka_bootstrap, raw, RawArticle(id="summit-1", source="wire-b", content=SUMMIT))
        alerts = await read_topic(kafka_bootstrap, f"{prefix}news.alerts", timeout=120,
                                  until=lambda v: any(a["rule_id"] == "leaders-summit" for a in v))
        articles = await read_topic(kafka_bootstrap, f"{prefix}news.articles", timeout=60,
                                    until=lambda v: len(v) >= 2)
        logs = worker.logs()

    assert {a["id"] for a in articles} == {"cross-1", "summit-1"}
    assert any(a["rule_id"] == "leaders-summit" for a in alerts), logs[-3000:]
    assert not [a for a in alerts if a["rule_id"] == "leader-border-crossing"]
