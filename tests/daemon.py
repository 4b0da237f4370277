"""Run newsmon commands as real processes in tests, and always clean them up."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Daemon:
    proc: subprocess.Popen
    log: Path
    out: Path

    def output(self) -> str:
        return self.out.read_text(errors="replace") if self.out.exists() else ""

    def logs(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def newsmon_env(bootstrap: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for one isolated daemon: its own topics, app id and inbox."""
    run_id = uuid.uuid4().hex[:8]
    env = dict(os.environ)
    env.update({
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "NEWSMON_TOPIC_PREFIX": f"t{run_id}.",
        "NEWSMON_APP_ID": f"newsmon-test-{run_id}",
        "NEWSMON_INBOX_DIRS": f'["{tmp_path / "inbox"}"]',
        "NEWSMON_DATA_DIR": str(tmp_path / "data"),
        "NEWSMON_LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
        "NEWSMON_HTTP_PORT": str(free_port()),
        "NEWSMON_DASHBOARD_PORT": str(free_port()),  # `newsmon run` serves the dashboard
    })
    env.update(extra)
    return env


@contextlib.contextmanager
def running(args: list[str], env: dict[str, str], workdir: Path) -> Iterator[Daemon]:
    workdir.mkdir(parents=True, exist_ok=True)
    log, out = workdir / f"{args[0]}.log", workdir / f"{args[0]}.out"
    with log.open("wb") as err_fh, out.open("wb") as out_fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", *args], env=env, cwd=workdir,
            stdout=out_fh, stderr=err_fh, start_new_session=True,
        )
        daemon = Daemon(proc, log, out)
        try:
            yield daemon
        finally:
            stop(proc)


def stop(proc: subprocess.Popen, grace: float = 20.0) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    return proc.returncode


async def wait_until(check, timeout: float, what: str, daemon: Daemon) -> None:
    """Poll `check()` until it holds; fail early, with the log tail, if the daemon exited."""
    for _ in range(int(timeout * 10)):
        if check():
            return
        if daemon.proc.poll() is not None:
            break
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} not seen; daemon log tail:\n{daemon.logs()[-4000:]}")


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as resp:
            return resp.status, await resp.text()


async def poll(url: str, check, timeout: float = 90) -> tuple[int, str]:
    """GET `url` until `check(status, body)` holds; fail with the last answer."""
    last = (0, "")
    for _ in range(int(timeout * 4)):
        try:
            last = await get(url)
            if check(*last):
                return last
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.25)
    raise AssertionError(f"{url}: last answer {last}")
