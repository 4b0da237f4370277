"""A running worker sends poison messages to the dead-letter topic and keeps going."""

from __future__ import annotations

import json

import pytest
from aiokafka import AIOKafkaProducer

from monitor.models import RawArticle
from tests.daemon import newsmon_env, running
from tests.kafka_util import read_topic

pytestmark = pytest.mark.kafka


async def test_poison_messages_go_to_deadletter_and_stream_continues(kafka_bootstrap, tmp_path):
    env = newsmon_env(kafka_bootstrap, tmp_path)
    prefix = env["NEWSMON_TOPIC_PREFIX"]
    good = RawArticle(id="good-1", source="wire", content="LIMA, June 4 (Wire) -- The port reopened on Thursday.")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, max_request_size=8 * 1024 * 1024)
    await producer.start()
    try:
        raw_topic = f"{prefix}news.raw"
        await producer.send_and_wait(raw_topic, key=b"bad-json", value=b"{this is not json")
        await producer.send_and_wait(raw_topic, key=b"bad-schema", value=json.dumps({"id": 5, "content": []}).encode())
        await producer.send_and_wait(raw_topic, key=b"big", value=b"x" * (900 * 1024))
        await producer.send_and_wait(raw_topic, key=good.id.encode(), value=good.model_dump_json().encode())
    finally:
        await producer.stop()

    with running(["worker"], env, tmp_path / "worker") as worker:
        articles = await read_topic(kafka_bootstrap, f"{prefix}news.articles", until=lambda v: len(v) >= 1, timeout=90)
        dead = await read_topic(kafka_bootstrap, f"{prefix}news.deadletter", until=lambda v: len(v) >= 3, timeout=30)
        assert worker.proc.poll() is None, worker.logs()[-3000:]

    assert [a["id"] for a in articles] == ["good-1"]
    assert "port reopened" in articles[0]["text"]
    by_key = {d["key"]: d for d in dead}
    assert set(by_key) == {"bad-json", "bad-schema", "big"}
    assert "invalid RawArticle" in by_key["bad-json"]["reason"]
    assert by_key["big"]["payload_bytes"] == 900 * 1024
    assert len(by_key["big"]["payload_prefix"]) <= 64 * 1024
