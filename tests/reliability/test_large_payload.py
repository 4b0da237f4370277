"""A 50 MB message on news.raw: dead-lettered with the reason, unparsed; the stream goes on.

Design (README, Reliability): news.raw is created with max.message.bytes = 64 MiB,
so the broker accepts an oversized article instead of refusing it (a refused
message would leave a watcher retrying forever); the worker dead-letters any raw
payload above NEWSMON_MAX_RAW_BYTES (default 16 MiB) before parsing it."""

from __future__ import annotations

import json

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from monitor.models import RawArticle
from monitor.kafka.admin import RAW_MAX_MESSAGE_BYTES, describe_topic_configs
from tests.daemon import newsmon_env, poll, running
from tests.kafka_util import read_topic

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]

HUGE = 50 * 1024 * 1024


def article(n: int) -> RawArticle:
    return RawArticle(id=f"after-{n}", source="wire",
                      content=f"LIMA, June {n} (Wire) -- Port workers number {n} ended their strike on day {n * 7}.")


async def test_50_mb_payload_goes_to_deadletter_and_stream_continues(kafka_bootstrap, tmp_path):
    env = newsmon_env(kafka_bootstrap, tmp_path)
    prefix = env["NEWSMON_TOPIC_PREFIX"]
    raw_topic = f"{prefix}news.raw"
    # a well-formed RawArticle, so only its size can be the reason
    huge = json.dumps({"id": "huge-1", "source": "wire", "content": "x" * HUGE}).encode()
    assert len(huge) > HUGE

    with running(["worker"], env, tmp_path / "worker") as worker:
        # ready = topics created by ensure_topics, with news.raw's size setting
        await poll(f"http://127.0.0.1:{env['NEWSMON_HTTP_PORT']}/readyz", lambda s, _b: s == 200, timeout=180)
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            configs = (await describe_topic_configs(admin, [raw_topic]))[raw_topic]
        finally:
            await admin.close()
        assert configs["max.message.bytes"] == str(RAW_MAX_MESSAGE_BYTES)

        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, max_request_size=RAW_MAX_MESSAGE_BYTES,
                                    request_timeout_ms=120_000)
        await producer.start()
        try:
            await producer.send_and_wait(raw_topic, key=b"before", value=article(1).model_dump_json().encode())
            await producer.send_and_wait(raw_topic, key=b"huge-1", value=huge)
            for n in (2, 3):
                await producer.send_and_wait(raw_topic, key=f"after-{n}".encode(),
                                             value=article(n).model_dump_json().encode())
        finally:
            await producer.stop()
        del huge

        articles = await read_topic(kafka_bootstrap, f"{prefix}news.articles", until=lambda v: len(v) >= 3,
                                    timeout=120)
        dead = await read_topic(kafka_bootstrap, f"{prefix}news.deadletter", until=lambda v: len(v) >= 1,
                                timeout=60)
        assert worker.proc.poll() is None, worker.logs()[-3000:]
        logs = worker.logs()

    assert sorted(a["id"] for a in articles) == ["after-1", "after-2", "after-3"], logs[-3000:]
    assert len(dead) == 1
    record = dead[0]
    assert record["key"] == "huge-1"
    assert record["reason"] == f"payload too large: {record['payload_bytes']} bytes > limit {16 * 1024 * 1024}"
    assert record["payload_bytes"] > HUGE
    assert len(record["payload_prefix"]) <= 64 * 1024
    assert "payload too large" in logs and "poison_message" in logs


async def test_article_over_one_megabyte_is_not_lost_on_its_way_through(kafka_bootstrap, tmp_path):
    """300,000 CJK characters: 1 MB raw, about 2 MB cleaned and tagged on news.prepared
    and news.articles. With the broker's default 1 MB limit on those topics the
    broker refused it and faust only logged "_on_published error ... MessageSizeTooLargeError":
    the article vanished without a trace (not processed, not dead-lettered)."""
    import random

    env = newsmon_env(kafka_bootstrap, tmp_path)
    prefix = env["NEWSMON_TOPIC_PREFIX"]
    rng = random.Random(3)
    paragraphs = ["".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(300)) + "。" for _ in range(1000)]
    big = RawArticle(id="cjk-big", source="wire", content="\n\n".join(paragraphs))
    with running(["worker"], env, tmp_path / "worker") as worker:
        await poll(f"http://127.0.0.1:{env['NEWSMON_HTTP_PORT']}/readyz", lambda s, _b: s == 200, timeout=180)
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, max_request_size=RAW_MAX_MESSAGE_BYTES)
        await producer.start()
        try:
            for raw in (big, article(4)):
                await producer.send_and_wait(f"{prefix}news.raw", key=raw.id.encode(), value=raw.model_dump_json().encode())
        finally:
            await producer.stop()
        articles = await read_topic(kafka_bootstrap, f"{prefix}news.articles", until=lambda v: len(v) >= 2,
                                    timeout=120)
        logs = worker.logs()
    assert sorted(a["id"] for a in articles) == ["after-4", "cjk-big"], logs[-3000:]
    assert "MessageSizeTooLargeError" not in logs
