"""The local broker's lifetime is tied to the `newsmon run` that started it
(monitor/kafka/local/owner.py): after a `kill -9` of that run, the next run
adopts the broker it left and stops it on Ctrl-C, so no JVM is left behind;
a broker someone else started is used and left running."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time

import pytest

from monitor.kafka.local import LocalKafka, default_home, pick_port
from monitor.kafka.local.processes import _pid_alive
from tests.daemon import Daemon, newsmon_env, poll, running, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(600)]


def local_env(tmp_path, port: int) -> dict[str, str]:
    env = newsmon_env("unused", tmp_path)
    del env["KAFKA_BOOTSTRAP_SERVERS"]  # the embedded broker
    env.update(NEWSMON_KAFKA_PORT=str(port), NEWSMON_KAFKA_DATA_DIR=str(tmp_path / "kafka"),
               NEWSMON_KAFKA_HOME=str(default_home()))
    return env


async def wait_ready(daemon: Daemon, env: dict[str, str]) -> None:
    await poll(f"http://127.0.0.1:{env['NEWSMON_HTTP_PORT']}/readyz", lambda status, _body: status == 200, 300)


def interrupt(daemon: Daemon, timeout: float = 60) -> int:
    daemon.proc.send_signal(signal.SIGINT)  # Ctrl-C
    return daemon.proc.wait(timeout)


def gone(pid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return True
        time.sleep(0.2)
    return False


async def test_a_broker_left_by_a_killed_run_is_adopted_and_stopped(tmp_path):
    port = pick_port(29492)
    env = local_env(tmp_path, port)
    broker = LocalKafka(port=port, data_dir=tmp_path / "kafka")
    try:  # the sequence: run and Ctrl-C, kill -9 of a second run, a third run and Ctrl-C
        with running(["run"], env, tmp_path / "zeroth") as zeroth:
            await wait_ready(zeroth, env)
            jvm = broker.pid()
            assert interrupt(zeroth) == 0, zeroth.logs()[-3000:]
        assert jvm is not None and gone(jvm), f"Kafka JVM {jvm} still running after Ctrl-C"

        with running(["run"], env, tmp_path / "first") as first:
            await wait_ready(first, env)
            assert "starting local Kafka broker" in first.logs()
            jvm = broker.pid()
            os.kill(first.proc.pid, signal.SIGKILL)
            first.proc.wait(10)
        assert jvm is not None and _pid_alive(jvm)  # in its own session: the kill did not reach it

        with running(["run"], env, tmp_path / "second") as second:
            await wait_until(lambda: "adopting local Kafka broker left by an earlier run "
                             f"(pid {first.proc.pid})" in second.logs(), 120, "the adoption line", second)
            await wait_ready(second, env)
            assert interrupt(second) == 0, second.logs()[-3000:]
        assert gone(jvm), f"Kafka JVM {jvm} still running after Ctrl-C"
    finally:
        broker.down(grace=10)


async def test_a_broker_someone_else_started_is_used_and_left_running(tmp_path):
    port = pick_port(29592)
    env = local_env(tmp_path, port)
    broker = LocalKafka(port=port, data_dir=tmp_path / "kafka")
    broker.up(timeout=180)  # as `newsmon kafka up` does
    try:
        jvm = broker.pid()
        with running(["run"], env, tmp_path / "run") as daemon:
            await wait_ready(daemon, env)
            assert re.search(r"using the local Kafka broker already running .*keeps running", daemon.logs())
            assert interrupt(daemon) == 0, daemon.logs()[-3000:]
        await asyncio.sleep(2)
        assert _pid_alive(jvm) and broker.status().answering
    finally:
        broker.down(grace=10)
