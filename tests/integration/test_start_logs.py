"""What `newsmon run` prints while starting: a short log, no harmless-but-
alarming faust warning, then one plain line saying it is ready and where
everything is (monitor/log.py quiets third-party loggers at INFO)."""

from __future__ import annotations

import json

import pytest

from tests.daemon import newsmon_env, running, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]


@pytest.mark.parametrize("log_format", ["json", "console"])
async def test_run_says_ready_in_one_line_after_a_short_log(kafka_bootstrap, tmp_path, log_format):
    env = newsmon_env(kafka_bootstrap, tmp_path, NEWSMON_LOG_FORMAT=log_format)
    with running(["run"], env, tmp_path / "run") as daemon:
        await wait_until(lambda: "newsmon ready" in daemon.logs(), 240, "the ready line", daemon)
        # the sensor warning comes with the first rebalance, just before or after ready
        await wait_until(lambda: "source_partitions_reseeked" in daemon.logs(), 60, "the first reseek", daemon)
        logs = daemon.logs()
    lines = logs.splitlines()
    ready_at = next(i for i, line in enumerate(lines) if "newsmon ready" in line)
    before = lines[:ready_at]
    assert len(before) < 25, "\n".join(before)
    assert "Missing sensor state" not in logs
    assert "change detected" not in logs
    ready = lines[ready_at]
    if log_format == "json":
        ready = json.loads(ready)["event"]
    for part in (f"broker {kafka_bootstrap}", f"inbox {tmp_path / 'inbox'}", "rules ", "feeds ",
                 f"http://127.0.0.1:{env['NEWSMON_HTTP_PORT']}/metrics",
                 f"dashboard http://127.0.0.1:{env['NEWSMON_DASHBOARD_PORT']}/"):
        assert part in ready, ready
