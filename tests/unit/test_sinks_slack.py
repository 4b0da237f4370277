"""Slack incoming-webhook formatting of an alert."""

from __future__ import annotations

import json

from monitor.models import Alert, ArticleRef, EventTag, Evidence
from monitor.settings.sinks import WebhookSinkConfig
from monitor.sinks.slack import slack_payload
from monitor.sinks.webhook import WebhookSink


def crossing_alert(**changes) -> Alert:
    sentence = "Kim's train crossed into Russia early Tuesday, <officials> said."
    base = dict(
        id="e3364f638e8b5919", rule_id="leader-border-crossing", rule_version="1", severity="high",
        title="Kim Jong Un crossed into Russia", summary="Train crossed at Khasan & went on to Vladivostok",
        story_id="d32bdea61cdd550d", corroboration=2, sources=["KUNA", "Yonhap"],
        articles=[ArticleRef(id="48935a57", source="KUNA", url="https://example.org/a?x=1|2", title="Kim in Russia")],
        events=[EventTag(type="border_crossing", modality="asserted", trigger="crossed",
                         evidence=Evidence(sentence=sentence, start=0, end=len(sentence), paragraph=0))],
    )
    return Alert(**(base | changes))


def texts(payload: dict) -> str:
    return json.dumps(payload["blocks"], ensure_ascii=False)


def test_payload_has_fallback_text_and_readable_blocks():
    payload = slack_payload(crossing_alert())
    assert set(payload) == {"text", "blocks"}
    assert "[HIGH] Kim Jong Un crossed into Russia" in payload["text"]
    header = payload["blocks"][0]
    assert header["type"] == "header" and header["text"]["text"] == "HIGH: Kim Jong Un crossed into Russia"
    body = texts(payload)
    for expected in ("leader-border-crossing", "KUNA, Yonhap", "*Reports*\\n2", "e3364f638e8b5919", "d32bdea61cdd550d"):
        assert expected in body
    # mrkdwn control characters are escaped; the link survives with its | encoded
    assert "Khasan &amp; went" in body and "&lt;officials&gt;" in body
    assert "<https://example.org/a?x=1%7C2|Kim in Russia>" in body


def test_update_is_marked_and_long_titles_fit_slack_limits():
    payload = slack_payload(crossing_alert(action="update", revision=3, title="x" * 400, summary="y" * 5000))
    header = payload["blocks"][0]["text"]["text"]
    assert len(header) <= 150 and header.endswith("…")
    assert "(update, rev 3)" in payload["text"]
    assert all(len(b["text"]["text"]) <= 3000 for b in payload["blocks"] if b["type"] == "section" and "text" in b)


def test_slack_format_is_what_the_webhook_sink_posts():
    alert = crossing_alert()
    raw = alert.model_dump_json().encode()
    slack = WebhookSink(WebhookSinkConfig(type="webhook", url="https://hooks.example.com/x", format="slack"))
    plain = WebhookSink(WebhookSinkConfig(type="webhook", url="https://hooks.example.com/x"))
    assert json.loads(slack.body(alert, raw)) == slack_payload(alert)
    assert plain.body(alert, raw) == raw
