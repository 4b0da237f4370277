"""Sinks as a user runs them: `newsmon sink run` from newsmon.yaml, and
`newsmon run` with configured sinks beside the worker."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap

import pytest

from monitor.models import Alert, RawArticle
from tests.daemon import REPO, newsmon_env, running, stop
from tests.kafka_util import read_topic, send_raw
from tests.sink_util import Receiver, until

pytestmark = pytest.mark.kafka


def newsmon(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monitor.cli", *args], env=env, capture_output=True,
                          text=True, timeout=60, cwd=REPO)


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def test_sink_run_delivers_the_configured_sinks_filtered_and_stops_on_sigterm(kafka_bootstrap, tmp_path):
    archive = tmp_path / "archive" / "alerts.jsonl"
    config = tmp_path / "newsmon.yaml"
    config.write_text(textwrap.dedent(f"""\
        sinks:
          - type: jsonl
            name: archive
            path: {archive}
            min_severity: high
            rules: [border]
        """))
    env = newsmon_env(kafka_bootstrap, tmp_path, NEWSMON_CONFIG=str(config))
    alerts_topic = f"{env['NEWSMON_TOPIC_PREFIX']}news.alerts"
    sent = [Alert(id=f"c-{n}", rule_id=rule, rule_version="1", severity=sev, title=f"alert {n}")
            for n, (rule, sev) in enumerate([("border", "high"), ("border", "low"), ("arms", "critical"),
                                             ("border", "critical")])]
    await send_raw(kafka_bootstrap, alerts_topic, *sent)

    with running(["sink", "run"], env, tmp_path / "sink") as sink:
        await until(lambda: len(lines(archive)) >= 2 or sink.proc.poll() is not None, "archive lines")
        assert [a["id"] for a in lines(archive)] == ["c-0", "c-3"], sink.logs()[-3000:]
        for _ in range(20):  # the commit follows the write closely
            status = newsmon(env, "sink", "status", "--check")
            if "lag 0" in status.stdout:
                break
        assert status.returncode == 0, status.stderr
        assert "archive  group newsmon-test-" in status.stdout and "1 member(s)" in status.stdout
        assert "lag 0 (p0 0)" in status.stdout
        assert stop(sink.proc) == 0
    assert '"sink_stopping"' in sink.logs()
    stopped = newsmon(env, "sink", "status", "--check")
    assert stopped.returncode == 1 and "not running: archive" in stopped.stderr


async def test_run_feeds_configured_sinks_and_a_stuck_webhook_holds_up_nothing(kafka_bootstrap, tmp_path):
    gate = asyncio.Event()
    archive = tmp_path / "alerts.jsonl"
    async with Receiver(gate=gate) as stuck:
        config = tmp_path / "newsmon.yaml"
        config.write_text(textwrap.dedent(f"""\
            sinks:
              - {{type: webhook, name: stuck, url: "{stuck.url}", secret_env: HOOK_SECRET, timeout: 300}}
              - {{type: jsonl, name: archive, path: "{archive}"}}
            """))
        env = newsmon_env(kafka_bootstrap, tmp_path, NEWSMON_CONFIG=str(config), HOOK_SECRET="k")
        prefix = env["NEWSMON_TOPIC_PREFIX"]
        with running(["run", "--quiet-alerts"], env, tmp_path / "run") as daemon:
            crossing = RawArticle(id="d-1", source="wire",
                                  content="SEOUL (Wire) -- Kim Jong Un crossed into Russia by train on Tuesday.")
            await send_raw(kafka_bootstrap, f"{prefix}news.raw", crossing)
            await until(lambda: len(lines(archive)) == 1 or daemon.proc.poll() is not None, "archived alert", 150)
            assert lines(archive)[0]["rule_id"] == "leader-border-crossing", daemon.logs()[-3000:]
            await until(lambda: len(stuck.arrived) == 1, "webhook reached")

            # the webhook receiver still holds its request; the worker goes on regardless
            later = RawArticle(id="d-2", source="wire", content="PARIS (Wire) -- The museum reopened its east wing.")
            await send_raw(kafka_bootstrap, f"{prefix}news.raw", later)
            articles = await read_topic(kafka_bootstrap, f"{prefix}news.articles",
                                        until=lambda v: {"d-1", "d-2"} <= {a["id"] for a in v})
            assert {"d-1", "d-2"} <= {a["id"] for a in articles}
            assert stuck.delivered() == []

            gate.set()
            await until(lambda: len(stuck.delivered()) == 1, "webhook delivery after release")
            assert stuck.delivered() == [lines(archive)[0]["id"]]
