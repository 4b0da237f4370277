"""e2e: the daemon's own worker through a real broker, against a pass-through agent.

Setup: a broker (``$KAFKA_BOOTSTRAP_SERVERS``, or a local one started here on a
free port), the same rules dir as ``core`` (1,000 entities, 100 rules), topics
under a fresh prefix per run. Worker and pass-through are separate processes,
started exactly as users start them (``python -m monitor.cli worker``).

1. throughput: N raw articles are preloaded into news.raw, then the process is
   started; the rate is (outputs - 1) / (last - first output timestamp), so
   start-up is not counted. The pass-through (``bench/passthrough.py``)
   consumes and produces the same bytes, once, with the same faust settings:
   the floor any faust design on this broker sits under. Reported as a ratio.
2. latency: a warm worker gets articles at a steady rate (100/s, then 50% of
   the measured maximum, then 10/s, the world's news output at a peak); per article, broker timestamp of its output record
   minus its ``ingested_at`` (stamped when sent), and the same for alerts.
3. memory: the worker's peak RSS (VmHWM) after the throughput run.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import REPO, Size, fmt, goal, summary, table
from bench.corpus import make_corpus, make_rulepack, make_watchlist, write_rules_dir

ENTITIES = 1000
RULES = 100


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "n": 0}
    v = sorted(values)

    def at(q: float) -> float:
        return v[min(len(v) - 1, int(q * len(v)))]

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": v[-1], "n": len(v)}


class Run:
    """One process (worker or pass-through) on its own topic prefix."""

    def __init__(self, bootstrap: str, workdir: Path, rules_dir: Path) -> None:
        self.bootstrap = bootstrap
        self.prefix = f"b{uuid.uuid4().hex[:8]}."
        self.workdir = workdir / self.prefix.rstrip(".")
        self.workdir.mkdir(parents=True)
        self.http_port = _free_port()
        self.env = dict(os.environ) | {
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "NEWSMON_TOPIC_PREFIX": self.prefix,
            "NEWSMON_APP_ID": f"bench-{self.prefix.rstrip('.')}",
            "NEWSMON_RULES_DIR": str(rules_dir),
            "NEWSMON_DATA_DIR": str(self.workdir / "data"),
            "NEWSMON_HTTP_PORT": str(self.http_port),
            "NEWSMON_LOG_FORMAT": "json",
            "NEWSMON_WORKER_ID": "none",
        }
        self.proc: subprocess.Popen | None = None

    def topic(self, base: str) -> str:
        return f"{self.prefix}{base}"

    async def create_topics(self) -> None:
        from monitor.kafka.admin import ensure_topics
        from monitor.settings import Settings, Topics

        await ensure_topics(Settings(bootstrap_servers=self.bootstrap, topics=Topics(prefix=self.prefix)),
                            attempts=20)

    def start(self, args: list[str]) -> None:
        log = (self.workdir / "process.log").open("wb")
        self.proc = subprocess.Popen([sys.executable, *args], env=self.env, cwd=REPO,
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def peak_rss_mb(self) -> float | None:
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except (OSError, AttributeError):
            pass
        return None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    async def wait_ready(self, timeout: float = 120) -> None:
        import aiohttp

        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                try:
                    async with session.get(f"http://127.0.0.1:{self.http_port}/readyz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.25)
        raise RuntimeError(f"worker not ready after {timeout:.0f} s; see {self.workdir}/process.log")


async def _produce(bootstrap: str, topic: str, raws: list, rate: float | None = None) -> None:
    """Send raws (stamped ingested_at = now, as a watcher would), at `rate`/s or as fast as possible."""
    from aiokafka import AIOKafkaProducer

    from monitor.models import utcnow

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0 if rate else 20,
                                max_request_size=8 * 1024 * 1024)
    await producer.start()
    try:
        start = time.monotonic()
        for i, raw in enumerate(raws):
            if rate:
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            value = raw.model_copy(update={"ingested_at": utcnow()}).model_dump_json().encode()
            await producer.send(topic, key=raw.id.encode(), value=value)
        await producer.flush()
    finally:
        await producer.stop()


async def _collect(bootstrap: str, topics: list[str], until, timeout: float) -> list[tuple[str, int, bytes]]:
    """(topic, broker timestamp ms, value) of every record, from the start, until `until(records)`."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                fetch_max_bytes=64 * 1024 * 1024)
    await consumer.start()
    records: list[tuple[str, int, bytes]] = []
    try:
        tps = []
        for t in topics:
            parts = consumer.partitions_for_topic(t)
            while not parts:
                await consumer._client.force_metadata_update()
                parts = consumer.partitions_for_topic(t)
            tps += [TopicPartition(t, p) for p in parts]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout
        while not until(records) and time.monotonic() < deadline:
            for tp, batch in (await consumer.getmany(timeout_ms=500)).items():
                records += [(tp.topic, r.timestamp, r.value) for r in batch]
    finally:
        await consumer.stop()
    return records


