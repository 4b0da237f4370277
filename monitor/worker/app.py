"""faust wiring: topics, tables, and the agents of monitor/worker/agents.py
fed with faust's events.

Nothing here decides anything about articles; it moves bytes between Kafka
and the core. `prepare` runs on every partition of news.raw; `decide` runs
on the single partition of news.prepared, where every article meets every
earlier one whichever watcher or partition it came from. Delivery is
at-least-once (faust's default): alert ids are deterministic, and a replay
after a crash sends no alert the alert topics already hold
(monitor/worker/replay.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import faust
from watchfiles import awatch

from monitor.errors import RuleFileError
from monitor.kafka.patch import install as install_kafka_backoff
from monitor.kafka.security import aiokafka_options, faust_credentials
from monitor.log import get_logger
from monitor.pipeline import Pipeline
from monitor.rules.loader import RulesetError
from monitor.rules.silences import SilenceSet
from monitor.settings import Settings
from monitor.state import STORE_NAMES, StateStores
from monitor.worker.agents import SWEEP_KEY, Agents, Record
from monitor.worker.http import Metrics, serve
from monitor.worker.replay import CLOCK_MARGIN_MS, alerts_sent_since, articles_sent_since, replay_start_ms
from monitor.worker.silences import follow as follow_silences

log = get_logger(__name__)

class FaustOutbox:
    """The agents' Outbox over faust topics; a topic a rule names is made on first use."""

    def __init__(self, app: faust.App, partitions: int) -> None:
        self.app, self.partitions = app, partitions
        self.topics: dict[str, Any] = {}

    def topic(self, name: str, partitions: int | None = None):
        if name not in self.topics:
            # internal=True: faust creates the topic, so a fresh cluster needs no set-up
            self.topics[name] = self.app.topic(name, value_serializer="raw", key_serializer="raw",
                                               internal=True, partitions=partitions or self.partitions)
        return self.topics[name]

    async def send(self, topic: str, key: bytes | str | None, value: bytes) -> None:
        await self.topic(topic).send(key=key, value=value)

    async def delivered(self) -> None:
        await self.app.producer.flush()


def _record(event) -> Record:
    message = event.message
    return Record(event.key, event.value, message.partition, message.offset, message.timestamp)


