"""Who started the local broker, so that it stops with them.

The broker JVM runs in its own session (a Ctrl-C in the terminal must not
reach it before the worker has stopped), so it outlives a `newsmon run`
killed with SIGKILL. The run that starts it therefore records itself in
the data dir (`owner`: pid and kernel start time, which tells a dead pid
from a reused one). The next run finds the broker answering:

* owner recorded and dead: the broker was left by an earlier run; this run
  says so and adopts it (records itself, stops it on exit);
* owner alive, or no owner (`newsmon kafka up`, a developer's own): the
  broker belongs to someone else; it is used and left running.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

OWNER_FILE = "owner"


def _start_ticks(pid: int) -> int | None:
    """Field 22 of /proc/<pid>/stat (start time since boot), None if no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
        return int(raw[raw.rindex(")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class Owner:
    pid: int
    start: int | None

    def alive(self) -> bool:
        return self.start is not None and _start_ticks(self.pid) == self.start


def recorded_owner(data_dir: Path) -> Owner | None:
    """The process recorded as the broker's owner, or None if none is."""
    try:
        value = json.loads((data_dir / OWNER_FILE).read_text())
        return Owner(int(value["pid"]), value.get("start"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def claim(data_dir: Path, pid: int | None = None) -> None:
    """Record `pid` (default: this process) as the owner: the broker stops with it."""
    pid = os.getpid() if pid is None else pid
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / f"{OWNER_FILE}.tmp"
    tmp.write_text(json.dumps({"pid": pid, "start": _start_ticks(pid)}) + "\n")
    tmp.replace(data_dir / OWNER_FILE)


def release(data_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (data_dir / OWNER_FILE).unlink()
