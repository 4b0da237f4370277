"""`newsmon alerts tail` as a user starts it: before the broker is up (one
line, then a one-line error, or with --wait the alerts once it is), and with
--limit exact however many alerts the topic holds."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest
from aiokafka import AIOKafkaProducer

from monitor.models import Alert
from tests.daemon import REPO, free_port

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]


def tail_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "monitor.cli", "alerts", "tail", *args]


def env_for(bootstrap: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    env.update(KAFKA_BOOTSTRAP_SERVERS=bootstrap, NEWSMON_LOG_FORMAT="json")
    return env


async def publish_alerts(bootstrap: str, topic: str, n: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for i in range(n):
            a = Alert(id=f"a{i}", rule_id="r", rule_version="1", severity="high", title=f"alert {i}")
            await producer.send_and_wait(topic, key=a.id.encode(), value=a.model_dump_json().encode())
    finally:
        await producer.stop()


def test_without_a_broker_it_says_so_in_one_line_and_gives_up(tmp_path):
    bootstrap = f"127.0.0.1:{free_port()}"  # nothing listens there
    result = subprocess.run(tail_cmd("--wait-timeout", "5"), env=env_for(bootstrap), cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert "Traceback" not in result.stderr and "Unclosed" not in result.stderr, result.stderr
    assert len(lines) <= 2, result.stderr  # "waiting for Kafka at ..." and the error
    assert lines[0].startswith(f"newsmon alerts tail: waiting for Kafka at {bootstrap}"), result.stderr
    assert lines[-1].startswith(f"Error: no Kafka broker answered at {bootstrap} within 5 s"), result.stderr


async def test_with_wait_it_follows_the_broker_once_it_is_up(own_broker, tmp_path):
    own_broker.down(grace=10)
    proc = subprocess.Popen(tail_cmd("--wait", "--json", "--from-beginning", "--limit", "2"),
                            env=env_for(own_broker.bootstrap), cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        await asyncio.sleep(8)  # longer than a plain attempt takes: it is waiting
        assert proc.poll() is None
        own_broker.up(timeout=180)
        await publish_alerts(own_broker.bootstrap, "news.alerts", 3)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["a0", "a1"]
    assert "waiting for Kafka" in err and "until it answers" in err
    assert len(err.splitlines()) <= 3, err  # no reconnect flood while it was down


async def test_limit_is_exact(kafka_bootstrap, unique_name, tmp_path):
    topic = unique_name("alerts")
    await publish_alerts(kafka_bootstrap, topic, 44)
    result = subprocess.run(tail_cmd("--topic", topic, "--from-beginning", "--json", "--limit", "2"),
                            env=env_for(kafka_bootstrap), cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["a0", "a1"]
