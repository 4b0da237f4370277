"""Copies are caught across partitions and workers: news.raw has several
partitions shared by two workers, and an original and its edited copy
arrive on different ones."""

from __future__ import annotations

import pytest

from monitor.settings import Settings, Topics
from monitor.kafka.admin import ensure_topics
from monitor.watch.files import read_articles
from tests.daemon import free_port, newsmon_env, poll, running
from tests.kafka_util import read_topic, send_raw
from tests.seeds import seed_path

pytestmark = pytest.mark.kafka


async def test_copy_on_another_partition_and_worker_is_caught(kafka_bootstrap, tmp_path):
    env = newsmon_env(kafka_bootstrap, tmp_path, NEWSMON_PARTITIONS="2")
    prefix = env["NEWSMON_TOPIC_PREFIX"]
    raw_topic = f"{prefix}news.raw"
    original, copy, other = (read_articles(seed_path(s), 10**6)[0] for s in ("002", "003", "000"))
    # as the workers will: news.raw with two partitions, before anything is sent
    await ensure_topics(Settings(bootstrap_servers=kafka_bootstrap, partitions=2, topics=Topics(prefix=prefix)))

    ports = [env["NEWSMON_HTTP_PORT"], str(free_port())]
    with running(["worker"], env | {"NEWSMON_WORKER_ID": "w1"}, tmp_path / "w1") as w1, \
            running(["worker"], env | {"NEWSMON_WORKER_ID": "w2", "NEWSMON_HTTP_PORT": ports[1]},
                    tmp_path / "w2") as w2:
        for port in ports:  # ready means: holds a partition of news.raw
            await poll(f"http://127.0.0.1:{port}/readyz", lambda status, body: status == 200, timeout=180)
        await send_raw(kafka_bootstrap, raw_topic, original, partition=0)
        await send_raw(kafka_bootstrap, raw_topic, other, partition=1)
        articles = await read_topic(kafka_bootstrap, f"{prefix}news.articles", until=lambda v: len(v) >= 2,
                                    timeout=180)
        await send_raw(kafka_bootstrap, raw_topic, copy, partition=1)
        dups = await read_topic(kafka_bootstrap, f"{prefix}news.duplicates", until=lambda v: len(v) >= 1,
                                timeout=120)
        logs = w1.logs()[-3000:] + "\n---\n" + w2.logs()[-3000:]

    assert {a["id"] for a in articles} == {original.id, other.id}, logs
    assert [(d["id"], d["duplicate_of"]) for d in dups] == [(copy.id, original.id)], logs