def create_app(settings: Settings, feed_health: Callable[[], Mapping[str, Any]] | None = None,
               **extra: Any) -> faust.App:
    """The worker's faust app; `feed_health` adds the in-process feed poller's
    health to /metrics (`newsmon run`)."""
    install_kafka_backoff()  # no busy loop while the broker is down (monitor/kafka/patch.py)
    topics = settings.topics
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.resolved_bootstrap()}",
        broker_credentials=faust_credentials(settings),  # TLS / SASL (monitor/kafka/security.py)
        value_serializer="raw",
        key_serializer="raw",
        store="memory://",  # tables restore from their changelog topics on start
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        # a crashed worker's partitions are handed over after this, not faust's 60 s
        broker_session_timeout=10.0,
        broker_heartbeat_interval=3.0,
        consumer_group_instance_id=settings.group_instance_id(),
        processing_guarantee="at_least_once",
        web_enabled=settings.web_enabled,
        web_host=settings.web_host,
        web_port=settings.web_port,
        producer_max_request_size=64 * 1024 * 1024,  # as large as the topics take (monitor/kafka/admin.py)
        consumer_max_fetch_size=64 * 1024 * 1024,
        datadir=str(settings.data_dir / "faust"),
        **extra,
    )
    outbox = FaustOutbox(app, settings.partitions)
    raw_topic = outbox.topic(topics.raw)
    # one partition: every article meets every earlier one (README, Scaling)
    prepared_topic = outbox.topic(topics.prepared, partitions=1)
    for name in ("articles", "duplicates", "alerts", "deadletter", "stories"):
        outbox.topic(getattr(topics, name))
    tables = {
        name: app.Table(name, default=None, partitions=1,
                        schema=faust.Schema(key_serializer="json", value_serializer="json"))
        for name in STORE_NAMES
    }
    pipeline = Pipeline.from_rules_dir(settings.rules_dir, StateStores(**tables), settings.dedup_config(),
                                      settings.story_config(), confirm_closes=True)

    @tables["dedup_docs"].on_recover  # called after every recovery, all tables restored by then
    async def rebuild_derived_indexes() -> None:
        """A recovery may have changed the tables (another worker wrote them):
        rebuild the core's in-memory indexes from them, a slice at a time so
        heartbeats go on, before news.prepared is resumed."""
        started = asyncio.get_running_loop().time()
        for _ in pipeline.rebuild_indexes():
            await asyncio.sleep(0)
        log.info("derived_indexes_rebuilt", seconds=round(asyncio.get_running_loop().time() - started, 3))
    metrics = Metrics()
    metrics.rules_loaded.set(len(pipeline.engine.compiled))
    if feed_health is not None:
        metrics.watch_feeds(feed_health)
    agents = Agents(pipeline, topics, outbox, metrics, max_raw_bytes=settings.max_raw_bytes)
    fence, fence_ready = agents.fence, asyncio.Event()  # monitor/worker/replay.py

    @app.agent(raw_topic, name="prepare")
    async def prepare(stream):
        async for event in stream.events():
            await agents.prepare(_record(event))

    @app.on_partitions_assigned.connect
    async def load_replay_fence(_sender, assigned, **_kwargs) -> None:
        """Before news.prepared hands out a message (a replay, maybe), learn
        which alerts are already out. Runs while faust holds the stream for
        the rebalance, so no message waits on it halfway."""
        if not any(tp.topic == topics.prepared for tp in assigned):
            return
        fence_ready.clear()
        try:
            bootstrap, security = settings.resolved_bootstrap(), aiokafka_options(settings)
            since = await replay_start_ms(bootstrap, settings.app_id, topics.prepared, security=security)
            alert_topics = {topics.alerts, *(topics.name(d) for rule in pipeline.engine.ruleset.by_id().values()
                                             for d in rule.destinations)}
            start = None if since is None else max(0, since - CLOCK_MARGIN_MS)
            found = set() if start is None else await alerts_sent_since(
                bootstrap, alert_topics, start, security=security)
            articles = set() if start is None else await articles_sent_since(
                bootstrap, [topics.articles, topics.duplicates], start, security=security)
            fence.load(found, start, articles)
        except Exception as exc:  # noqa: BLE001 -- a replay may then repeat an alert; never stop the stream
            log.error("replay_fence_failed", error=f"{type(exc).__name__}: {exc}")
        finally:
            fence_ready.set()

    @app.agent(prepared_topic, name="decide")
    async def decide(stream):
        async for event in stream.events():
            # faust can hand out an event while tables are still recovering
            # (faust-streaming#216); the core must not see half-restored state
            await app.tables.recovery.completed.wait()
            await silences_loaded.wait()  # a silence set before start holds from the first article
            await fence_ready.wait()
            await agents.decide(_record(event))

    @app.timer(interval=settings.sweep_interval)
    async def sweep_tick() -> None:
        """Table writes must happen inside the agent (faust refuses them
        from a timer), so the worker holding news.prepared asks its own
        decide agent to sweep, through the topic."""
        if app.tables.recovery.completed.is_set() and any(
                tp.topic == topics.prepared for tp in app.consumer.assignment()):
            await prepared_topic.send(key=SWEEP_KEY.encode(), value=b"{}")

    silences, silences_loaded = SilenceSet(), asyncio.Event()
    pipeline.engine.silences = silences  # Pipeline.reload hands it on to the new engine

    @app.task
    async def follow_silences_topic() -> None:
        await follow_silences(settings.resolved_bootstrap(), topics.silences, silences, ready=silences_loaded,
                              security=aiokafka_options(settings))

    @app.task
    async def reseek_after_recovery() -> None:
        await reseek_after_each_rebalance(app)

    @app.task
    async def reload_rules_on_change() -> None:
        await watch_rules(pipeline, settings.rules_dir, metrics)

    raw_name = topics.raw

    def ready() -> tuple[bool, str]:
        if not app.tables.recovery.completed.is_set():
            return False, "recovering state"
        if not silences_loaded.is_set():
            return False, f"reading {topics.silences}"
        if not any(tp.topic == raw_name for tp in app.consumer.assignment()):
            return False, f"no partition of {raw_name} assigned"
        return True, f"{len(pipeline.engine.compiled)} rules loaded"

    app.newsmon_ready = ready  # /readyz, and the "newsmon ready" line of monitor/cli/daemon.py

    if settings.http_enabled:

        async def update_lag() -> None:
            tps = [tp for tp in app.consumer.assignment() if tp.topic == raw_name]
            try:  # during a broker outage /metrics still answers, with the last lag known
                ends = await asyncio.wait_for(app.consumer.highwaters(*tps), 2.0) if tps else {}
            except Exception:  # noqa: BLE001 -- broker unreachable or slow
                return
            for tp, end in ends.items():
                # until this worker handles its first message, lag counts from offset 0
                done = agents.processed_offsets.get(tp.partition, -1) + 1
                metrics.lag.labels(str(tp.partition)).set(max(0, (end or 0) - done))

        @app.task
        async def http_endpoints() -> None:
            try:
                runner = await serve(metrics, ready, settings.http_host, settings.http_port, update_lag)
            except OSError as exc:  # a busy port must not stop the stream
                log.error("http_bind_failed", host=settings.http_host, port=settings.http_port, error=str(exc))
                return
            try:
                await asyncio.Event().wait()
            finally:
                await runner.cleanup()

    return app


