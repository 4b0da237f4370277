"""Helpers for the fault tests: bulk sends, reading several topics at once, worker metrics."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterable

import aiohttp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from monitor.models import RawArticle


async def send_many(bootstrap: str, topic: str, raws: Iterable[RawArticle]) -> int:
    """Publish RawArticles keyed by id, pipelined, and wait for every ack."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                                linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(topic, key=r.id.encode(), value=r.model_dump_json().encode()) for r in raws]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return len(futures)


async def read_topics(bootstrap: str, topics: list[str], *, until: Callable[[dict[str, list[dict]]], bool],
                      timeout: float, settle: float = 0.0) -> dict[str, list[dict]]:
    """JSON values of each topic, from the beginning, until `until(values)` holds
    or `timeout` passes, then `settle` seconds more (to catch replays and extras)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                max_partition_fetch_bytes=8 * 1024 * 1024)
    await consumer.start()
    values: dict[str, list[dict]] = {t: [] for t in topics}
    deadline = time.monotonic() + timeout
    try:
        tps: list[TopicPartition] = []
        for topic in topics:
            while time.monotonic() < deadline:
                parts = consumer.partitions_for_topic(topic)
                if parts:
                    tps += [TopicPartition(topic, p) for p in parts]
                    break
                await consumer._client.force_metadata_update()
                await asyncio.sleep(0.3)
        if not tps:
            return values
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        settle_deadline = None
        while True:
            now = time.monotonic()
            if settle_deadline is None and (now > deadline or until(values)):
                settle_deadline = now + settle
            if settle_deadline is not None and now >= settle_deadline:
                break
            batches = await consumer.getmany(timeout_ms=200)
            for tp, records in batches.items():
                values[tp.topic].extend(json.loads(r.value) for r in records)
    finally:
        await consumer.stop()
    return values


_METRIC = re.compile(r'^newsmon_articles_total\{outcome="(\w+)"\} ([0-9.e+]+)$', re.MULTILINE)


async def articles_done(port: int | str) -> int:
    """Articles the worker at `port` has finished (its /metrics), 0 if it does not answer."""
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/metrics", timeout=aiohttp.ClientTimeout(total=5)) as r:
                text = await r.text()
    except (aiohttp.ClientError, TimeoutError):
        return 0
    return int(sum(float(v) for _, v in _METRIC.findall(text)))


async def wait_until(check, timeout: float, what: str, logs: Callable[[], str] | None = None,
                     interval: float = 0.25) -> None:
    """Wait (bounded) for a sync or async `check()`; fail with `what` and a log tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(interval)
    tail = logs()[-4000:] if logs else ""
    raise AssertionError(f"{what}: not reached within {timeout}s\n{tail}")
