"""The inbox watcher against the real broker: what gets published, once."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import pytest

from monitor.watch.files import InboxWatcher
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
