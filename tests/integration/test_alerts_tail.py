"""`alerts tail` filters, against alerts on a real topic."""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid

import pytest
from aiokafka import AIOKafkaProducer

from monitor.models import Alert, EntityTag
from monitor.durations import parse_min_severity
from monitor.durations import parse_seconds as parse_duration
from monitor.alerts.filter import alert_filter
from monitor.alerts.tail import tail

pytestmark = pytest.mark.kafka


def alert(aid: str, rule: str, severity: str, entity: str) -> Alert:
    return Alert(id=aid, rule_id=rule, rule_version="1", severity=severity, title=f"{rule} {aid}",
                 entities=[EntityTag(id=entity, type="person", name=entity)])


async def collect(bootstrap: str, topic: str, seconds: float = 3.0, **kwargs) -> list[str]:
    out, stop = io.StringIO(), asyncio.Event()  # read for `seconds`, then stop
    task = asyncio.create_task(tail(bootstrap, topic, as_json=True, out=out, stop=stop, **kwargs))
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait_for(task, 10)
    return [json.loads(line)["id"] for line in out.getvalue().splitlines()]


async def test_tail_filters_by_rule_severity_entity_and_time(kafka_bootstrap):
    topic = f"t-{uuid.uuid4().hex[:8]}.news.alerts"
    now_ms = int(time.time() * 1000)
    alerts = [  # (alert, age in hours)
        (alert("a1", "border", "high", "person:kim"), 3),
        (alert("a2", "border", "low", "person:kim"), 1),
        (alert("a3", "arms", "critical", "person:putin"), 1),
        (alert("a4", "border", "critical", "person:putin"), 0),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for a, hours in alerts:
            await producer.send_and_wait(topic, key=a.id.encode(), value=a.model_dump_json().encode(),
                                         timestamp_ms=now_ms - int(hours * 3600_000))
    finally:
        await producer.stop()

    everything = await collect(kafka_bootstrap, topic, from_beginning=True)
    border_high = await collect(kafka_bootstrap, topic, from_beginning=True,
                                wanted=alert_filter(["border"], parse_min_severity(">=high")))
    putin = await collect(kafka_bootstrap, topic, from_beginning=True, wanted=alert_filter(entities=["person:putin"]))
    last_two_hours = await collect(kafka_bootstrap, topic, since_seconds=parse_duration("2h"))
    from_now = await collect(kafka_bootstrap, topic, seconds=2.0)

    assert everything == ["a1", "a2", "a3", "a4"]
    assert border_high == ["a1", "a4"]
    assert putin == ["a3", "a4"]
    assert last_two_hours == ["a2", "a3", "a4"]
    assert from_now == []
