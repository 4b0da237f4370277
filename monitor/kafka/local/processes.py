"""Processes and ports of the local broker: is a pid alive and ours, is a port free."""

from __future__ import annotations

import base64
import os
import socket
import uuid
from collections import deque
from pathlib import Path

from monitor.kafka.local.paths import HOST, LocalKafkaError


def _tail(path: Path, n: int = 40) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return list(deque(fh, maxlen=n))
    except OSError:
        return []


def _proc_state(pid: int) -> str | None:
    """Single-letter state from /proc/<pid>/stat, or None if no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    # "pid (comm) S ..." -- comm may contain spaces/parens, state follows the last ')'.
    try:
        return raw[raw.rindex(")") + 2]
    except (ValueError, IndexError):
        return None


def _pid_alive(pid: int) -> bool:
    state = _proc_state(pid)
    return state is not None and state not in ("Z", "X")


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return True
    return False


def _ports_free(port: int) -> bool:
    """``port`` and ``port + 1`` (broker + controller) are both free on 127.0.0.1."""
    if port + 1 > 65535:
        return False
    return not _port_in_use(port) and not _port_in_use(port + 1)


def pick_port(default: int, env: str | None = None) -> int:
    """``$env`` if set (used as is); else ``default`` if it and default+1 are free;
    else some free pair (p, p+1) chosen by the OS. For tests and side-by-side brokers."""
    if env and os.environ.get(env):
        return int(os.environ[env])
    if _ports_free(default):
        return default
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if _ports_free(port):
            return port
    raise LocalKafkaError("no free pair of ports on 127.0.0.1")


def _tcp_open(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def _new_cluster_id() -> str:
    """Same shape as Kafka's ``Uuid.randomUuid().toString()``: 22 chars of url-safe base64."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid
