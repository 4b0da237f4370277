"""The inbox watcher against the real broker: what gets published, once."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import pytest

from monitor.watch.files import InboxWatcher, read_articles
from monitor.kafka.producer import Publisher
from tests.kafka_util import read_topic

pytestmark = pytest.mark.kafka

BODY = "NAIROBI, May 2 (Wire) -- Heavy rain closed the main highway on {n}.\n\nCrews worked overnight.\n"


async def start_watcher(bootstrap: str, inbox: Path, topic: str) -> tuple[InboxWatcher, asyncio.Task, Publisher]:
    publisher = Publisher(bootstrap)
    await publisher.start()
    watcher = InboxWatcher([inbox], publisher, topic, max_bytes=64 * 1024, settle_seconds=0.3)
    task = asyncio.create_task(watcher.run())
    return watcher, task, publisher


async def stop_watcher(watcher, task, publisher) -> None:
    watcher.stop()
    await asyncio.wait_for(task, 10)
    await publisher.stop()


async def wait_for(predicate, timeout=20.0) -> None:
    for _ in range(int(timeout / 0.1)):
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached in time")


async def test_inbox_publishes_each_file_once_and_survives_restart(kafka_bootstrap, tmp_path):
    topic = f"t-{uuid.uuid4().hex[:8]}.news.raw"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "early.txt").write_text(BODY.format(n="Monday"))  # present before start-up

    watcher, task, publisher = await start_watcher(kafka_bootstrap, inbox, topic)
    await wait_for(lambda: (inbox / "processed" / "early.txt").exists())

    # a slow writer: the first half, a pause, then the rest
    slow = inbox / "slow.txt"
    with slow.open("w") as fh:
        fh.write(BODY.format(n="Tuesday")[:30])
        fh.flush()
        await asyncio.sleep(0.15)
        fh.write(BODY.format(n="Tuesday")[30:])
    (inbox / "binary.txt").write_bytes(b"\x00\x01\x02 not text")
    (inbox / "big.txt").write_text("x" * (65 * 1024))
    os.symlink("/etc/passwd", inbox / "passwd.txt")
    (inbox / ".hidden.txt").write_text(BODY.format(n="hidden"))

    await wait_for(lambda: (inbox / "processed" / "slow.txt").exists() and (inbox / "rejected" / "big.txt").exists()
                   and (inbox / "rejected" / "binary.txt").exists())
    await stop_watcher(watcher, task, publisher)

    assert "binary" in (inbox / "rejected" / "binary.txt.reason").read_text()
    assert "over the limit" in (inbox / "rejected" / "big.txt.reason").read_text()
    assert (inbox / "passwd.txt").is_symlink()  # left alone, never read

    # restart: nothing already published is published again
    watcher, task, publisher = await start_watcher(kafka_bootstrap, inbox, topic)
    (inbox / "late.txt").write_text(BODY.format(n="Wednesday"))
    await wait_for(lambda: (inbox / "processed" / "late.txt").exists())
    await stop_watcher(watcher, task, publisher)

    values = await read_topic(kafka_bootstrap, topic, until=lambda v: len(v) >= 3, timeout=30, settle=1.0)
    bodies = sorted(v["content"] for v in values)
    assert bodies == sorted(BODY.format(n=d) for d in ("Monday", "Tuesday", "Wednesday"))
    assert all(v["source"] == "inbox" and v["source_kind"] == "file" for v in values)


async def test_ledger_mode_leaves_files_and_publishes_each_content_once(kafka_bootstrap, tmp_path):
    topic = f"t-{uuid.uuid4().hex[:8]}.news.raw"
    inbox, ledger = tmp_path / "inbox", tmp_path / "data" / "inbox-ledger.jsonl"
    inbox.mkdir()
    story = inbox / "story.txt"
    story.write_text(BODY.format(n="Thursday"))

    async def run_once(seconds: float = 2.0) -> None:
        publisher = Publisher(kafka_bootstrap)
        await publisher.start()
        watcher = InboxWatcher([inbox], publisher, topic, settle_seconds=0.2, ledger=ledger)
        task = asyncio.create_task(watcher.run())
        await asyncio.sleep(seconds)
        watcher.stop()
        await asyncio.wait_for(task, 10)
        await publisher.stop()

    await run_once()
    assert story.exists() and not (inbox / "processed").exists()  # left in place
    await run_once()  # restart: already in the ledger
    story.write_text(BODY.format(n="Friday"))  # new content under the same name
    await run_once()

    values = await read_topic(kafka_bootstrap, topic, until=lambda v: len(v) >= 2, timeout=30, settle=1.0)
    assert [v["content"] for v in values] == [BODY.format(n="Thursday"), BODY.format(n="Friday")]
    assert len(ledger.read_text().splitlines()) == 2


class AckRecordingPublisher(Publisher):
    """The real producer, remembering the keys the broker has acknowledged."""

    def __init__(self, bootstrap: str):
        super().__init__(bootstrap)
        self.acked: set[str] = set()

    async def publish(self, topic, key, message) -> None:
        await super().publish(topic, key, message)
        self.acked.add(key)


class MoveCheckingWatcher(InboxWatcher):
    """Notes every file moved to processed/ before all its articles were acknowledged."""

    moved_early: list[str]

    def _move(self, path, root, state, reason=None) -> None:
        if state == "processed":
            ids = [a.id for a in read_articles(path, self.max_bytes)]
            if not set(ids) <= self.publisher.acked:
                self.moved_early.append(path.name)
        super()._move(path, root, state, reason)


async def test_file_still_being_written_waits_and_nothing_moves_before_its_ack(kafka_bootstrap, tmp_path):
    topic = f"t-{uuid.uuid4().hex[:8]}.news.raw"
    inbox, processed = tmp_path / "inbox", tmp_path / "inbox" / "processed"
    inbox.mkdir()
    publisher = AckRecordingPublisher(kafka_bootstrap)
    await publisher.start()
    watcher = MoveCheckingWatcher([inbox], publisher, topic, max_bytes=64 * 1024, settle_seconds=0.3,
                                  max_in_flight=8)
    watcher.moved_early = []
    task = asyncio.create_task(watcher.run())
    lines = [f"Paragraph {n} of the slowly written report on the flooded highway.\n" for n in range(25)]
    try:
        slow = inbox / "slow.txt"
        with slow.open("w") as fh:  # one line every 0.1 s for 2.5 s, each pause shorter than the settle time
            for n, line in enumerate(lines):
                fh.write(line)
                fh.flush()
                if n == 5:  # complete files dropped meanwhile are not held up by the slow one
                    for k in range(30):
                        (inbox / f"burst-{k:02d}.txt").write_text(BODY.format(n=f"day {k}"))
                await asyncio.sleep(0.1)
                assert not (processed / "slow.txt").exists(), f"published after {n + 1} of {len(lines)} lines"
            burst_done = all((processed / f"burst-{k:02d}.txt").exists() for k in range(30))
        await wait_for(lambda: (processed / "slow.txt").exists())
    finally:
        await stop_watcher(watcher, task, publisher)

    assert burst_done, "the burst waited for the slow writer"
    assert watcher.moved_early == []
    values = await read_topic(kafka_bootstrap, topic, until=lambda v: len(v) >= 31, timeout=30, settle=1.0)
    slow_versions = [v["content"] for v in values if v["path"] == "slow.txt"]
    assert slow_versions == ["".join(lines)]  # once, complete
    assert len(values) == 31