def _rate(records: list[tuple[str, int, bytes]]) -> float:
    stamps = sorted(ts for _, ts, _ in records)
    return (len(stamps) - 1) / max(1e-3, (stamps[-1] - stamps[0]) / 1000)


async def _throughput(kind: str, bootstrap: str, tmp: Path, rules_dir: Path, raws: list,
                      timeout: float) -> dict[str, Any]:
    run = Run(bootstrap, tmp, rules_dir)
    await run.create_topics()
    await _produce(bootstrap, run.topic("news.raw"), raws)
    if kind == "worker":
        outputs = [run.topic("news.articles"), run.topic("news.duplicates")]
        run.start(["-m", "monitor.cli", "worker"])
    else:
        outputs = [run.topic("news.articles")]
        run.start(["-m", "bench.passthrough", run.topic("news.raw"), outputs[0]])
    try:
        records = await _collect(bootstrap, outputs, lambda r: len(r) >= len(raws), timeout)
        rss = run.peak_rss_mb()
    finally:
        run.stop()
    if len(records) < len(raws):
        raise RuntimeError(f"{kind}: {len(records)} of {len(raws)} outputs after {timeout:.0f} s; "
                           f"see {run.workdir}/process.log")
    return {"articles_per_s": _rate(records), "peak_rss_mb": rss}


async def _latency(bootstrap: str, tmp: Path, rules_dir: Path, phases: list[tuple[float, list]]) -> list[dict]:
    """One warm worker; per phase (rate, raws): ingest-to-output and ingest-to-alert latency (ms)."""
    import json
    from datetime import datetime

    run = Run(bootstrap, tmp, rules_dir)
    await run.create_topics()
    run.start(["-m", "monitor.cli", "worker"])
    results = []
    seen = 0
    try:
        await run.wait_ready()
        for rate, raws in phases:
            ids = {r.id for r in raws}
            await _produce(bootstrap, run.topic("news.raw"), raws, rate)
            seen += len(raws)
            records = await _collect(bootstrap, [run.topic("news.articles"), run.topic("news.duplicates"),
                                                 run.topic("news.alerts")],
                                     lambda r, s=seen: sum(1 for t, _, _ in r if not t.endswith("alerts")) >= s,
                                     timeout=max(120, 3 * len(raws) / rate))
            art, alert = [], []
            for topic, ts, value in records:
                doc = json.loads(value)
                if topic.endswith("news.alerts"):
                    if doc["articles"] and doc["articles"][-1]["id"] in ids and doc.get("ingested_at"):
                        alert.append(ts - datetime.fromisoformat(doc["ingested_at"]).timestamp() * 1000)
                elif doc["id"] in ids:
                    art.append(ts - datetime.fromisoformat(doc["ingested_at"]).timestamp() * 1000)
            results.append({"rate_per_s": rate, "articles": len(raws), "output_ms": _percentiles(art),
                            "alert_ms": _percentiles(alert)})
    finally:
        run.stop()
    return results


def _broker(tmp: Path):
    from monitor.kafka.local import LocalKafka, external_bootstrap

    external = external_bootstrap()
    if external:
        return external, None
    kafka = LocalKafka(port=_free_port(), data_dir=tmp / "kafka")
    kafka.up(timeout=180)
    return kafka.bootstrap, kafka


