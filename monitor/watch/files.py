"""Inbox watcher: publish files dropped into a directory to `news.raw`.

States of a file: it sits in the inbox until it is complete (its size and
mtime stop changing), is published and acknowledged by the broker, and is
then moved to `processed/`. A file that cannot be read as an article goes to
`rejected/` with a `<name>.reason` file beside it. Moving is the ledger: a
restarted watcher only sees what it has not finished.

For inboxes that must stay untouched (a shared folder, a mirror), ledger mode
leaves published files in place and appends `path + content hash` to a
ledger file instead; a file is published again only if its content changes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from charset_normalizer import from_bytes
from pydantic import ValidationError
from watchfiles import Change, awatch

from monitor.log import get_logger
from monitor.models import RawArticle, stable_id
from monitor.watch.publishes import Publishes

log = get_logger(__name__)

ACCEPTED_SUFFIXES = {".txt": "text", ".md": "markdown", ".html": "html", ".htm": "html", ".json": None, ".jsonl": None}
STATE_DIRS = ("processed", "rejected")
_TEMP_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp", ".swx", "~")


class RejectedFile(Exception):
    """The file can never become an article; the message says why."""


def is_candidate(path: Path, root: Path) -> bool:
    """Complete, visible article files inside `root`, never via a symlink."""
    name = path.name
    if name.startswith((".", "#", "~")) or name.endswith(_TEMP_SUFFIXES):
        return False
    if path.suffix.lower() not in ACCEPTED_SUFFIXES:
        return False
    try:
        rel = path.relative_to(root)
    except ValueError:
        return False
    if rel.parts and rel.parts[0] in STATE_DIRS:
        return False
    if path.is_symlink() or any(p.is_symlink() for p in path.parents if root in p.parents):
        return False
    return path.is_file()


def decode(data: bytes) -> str:
    """UTF-8 first, then charset detection; binary data is rejected."""
    if b"\x00" in data[:8192]:
        raise RejectedFile("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        best = from_bytes(data).best()
        if best is None:
            raise RejectedFile("undecodable text: not UTF-8 and no charset detected") from None
        return str(best)


def read_articles(path: Path, max_bytes: int, source: str = "inbox") -> list[RawArticle]:
    """Turn one file into raw articles (several for .jsonl)."""
    size = path.stat().st_size
    if size > max_bytes:
        raise RejectedFile(f"file is {size} bytes, over the limit of {max_bytes}")
    if size == 0:
        raise RejectedFile("empty file")
    with path.open("rb") as fh:
        data = fh.read(max_bytes + 1)
    text = decode(data)
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonl"):
        lines = [text] if suffix == ".json" else [ln for ln in text.splitlines() if ln.strip()]
        return [_from_json(line, path, n, source) for n, line in enumerate(lines, 1)]
    digest = hashlib.sha256(data).hexdigest()
    return [RawArticle(
        id=stable_id("file", digest), source=source, source_kind="file",
        content=text, content_type=ACCEPTED_SUFFIXES[suffix], path=path.name,
    )]


def _from_json(line: str, path: Path, number: int, source: str) -> RawArticle:
    """One JSON article: needs `content` (or `text`); `id` is derived if absent."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise RejectedFile(f"line {number}: invalid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise RejectedFile(f"line {number}: expected a JSON object")
    obj.setdefault("content", obj.pop("text", ""))
    obj.setdefault("source", source)
    obj.setdefault("source_kind", "file")
    obj.setdefault("path", path.name)
    obj.setdefault("id", stable_id("json", obj.get("url"), obj.get("guid"), obj.get("title"), obj["content"]))
    try:
        return RawArticle.model_validate(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise RejectedFile(f"line {number}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


class Ledger:
    """Published files, as JSON lines of {"path", "sha256"}: appended and fsynced
    after the broker acknowledged the file, so it never runs ahead of Kafka."""

    def __init__(self, path: Path):
        self.path = path
        self.seen: set[tuple[str, str]] = set()
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                    self.seen.add((entry["path"], entry["sha256"]))
                except (ValueError, KeyError, TypeError):
                    continue  # a torn last line after a crash: that file is simply redone

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self.seen

    def add(self, key: tuple[str, str]) -> None:
        self.add_many([key])

    def add_many(self, keys: list[tuple[str, str]]) -> None:
        """Append the keys with one fsync."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write("".join(json.dumps({"path": k[0], "sha256": k[1]}) + "\n" for k in keys))
            fh.flush()
            os.fsync(fh.fileno())
        self.seen.update(keys)


def _file_key(path: Path) -> tuple[str, str]:
    with path.open("rb") as fh:
        return str(path), hashlib.file_digest(fh, "sha256").hexdigest()


class InboxWatcher:
    """Settles and publishes the inbox in rounds, so one slow file holds up no other.

    A round stats every pending file, sleeps `settle_seconds` once and stats
    them again: a file whose size or mtime moved is still being written and
    waits for the next round. The files that held still are published in
    slices of at most `max_in_flight` files and `max_in_flight_bytes`: all
    their sends go out together (the producer batches them), and each file is
    moved (or entered in the ledger) only once the broker acknowledged every
    article in it."""

    def __init__(
        self, dirs: Iterable[Path], publisher: Publishes, topic: str,
        max_bytes: int = 10 * 1024 * 1024, settle_seconds: float = 0.3, ledger: Path | None = None,
        max_in_flight: int = 256, max_in_flight_bytes: int = 32 * 1024 * 1024,
    ):
        self.ledger = Ledger(ledger) if ledger is not None else None
        self.dirs = [Path(d).resolve() for d in dirs]
        self.publisher = publisher
        self.topic = topic
        self.max_bytes = max_bytes
        self.settle_seconds = settle_seconds
        self.max_in_flight = max_in_flight
        self.max_in_flight_bytes = max_in_flight_bytes
        self.stop_event = asyncio.Event()
        self.counts = {"published": 0, "rejected": 0}
        self.pending: set[Path] = set()
        self._wake = asyncio.Event()
        self._in_ledger: dict[Path, tuple[int, int]] = {}  # ledger mode: stat of files known to be done

    def _root_of(self, path: Path) -> Path | None:
        return next((d for d in self.dirs if d == path.parent or d in path.parents), None)

    def _add(self, paths: Iterable[Path]) -> None:
        self.pending.update(paths)
        if self.pending:
            self._wake.set()

    def _scan(self) -> list[Path]:
        """Every file under the inbox dirs except processed/ and rejected/."""
        found = []
        for d in self.dirs:
            for top, subdirs, files in os.walk(d):
                if Path(top) == d:
                    subdirs[:] = [s for s in subdirs if s not in STATE_DIRS]
                found += [Path(top) / f for f in files]
        return found

    async def run(self) -> None:
        for d in self.dirs:
            d.mkdir(parents=True, exist_ok=True)
        log.info("inbox_watching", dirs=[str(d) for d in self.dirs])
        self._add(self._scan())  # files that arrived while we were down
        drain = asyncio.create_task(self._drain())
        try:
            async for changes in awatch(*self.dirs, stop_event=self.stop_event, debounce=200, step=50):
                self._add(Path(name) for change, name in changes if change != Change.deleted)
        except asyncio.CancelledError:
            drain.cancel()  # shutdown: unacknowledged files stay in the inbox and are redone at start
            raise
        finally:
            self.stop_event.set()
            self._wake.set()
            await asyncio.gather(drain, return_exceptions=True)  # after stop(), the round under way finishes first

    async def _drain(self) -> None:
        while not self.stop_event.is_set():
            if not self.pending:
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                if await self._round() and not self.pending:
                    self._add(self._scan())  # a safety net, should the OS have dropped change events
            except Exception as exc:  # noqa: BLE001 -- e.g. an unwritable processed/: log it, keep watching
                log.error("inbox_round_failed", error=f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(max(1.0, self.settle_seconds))

    def _stat(self, path: Path) -> tuple[int, int] | None:
        """(size, mtime) of a candidate file, None if it is gone or not one."""
        root = self._root_of(path)
        if root is None or not is_candidate(path, root):
            return None
        try:
            st = path.stat()
        except OSError:
            return None
        if self._in_ledger.get(path) == (st.st_size, st.st_mtime_ns):
            return None
        return st.st_size, st.st_mtime_ns

    async def _round(self) -> int:
        """One settle round over the pending files; returns how many were published or rejected."""
        paths, self.pending = self.pending, set()
        before = {p: s for p in sorted(paths) if (s := self._stat(p)) is not None}
        if not before:
            return 0
        await asyncio.sleep(self.settle_seconds)
        settled = []
        for path, stat in before.items():
            now = self._stat(path)
            if now is None:
                continue
            if now != stat:  # still being written
                self.pending.add(path)
            else:
                settled.append((path, stat[0]))
        done = 0
        while settled:
            size, n = 0, 0
            while n < len(settled) and n < self.max_in_flight and (n == 0 or size + settled[n][1] <= self.max_in_flight_bytes):
                size += settled[n][1]
                n += 1
            batch, settled = settled[:n], settled[n:]
            results = await asyncio.gather(*(self._publish_file(path) for path, _ in batch))
            done += sum(1 for r in results if r is not False)
            keys = [r for r in results if isinstance(r, tuple)]
            if keys and self.ledger is not None:
                self.ledger.add_many(keys)  # after every file of the slice was acknowledged
        return done

    async def _publish_file(self, path: Path) -> tuple[str, str] | bool:
        """Publish one settled file; its ledger key (ledger mode), True when moved, False when skipped."""
        root = self._root_of(path)
        key = None
        if self.ledger is not None:
            try:
                st = path.stat()
                key = _file_key(path)
            except OSError:
                return False
            if key in self.ledger:
                self._in_ledger[path] = (st.st_size, st.st_mtime_ns)
                return False
        try:
            articles = read_articles(path, self.max_bytes)
        except RejectedFile as exc:
            self._move(path, root, "rejected", reason=str(exc))
            return True
        except FileNotFoundError:
            return False
        except OSError as exc:
            self._move(path, root, "rejected", reason=f"cannot read: {exc}")
            return True
        await asyncio.gather(*(self.publisher.publish(self.topic, a.id, a) for a in articles))
        self.counts["published"] += len(articles)
        log.info("inbox_published", file=path.name, articles=len(articles), ids=[a.id for a in articles][:5])
        if key is not None:
            self._in_ledger[path] = (st.st_size, st.st_mtime_ns)
            return key
        self._move(path, root, "processed")
        return True

    def _move(self, path: Path, root: Path, state: str, reason: str | None = None) -> None:
        target_dir = root / state
        target_dir.mkdir(exist_ok=True)
        target = target_dir / path.name
        if target.exists():
            target = target_dir / f"{path.stem}.{stable_id(str(path), str(path.stat().st_mtime_ns))[:8]}{path.suffix}"
        shutil.move(str(path), target)
        if reason is not None:
            self.counts["rejected"] += 1
            target.with_name(target.name + ".reason").write_text(reason + "\n", encoding="utf-8")
            log.warning("inbox_rejected", file=path.name, reason=reason)

    def stop(self) -> None:
        self.stop_event.set()
        self._wake.set()
