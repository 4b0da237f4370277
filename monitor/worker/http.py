"""Health, readiness and Prometheus metrics for the worker.

A small aiohttp server of our own rather than faust's web server: it binds
127.0.0.1 by default, serves only these three paths, and its readiness means
what an operator needs ("this worker will process what arrives"), not only
that the process is up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from monitor.log import get_logger

log = get_logger(__name__)


class Metrics:
    """Every metric the worker exports, in one registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.articles = Counter("newsmon_articles_total", "Raw articles processed", ["outcome"], registry=r)
        self.duplicates = Counter("newsmon_duplicates_total", "Copies found", ["kind"], registry=r)
        self.entities = Counter("newsmon_entity_tags_total", "Entity tags", ["type"], registry=r)
        self.events = Counter("newsmon_event_tags_total", "Event tags", ["type", "modality"], registry=r)
        self.alerts = Counter("newsmon_alerts_total", "Alerts emitted", ["rule_id", "severity", "action"], registry=r)
        self.deadletters = Counter("newsmon_deadletter_total", "Messages sent to the dead-letter topic", ["reason"], registry=r)
        self.latency = Histogram(
            "newsmon_ingest_to_output_seconds", "From watcher ingest to article/alert publish",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 300), registry=r,
        )
        self.reloads = Counter("newsmon_rule_reloads_total", "Rule reloads", ["result"], registry=r)
        self.rules_loaded = Gauge("newsmon_rules_loaded", "Enabled rules in the running ruleset", registry=r)
        self.lag = Gauge("newsmon_consumer_lag", "Messages on news.raw not yet processed", ["partition"], registry=r)
        self.silenced = Counter("newsmon_alerts_silenced_total", "Alerts a silence held back", ["rule_id"], registry=r)
        self.replayed = Counter("newsmon_alerts_already_sent_total",
                                "Alerts a replay after a crash produced again and the topic already had",
                                registry=r)
        self._silenced_seen: dict[str, int] = {}

    def sync_silenced(self, counts: Mapping[str, int]) -> None:
        """Bring the silenced counter up to the rule engine's own running count."""
        for rule_id, count in counts.items():
            delta = count - self._silenced_seen.get(rule_id, 0)
            if delta > 0:
                self.silenced.labels(rule_id).inc(delta)
                self._silenced_seen[rule_id] = count

    def watch_feeds(self, health: Callable[[], Mapping[str, Any]]) -> None:
        """Export the feed poller's health (`feed name -> FeedHealth`), read at scrape time."""
        self.registry.register(_FeedCollector(health))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _FeedCollector(Collector):
    """Per-feed figures straight from the poller's own health records, so
    they can never drift from what `newsmon feeds list` shows."""

    def __init__(self, health: Callable[[], Mapping[str, Any]]) -> None:
        self.health = health

    def collect(self):
        failing = GaugeMetricFamily("newsmon_feed_consecutive_failures",
                                    "Fetch errors since the feed last answered", labels=["feed"])
        errors = CounterMetricFamily("newsmon_feed_fetch_errors", "Failed fetches since start", labels=["feed"])
        items = CounterMetricFamily("newsmon_feed_items", "New items published, ever", labels=["feed"])
        healthy = GaugeMetricFamily("newsmon_feed_healthy", "1 while the feed is healthy", labels=["feed"])
        for name, h in self.health().items():
            failing.add_metric([name], h.consecutive_failures)
            errors.add_metric([name], h.fetch_errors)
            items.add_metric([name], h.items_seen)
            healthy.add_metric([name], 1.0 if h.healthy else 0.0)
        yield from (failing, errors, items, healthy)


async def serve(metrics: Metrics, ready: Callable[[], tuple[bool, str]], host: str, port: int,
                before_metrics: Callable[[], object] | None = None) -> web.AppRunner:
    """Start the server; returns the runner (call `cleanup()` to stop)."""

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        ok, reason = ready()
        return web.json_response({"ready": ok, "reason": reason}, status=200 if ok else 503)

    async def metrics_view(_: web.Request) -> web.Response:
        if before_metrics is not None:
            await before_metrics()  # type: ignore[misc]
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_view)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("http_listening", host=host, port=port, paths=["/healthz", "/readyz", "/metrics"])
    return runner