async def reseek_after_each_rebalance(app: faust.App, settle: float = 3.0) -> None:
    """Work around faust handing out (and then losing) events while tables
    recover (faust-streaming#216, #175): once a rebalance has settled, seek
    the source partitions back to their committed offsets. Everything not yet
    committed is delivered again; the core is idempotent for replays (known
    ids keep their dedup result, story and alert state), so nothing is lost
    and nothing fires twice."""
    recovery = app.tables.recovery
    done_generation = None
    while True:
        await recovery.completed.wait()
        generation = app.consumer_generation_id
        if generation != done_generation:
            await asyncio.sleep(settle)
            if app.consumer_generation_id == generation and recovery.completed.is_set():
                await app.consumer.perform_seek()
                done_generation = generation
                log.info("source_partitions_reseeked", generation=generation)
                continue
        await asyncio.sleep(1.0)


async def watch_rules(pipeline: Pipeline, rules_dir: Path, metrics: Metrics | None = None,
                      debounce_ms: int = 500) -> None:
    """Hot reload: a valid edit of rules/ takes effect within a second or so;
    an invalid one is logged with its precise errors and changes nothing."""
    async for _changes in awatch(rules_dir, debounce=debounce_ms, recursive=True):
        try:
            diff = pipeline.reload(rules_dir)
        except (RulesetError, RuleFileError) as exc:
            errors = [str(e) for e in getattr(exc, "errors", [])] or [str(exc)]
            log.error("rules_reload_failed", errors=errors, kept="previous ruleset")
            if metrics:
                metrics.reloads.labels("failed").inc()
            continue
        except Exception as exc:  # noqa: BLE001 -- never let a reload kill the worker
            log.error("rules_reload_failed", errors=[f"{type(exc).__name__}: {exc}"], kept="previous ruleset")
            if metrics:
                metrics.reloads.labels("failed").inc()
            continue
        log.info("rules_reloaded", rules=len(pipeline.engine.compiled), **diff)
        if metrics:
            metrics.reloads.labels("ok").inc()
            metrics.rules_loaded.set(len(pipeline.engine.compiled))