def run(size: Size) -> dict[str, Any]:
    from monitor.log import configure_logging

    configure_logging("WARNING", "console")
    n = size.e2e_articles
    repeats = 2
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-e2e-") as tmpdir:
        tmp = Path(tmpdir)
        entities = make_watchlist(ENTITIES)
        rules_dir = write_rules_dir(tmp / "rules", entities, make_rulepack(RULES, entities))
        bootstrap, kafka = _broker(tmp)
        try:
            worker, floor, rss = [], [], []
            for i in range(repeats):  # interleaved, so drift hits both alike
                raws = make_corpus(n, seed=50 + i).docs
                floor.append(asyncio.run(_throughput("passthrough", bootstrap, tmp, rules_dir, raws, 300))
                             ["articles_per_s"])
                res = asyncio.run(_throughput("worker", bootstrap, tmp, rules_dir, raws, 30 + n / 5))
                worker.append(res["articles_per_s"])
                rss.append(res["peak_rss_mb"])
            w, f = summary(worker), summary(floor)
            half = max(1.0, 0.5 * w["median"])
            secs = size.e2e_latency_seconds
            phases = [(100.0, make_corpus(int(100 * secs), seed=70).docs),
                      (half, make_corpus(max(20, int(half * secs)), seed=71).docs),
                      (10.0, make_corpus(int(10 * secs), seed=72).docs)]  # the world's news at a peak
            latency = asyncio.run(_latency(bootstrap, tmp, rules_dir, phases))
        finally:
            if kafka is not None:
                kafka.down()

    ratio = w["median"] / f["median"]
    print(table(["process", "articles/s median [min-max]"],
                [["newsmon worker", f"{fmt(w['median'])} [{fmt(w['min'])}-{fmt(w['max'])}]"],
                 ["pass-through agent", f"{fmt(f['median'])} [{fmt(f['min'])}-{fmt(f['max'])}]"],
                 ["ratio", f"{ratio:.3f}"]],
                f"e2e: {n} raw articles through the broker, {ENTITIES} entities, {RULES} rules, {repeats} repeats"))
    print(table(["rate/s", "articles", "output p50/p95/p99 ms", "alert p50/p95/p99 ms (n)"],
                [[fmt(p["rate_per_s"]), p["articles"],
                  "/".join(fmt(p["output_ms"][k]) for k in ("p50", "p95", "p99")),
                  "/".join(fmt(p["alert_ms"][k]) for k in ("p50", "p95", "p99")) + f" ({p['alert_ms']['n']})"]
                 for p in latency], "latency from ingest to the output record, warm worker:"))
    print(f"worker peak RSS after {n} articles: {fmt(max(r for r in rss if r) if any(rss) else None)} MB")
    at100 = latency[0]["alert_ms"]["p99"] or latency[0]["output_ms"]["p99"]
    return {
        "config": {"articles": n, "entities": ENTITIES, "rules": RULES, "repeats": repeats,
                   "latency_seconds": size.e2e_latency_seconds},
        "worker_articles_per_s": w, "passthrough_articles_per_s": f, "ratio_to_passthrough": ratio,
        "latency": latency, "worker_peak_rss_mb": rss,
        "headline": [
            ["worker articles/s (raw -> articles)", f"{fmt(w['median'])} [{fmt(w['min'])}-{fmt(w['max'])}]"],
            ["pass-through articles/s", f"{fmt(f['median'])} [{fmt(f['min'])}-{fmt(f['max'])}]"],
            ["ratio to pass-through", f"{ratio:.3f}"],
            *[[f"latency at {fmt(p['rate_per_s'])}/s p50/p95/p99 ms (articles; alerts)",
               "/".join(fmt(p["output_ms"][k]) for k in ("p50", "p95", "p99")) + "; "
               + "/".join(fmt(p["alert_ms"][k]) for k in ("p50", "p95", "p99"))] for p in latency],
            ["worker peak RSS", f"{fmt(max(r for r in rss if r) if any(rss) else None)} MB after {n} articles"],
        ],
        "goals": [
            goal("end to end >= 1,000 articles/s on this machine", w["median"] >= 1000,
                 f"{fmt(w['median'])} articles/s", ">= 1,000/s"),
            goal("end to end >= 50% of pass-through", ratio >= 0.5, f"{ratio * 100:.1f}%", ">= 50%"),
            goal("p99 ingest-to-alert <= 200 ms at 100 articles/s", at100 is not None and at100 <= 200,
                 f"{fmt(at100)} ms", "<= 200 ms"),
        ],
    }
