"""SIGTERM in the middle of a stream: a clean exit, and after a restart every
article is there, with no alert created twice."""

from __future__ import annotations

import asyncio
import random
import signal

import pytest
from aiokafka import AIOKafkaProducer

from monitor.models import RawArticle
from tests.daemon import newsmon_env, running
from tests.kafka_util import read_topic

pytestmark = pytest.mark.kafka

WORDS = ("harbour council budget ferry strike wheat tariff election drought bridge vaccine court "
         "museum railway pension satellite festival refinery glacier senate orchestra cattle").split()
N = 300


def articles() -> list[RawArticle]:
    rng = random.Random(7)
    out = []
    for i in range(N):
        body = " ".join(rng.choice(WORDS) + str(rng.randint(0, 999)) for _ in range(80))
        lead = "SEOUL (Wire) -- Kim Jong Un crossed into Russia by train, officials said. " if i % 50 == 0 else ""
        out.append(RawArticle(id=f"s-{i:04d}", source=f"outlet-{i % 7}", content=f"{lead}Report {i}: {body}."))
    return out


async def test_sigterm_mid_stream_loses_nothing(kafka_bootstrap, tmp_path):
    env = newsmon_env(kafka_bootstrap, tmp_path)
    prefix = env["NEWSMON_TOPIC_PREFIX"]
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=20)
    await producer.start()
    try:
        for raw in articles():
            await producer.send(f"{prefix}news.raw", key=raw.id.encode(), value=raw.model_dump_json().encode())
        await producer.flush()
    finally:
        await producer.stop()

    with running(["worker"], env, tmp_path / "first") as worker:
        for _ in range(900):
            if worker.logs().count("article_processed") >= 40:
                break
            await asyncio.sleep(0.1)
        handled_before = worker.logs().count("article_processed")
        worker.proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(worker.proc.wait, 30)
    assert code == 0, worker.logs()[-2000:]
    assert 40 <= handled_before < N  # it really was stopped mid-stream

    with running(["worker"], env, tmp_path / "second"):
        out = await read_topic(kafka_bootstrap, f"{prefix}news.articles",
                               until=lambda v: len({a["id"] for a in v}) >= N, timeout=120)
        alerts = await read_topic(kafka_bootstrap, f"{prefix}news.alerts", timeout=10,
                                  until=lambda v: len({a["articles"][-1]["id"] for a in v}) >= N // 50)

    assert {a["id"] for a in out} == {f"s-{i:04d}" for i in range(N)}
    new_ids = [a["id"] for a in alerts if a["action"] == "new"]
    assert len(new_ids) == len(set(new_ids))
