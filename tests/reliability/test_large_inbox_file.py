"""An inbox file just under NEWSMON_MAX_FILE_BYTES (10 MB) goes through, and does not block the next one.

The size limits have to nest: inbox file (10 MB) < the watcher producer's
max_request_size and news.raw's max.message.bytes (64 MiB), and the worker's
NEWSMON_MAX_RAW_BYTES (16 MiB) above the JSON of any accepted file. Before they
did, a 9 MB file was refused by the producer ("MessageSizeTooLargeError: The
message is 8833382 bytes when serialized which is larger than the maximum
request size") and the watcher retried it forever, holding up every later file."""

from __future__ import annotations

import asyncio
import random
import string

import pytest

from monitor.watch.files import InboxWatcher
from monitor.kafka.producer import Publisher
from tests.daemon import newsmon_env, poll, running
from tests.kafka_util import read_topic
from tests.reliability.util import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]


def big_text(size: int) -> str:
    rng = random.Random(5)
    words = ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9))) for _ in range(4000)]
    paragraphs, total = [], 0
    while total < size:
        p = " ".join(rng.choice(words) for _ in range(80)).capitalize() + "."
        paragraphs.append(p)
        total += len(p) + 2
    return "OSLO (Wire) -- " + "\n\n".join(paragraphs)[:size - 20]


async def test_nine_megabyte_inbox_file_is_published_and_processed(kafka_bootstrap, tmp_path):
    env = newsmon_env(kafka_bootstrap, tmp_path)
    prefix = env["NEWSMON_TOPIC_PREFIX"]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "big.txt").write_text(big_text(9 * 1024 * 1024))
    (inbox / "small.txt").write_text("BERGEN (Wire) -- The ferry to the outer islands runs again after the storm.")

    with running(["worker"], env, tmp_path / "worker") as worker:
        await poll(f"http://127.0.0.1:{env['NEWSMON_HTTP_PORT']}/readyz", lambda s, _: s == 200, timeout=180)
        publisher = Publisher(kafka_bootstrap)
        await publisher.start()
        watcher = InboxWatcher([inbox], publisher, f"{prefix}news.raw", 10 * 1024 * 1024, settle_seconds=0.2)
        task = asyncio.create_task(watcher.run())
        processed = inbox / "processed"
        try:
            await wait_until(lambda: (processed / "big.txt").exists() and (processed / "small.txt").exists(),
                             120, "both files published")
        finally:
            watcher.stop()
            await asyncio.wait_for(task, 30)
            await publisher.stop()
        articles = await read_topic(kafka_bootstrap, f"{prefix}news.articles", until=lambda v: len(v) >= 2,
                                    timeout=120)
        logs = worker.logs()

    assert watcher.counts == {"published": 2, "rejected": 0}
    assert len(articles) == 2, logs[-3000:]
    assert "poison_message" not in logs
