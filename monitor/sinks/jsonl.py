"""JSONL file sink: one alert per line, rotated by size.

Each line is flushed and fsynced before the offset is committed, so a
committed alert is on disk even after a power cut (alerts are few; the fsync
is cheap at that rate). Rotation works like logging's RotatingFileHandler:
``alerts.jsonl`` -> ``alerts.jsonl.1`` -> ... -> ``alerts.jsonl.<keep>``, the
oldest dropped, with the file fsynced before and the directory after the
renames. A restart appends; a half-written last line left by a crash is closed
with a newline so the next alert starts on a line of its own. Delivery is
at-least-once: after a crash the last alerts may appear twice.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import BinaryIO

from monitor.models import Alert
from monitor.settings.sinks import JsonlSinkConfig
from monitor.sinks.base import Sink


class RotatingJsonl:
    """The file itself (blocking I/O; the sink calls it from a thread)."""

    def __init__(self, path: Path, max_bytes: int, keep: int) -> None:
        self.path, self.max_bytes, self.keep = path, max_bytes, keep
        self._fh: BinaryIO | None = None
        self._size = 0

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("ab")
        self._size = self._fh.tell()
        if self._size and not self._ends_with_newline():
            self._fh.write(b"\n")  # a crash cut the last line short
            self._sync()
            self._size += 1

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"

    def write(self, line: bytes) -> None:
        if self._fh is None:
            self.open()
        data = line.rstrip(b"\r\n") + b"\n"
        if self._size and self._size + len(data) > self.max_bytes:
            self.rotate()
        assert self._fh is not None
        self._fh.write(data)
        self._sync()
        self._size += len(data)

    def rotate(self) -> None:
        self.close()
        if self.keep == 0:
            self.path.unlink(missing_ok=True)
        else:
            for n in range(self.keep - 1, 0, -1):
                older = self._numbered(n)
                if older.exists():
                    os.replace(older, self._numbered(n + 1))
            os.replace(self.path, self._numbered(1))
        self._sync_dir()
        self.open()

    def _numbered(self, n: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{n}")

    def _sync(self) -> None:
        assert self._fh is not None
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def _sync_dir(self) -> None:
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def close(self) -> None:
        if self._fh is not None:
            self._sync()
            self._fh.close()
            self._fh = None


class JsonlSink(Sink):
    config: JsonlSinkConfig

    def __init__(self, config: JsonlSinkConfig) -> None:
        super().__init__(config)
        self.file = RotatingJsonl(config.path, config.max_bytes, config.keep)

    async def open(self) -> None:
        await asyncio.to_thread(self.file.open)

    async def close(self) -> None:
        await asyncio.to_thread(self.file.close)

    async def deliver(self, alert: Alert, raw: bytes) -> None:
        line = raw if b"\n" not in raw.rstrip(b"\r\n") else json.dumps(json.loads(raw)).encode()
        await asyncio.to_thread(self.file.write, line)
