"""/metrics content that does not need a broker: per-feed health and silenced alerts."""

from __future__ import annotations

from collections import Counter

from monitor.worker.http import Metrics
from monitor.watch.feeds import FeedHealth


def samples(metrics: Metrics) -> dict[str, float]:
    out = {}
    for line in metrics.render().decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_feed_health_is_exported_per_feed_and_read_at_scrape_time():
    health = {"wire": FeedHealth(items_seen=12), "broken": FeedHealth(consecutive_failures=4, fetch_errors=9)}
    metrics = Metrics()
    metrics.watch_feeds(lambda: health)
    got = samples(metrics)
    assert got['newsmon_feed_healthy{feed="wire"}'] == 1.0
    assert got['newsmon_feed_healthy{feed="broken"}'] == 0.0
    assert got['newsmon_feed_fetch_errors_total{feed="broken"}'] == 9.0
    assert got['newsmon_feed_items_total{feed="wire"}'] == 12.0
    health["broken"] = FeedHealth(fetch_errors=9)  # it answered again
    assert samples(metrics)['newsmon_feed_consecutive_failures{feed="broken"}'] == 0.0


def test_silenced_counter_follows_the_engine_count_without_double_counting():
    metrics = Metrics()
    engine_count = Counter({"leader-border-crossing": 2})
    metrics.sync_silenced(engine_count)
    metrics.sync_silenced(engine_count)  # nothing new
    engine_count["leader-border-crossing"] += 1
    metrics.sync_silenced(engine_count)
    assert samples(metrics)['newsmon_alerts_silenced_total{rule_id="leader-border-crossing"}'] == 3.0
