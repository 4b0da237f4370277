"""Each article appears once on news.articles: neither the worker's start
(faust hands out messages, then seeks back to the committed offsets once the
rebalance settles: monitor/worker/app.py reseek_after_each_rebalance) nor a
clean restart sends an article the output topics already hold
(monitor/worker/replay.py)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from monitor.models import RawArticle
from tests.daemon import newsmon_env, running
from tests.kafka_util import read_topic, send_raw

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(400)]


def article(n: int) -> RawArticle:
    return RawArticle(id=f"early-{n}", source=f"wire-{n}",
                      content=f"TOWN {n} (Wire) -- Council number {n} approved budget line {n * 7} for "
                              f"the {n}th bridge on Monday, officials in district {n * 3} said.")


async def test_articles_arriving_in_the_first_seconds_appear_once(kafka_bootstrap, tmp_path):
    env = newsmon_env(kafka_bootstrap, tmp_path)
    prefix = env["NEWSMON_TOPIC_PREFIX"]
    raw, articles = f"{prefix}news.raw", f"{prefix}news.articles"
    batch = [article(n) for n in range(12)]
    await send_raw(kafka_bootstrap, raw, *batch[:4])  # waiting when the worker starts
    with running(["worker"], env, tmp_path / "first"):
        for i in range(4, 12, 2):  # and more during its first seconds
            await asyncio.sleep(1.5)
            await send_raw(kafka_bootstrap, raw, *batch[i:i + 2])
        first = await read_topic(kafka_bootstrap, articles, until=lambda v: len({a["id"] for a in v}) >= 12,
                                 timeout=180, settle=15)
    # a clean restart, with two more articles waiting
    await send_raw(kafka_bootstrap, raw, article(12), article(13))
    with running(["worker"], env, tmp_path / "second") as worker:
        after = await read_topic(kafka_bootstrap, articles, until=lambda v: len({a["id"] for a in v}) >= 14,
                                 timeout=180, settle=15)
        logs = worker.logs()
    counts = Counter(a["id"] for a in first)
    assert set(counts) == {a.id for a in batch}
    assert max(counts.values()) == 1, f"repeats at start: {sorted(counts.items())}"
    counts = Counter(a["id"] for a in after)
    assert len(counts) == 14, logs[-3000:]
    assert max(counts.values()) == 1, f"repeats after a restart: {sorted(counts.items())}"
