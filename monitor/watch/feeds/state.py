"""Per-feed state: health, conditional-GET validators and the ids already
published, kept in one small JSON file written atomically."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from monitor.log import get_logger
from monitor.models import utcnow
from monitor.watch.feeds.common import UNHEALTHY_AFTER, nonblank

log = get_logger(__name__)


class FeedHealth(BaseModel):
    """What an operator asks of a feed: is it working, and when is it next polled."""

    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_status: int | None = None
    next_poll: datetime | None = None
    items_seen: int = Field(default=0, description="new items published, ever")
    consecutive_failures: int = 0
    fetch_errors: int = Field(default=0, description="failed fetches, ever")

    @property
    def healthy(self) -> bool:
        return self.consecutive_failures < UNHEALTHY_AFTER


@dataclass
class FeedState:
    """Everything kept per feed between polls and across restarts."""

    url: str
    health: FeedHealth
    etag: str | None = None
    last_modified: str | None = None
    seen: dict[str, None] = field(default_factory=dict)  # insertion-ordered set, oldest first

    def touch(self, ids: Iterable[str], limit: int) -> None:
        """Mark ids as seen now; keep the `limit` most recent. Ids still in
        the feed are re-touched every poll, so only items that left the feed
        can be forgotten (unless the feed itself holds more than `limit`)."""
        for item_id in ids:
            self.seen.pop(item_id, None)
            self.seen[item_id] = None
        for old in list(self.seen)[: max(0, len(self.seen) - limit)]:
            del self.seen[old]

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "etag": self.etag, "last_modified": self.last_modified,
                "health": self.health.model_dump(mode="json"), "seen": list(self.seen)}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> FeedState:
        return cls(url=str(obj.get("url") or ""), health=FeedHealth.model_validate(obj.get("health") or {}),
                   etag=nonblank(obj.get("etag")), last_modified=nonblank(obj.get("last_modified")),
                   seen=dict.fromkeys(str(x) for x in obj.get("seen") or []))


STATE_FILE_NAME = "feeds-state.json"
STATE_VERSION = 1


def load_state(path: Path) -> dict[str, FeedState]:
    """Feed name -> state. An unreadable file is moved aside, not fatal:
    starting empty can only republish (downstream dedup), never lose."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return {str(name): FeedState.from_json(obj) for name, obj in doc["feeds"].items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        try:
            os.replace(path, aside)
        except OSError:
            aside = None
        log.error("feed_state_unreadable", path=str(path), error=repr(exc), moved_to=str(aside))
        return {}


def save_state(path: Path, states: dict[str, FeedState]) -> None:
    doc = {"version": STATE_VERSION, "saved_at": utcnow().isoformat(),
           "feeds": {name: st.to_json() for name, st in states.items()}}
    write_atomic(path, json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def write_atomic(path: Path, data: bytes) -> None:
    """Temp file in the same directory, fsync, rename: readers (and a
    restarted poller) see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable (POSIX)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass
