"""The worker's /healthz, /readyz and /metrics, on a running worker."""

from __future__ import annotations

import pytest

from monitor.models import RawArticle
from tests.daemon import get, newsmon_env, poll, running
from tests.kafka_util import send_raw

pytestmark = pytest.mark.kafka


def metric(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


async def test_health_readiness_and_metrics(kafka_bootstrap, tmp_path):
    env = newsmon_env(kafka_bootstrap, tmp_path)
    base = f"http://127.0.0.1:{env['NEWSMON_HTTP_PORT']}"
    with running(["worker"], env, tmp_path / "worker"):
        status, body = await poll(f"{base}/readyz", lambda s, b: s == 200)
        assert '"ready": true' in body and "rules loaded" in body
        assert (await get(f"{base}/healthz"))[0] == 200

        _, before = await get(f"{base}/metrics")
        assert metric(before, 'newsmon_articles_total{outcome="unique"}') == 0
        assert metric(before, "newsmon_rules_loaded") >= 1

        raw = RawArticle(id="m-1", source="wire", content="SEOUL (Wire) -- Kim Jong Un crossed into Russia by train.")
        await send_raw(kafka_bootstrap, f"{env['NEWSMON_TOPIC_PREFIX']}news.raw", raw)

        _, after = await poll(f"{base}/metrics",
                              lambda s, b: metric(b, 'newsmon_articles_total{outcome="unique"}') == 1)
        assert metric(after, 'newsmon_alerts_total{action="new",rule_id="leader-border-crossing"') == 1
        assert metric(after, "newsmon_ingest_to_output_seconds_count") == 1
        assert metric(after, 'newsmon_consumer_lag{partition="0"}') == 0
