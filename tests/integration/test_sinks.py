"""Alert sinks against a real broker: webhook (signature, retries, dead-letter,
restart), a slow sink beside a fast one, email against a local SMTP server."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from email import message_from_bytes
from email.message import Message

import pytest

from monitor.settings import Settings, Topics
from monitor.models import Alert
from monitor.sinks.registry import build_sinks
from monitor.sinks.runner import run_sinks
from monitor.settings.sinks import EmailSinkConfig, JsonlSinkConfig, WebhookSinkConfig
from tests.daemon import free_port
from tests.kafka_util import read_topic, send_raw
from tests.sink_util import Receiver, until

pytestmark = pytest.mark.kafka

FAST_RETRIES = {"retry_base": 0.01, "retry_cap": 0.05}


def alert(aid: str, rule: str = "border", severity: str = "high") -> Alert:
    return Alert(id=aid, rule_id=rule, rule_version="1", severity=severity, title=f"{rule} alert {aid}")


def isolated_settings(bootstrap: str) -> Settings:
    run_id = uuid.uuid4().hex[:8]
    return Settings(bootstrap_servers=bootstrap, app_id=f"newsmon-test-{run_id}", topics=Topics(prefix=f"t{run_id}."))


@contextlib.asynccontextmanager
async def sinks_running(settings: Settings, *configs) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(run_sinks(settings, build_sinks(settings, list(configs)), stop))
    try:
        yield
        assert not task.done() or task.exception() is None, task.exception()
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_webhook_body_is_the_alert_and_its_signature_verifies(kafka_bootstrap):
    settings = isolated_settings(kafka_bootstrap)
    sent = alert("sig-1")
    await send_raw(kafka_bootstrap, settings.topics.alerts, sent)
    async with Receiver() as receiver:
        sink = WebhookSinkConfig(type="webhook", name="hook", url=receiver.url, secret="s3cret")
        async with sinks_running(settings, sink):
            await until(lambda: receiver.delivered() == ["sig-1"], "delivery")

    headers, body, _ = receiver.requests[0]
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Newsmon-Signature"], expected)
    assert headers["X-Newsmon-Alert-Revision"] == "1"
    assert Alert.model_validate_json(body) == sent
    tampered = body.replace(b"sig-1", b"sig-2")
    assert hmac.new(b"s3cret", tampered, hashlib.sha256).hexdigest() not in headers["X-Newsmon-Signature"]


async def test_receiver_failing_three_times_gets_the_alert_once(kafka_bootstrap):
    settings = isolated_settings(kafka_bootstrap)
    await send_raw(kafka_bootstrap, settings.topics.alerts, alert("flaky-1"), alert("flaky-2"))
    async with Receiver(script=[503, 503, 500]) as receiver:
        sink = WebhookSinkConfig(type="webhook", name="hook", url=receiver.url, max_attempts=5, **FAST_RETRIES)
        async with sinks_running(settings, sink):
            # flaky-2 comes after flaky-1 on the partition: once it is in, flaky-1 is settled
            await until(lambda: "flaky-2" in receiver.delivered(), "second alert")

    assert [status for _, _, status in receiver.requests] == [503, 503, 500, 200, 200]
    assert receiver.delivered() == ["flaky-1", "flaky-2"]
    assert await read_topic(kafka_bootstrap, settings.topics.alerts_deadletter, timeout=2) == []


async def test_receiver_down_dead_letters_then_restart_redelivers_nothing(kafka_bootstrap):
    settings = isolated_settings(kafka_bootstrap)
    port = free_port()  # nothing listens here yet: the receiver is down
    sink = WebhookSinkConfig(type="webhook", name="hook", url=f"http://127.0.0.1:{port}/hook",
                             max_attempts=3, **FAST_RETRIES)
    await send_raw(kafka_bootstrap, settings.topics.alerts, alert("down-1"), alert("down-2", rule="arms"))

    async with sinks_running(settings, sink):
        dead = await read_topic(kafka_bootstrap, settings.topics.alerts_deadletter, until=lambda v: len(v) >= 2)

    assert [d["alert_id"] for d in dead] == ["down-1", "down-2"]  # the sink moved on past down-1
    for record in dead:
        assert record["sink"] == "hook" and record["sink_type"] == "webhook"
        assert record["attempts"] == 3
        assert "posting to 127.0.0.1" in record["reason"]  # connection refused, said so
        assert record["alert"]["id"] == record["alert_id"]
        assert record["topic"] == settings.topics.alerts
    assert dead[1]["alert"]["rule_id"] == "arms"

    # The receiver comes back; a restarted sink (same name, same group) starts
    # after the dead-lettered alerts and, later, after the delivered one.
    async with Receiver(port=port) as receiver:
        async with sinks_running(settings, sink):
            await send_raw(kafka_bootstrap, settings.topics.alerts, alert("up-3"))
            await until(lambda: "up-3" in receiver.delivered(), "delivery after restart")
            assert receiver.delivered() == ["up-3"]
        async with sinks_running(settings, sink):
            await send_raw(kafka_bootstrap, settings.topics.alerts, alert("up-4"))
            await until(lambda: "up-4" in receiver.delivered(), "delivery after second restart")
        assert receiver.delivered() == ["up-3", "up-4"]
    assert len(await read_topic(kafka_bootstrap, settings.topics.alerts_deadletter, timeout=2)) == 2


async def test_slow_sink_does_not_hold_up_another_sink(kafka_bootstrap, tmp_path):
    settings = isolated_settings(kafka_bootstrap)
    gate = asyncio.Event()
    archive = tmp_path / "alerts.jsonl"
    await send_raw(kafka_bootstrap, settings.topics.alerts, alert("s-1"), alert("s-2"))
    async with Receiver(gate=gate) as slow:
        sinks = [WebhookSinkConfig(type="webhook", name="slow", url=slow.url, timeout=120),
                 JsonlSinkConfig(type="jsonl", name="archive", path=archive)]
        async with sinks_running(settings, *sinks):
            await until(lambda: archive.exists() and len(archive.read_text().splitlines()) == 2, "archive")
            await until(lambda: slow.arrived == ["s-1"], "slow receiver reached")
            assert slow.delivered() == []  # still hanging on the first alert
            gate.set()
            await until(lambda: slow.delivered() == ["s-1", "s-2"], "slow receiver catching up")
    assert [json.loads(line)["id"] for line in archive.read_text().splitlines()] == ["s-1", "s-2"]


async def test_email_sink_sends_and_dead_letters_a_rejected_message(kafka_bootstrap):
    pytest.importorskip("aiosmtplib")
    from aiosmtpd.controller import Controller

    received: list[Message] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            message = message_from_bytes(envelope.content)
            if "reject me" in message["Subject"]:
                return "554 5.7.1 message refused"
            received.append(message)
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = isolated_settings(kafka_bootstrap)
        sink = EmailSinkConfig(type="email", name="mail", host="127.0.0.1", port=port, tls="none",
                               sender="newsmon@example.org", to=["desk@example.org"], **FAST_RETRIES)
        rejected = Alert(id="m-2", rule_id="arms", rule_version="1", severity="low", title="reject me")
        await send_raw(kafka_bootstrap, settings.topics.alerts, alert("m-1", severity="critical"), rejected)
        async with sinks_running(settings, sink):
            dead = await read_topic(kafka_bootstrap, settings.topics.alerts_deadletter, until=lambda v: len(v) >= 1)
    finally:
        controller.stop()

    assert len(received) == 1
    mail = received[0]
    assert mail["Subject"] == "[newsmon CRITICAL] border alert m-1"
    assert mail["To"] == "desk@example.org" and mail["X-Newsmon-Alert-Id"] == "m-1"
    parts = {part.get_content_type(): part for part in mail.walk()}
    assert "border alert m-1" in parts["text/plain"].get_payload(decode=True).decode()
    assert json.loads(parts["application/json"].get_payload(decode=True))["id"] == "m-1"
    assert [d["alert_id"] for d in dead] == ["m-2"]
    assert dead[0]["attempts"] == 1 and "554" in dead[0]["reason"]  # permanent: no retries
