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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"path": key[0], "sha256": key[1]}) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.seen.add(key)


def _file_key(path: Path) -> tuple[str, str]:
    with path.open("rb") as fh:
        return str(path), hashlib.file_digest(fh, "sha256").hexdigest()


class InboxWatcher:
    def __init__(
        self, dirs: Iterable[Path], publisher: Publishes, topic: str,
        max_bytes: int = 10 * 1024 * 1024, settle_seconds: float = 0.3, ledger: Path | None = None,
    ):
        self.ledger = Ledger(ledger) if ledger is not None else None
        self.dirs = [Path(d).resolve() for d in dirs]
        self.publisher = publisher
        self.topic = topic
        self.max_bytes = max_bytes
        self.settle_seconds = settle_seconds
        self.stop_event = asyncio.Event()
        self.counts = {"published": 0, "rejected": 0}

    def _root_of(self, path: Path) -> Path | None:
        return next((d for d in self.dirs if d == path.parent or d in path.parents), None)

    async def run(self) -> None:
        for d in self.dirs:
            d.mkdir(parents=True, exist_ok=True)
        log.info("inbox_watching", dirs=[str(d) for d in self.dirs])
        for d in self.dirs:  # files that arrived while we were down
            for path in sorted(d.rglob("*")):
                await self.handle(path)
        async for changes in awatch(*self.dirs, stop_event=self.stop_event, debounce=200, step=50):
            for change, name in sorted(changes, key=lambda c: c[1]):
                if change != Change.deleted:
                    await self.handle(Path(name))

    async def _settled(self, path: Path) -> bool:
        """True once size and mtime hold still: the writer has finished."""
        try:
            before = path.stat()
            await asyncio.sleep(self.settle_seconds)
            after = path.stat()
        except FileNotFoundError:
            return False
        return (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns)

    async def handle(self, path: Path) -> None:
        root = self._root_of(path)
        if root is None or not is_candidate(path, root):
            return
        while not await self._settled(path):
            if not path.exists():
                return
        key = None
        if self.ledger is not None:
            try:
                key = _file_key(path)
            except OSError:
                return
            if key in self.ledger:
                return
        try:
            articles = read_articles(path, self.max_bytes)
        except RejectedFile as exc:
            self._move(path, root, "rejected", reason=str(exc))
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            self._move(path, root, "rejected", reason=f"cannot read: {exc}")
            return
        for article in articles:
            await self.publisher.publish(self.topic, article.id, article)
        self.counts["published"] += len(articles)
        log.info("inbox_published", file=path.name, articles=len(articles), ids=[a.id for a in articles][:5])
        if self.ledger is not None:
            self.ledger.add(key)
        else:
            self._move(path, root, "processed")

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
