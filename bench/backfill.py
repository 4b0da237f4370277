"""backfill: catching up after an outage, or replaying history.

N raw articles are already waiting on news.raw (two partitions) when the
workers start (``python -m monitor.cli worker``, same rules as ``core``, a
local broker on a free port). Figures:

* one worker, then two workers on this machine (same consumer group): time
  from start to the last output record (start-up included), and the
  sustained rate (outputs - 1) / (last - first output timestamp).
* the ceiling of the stateful stage: `decide` (dedup, stories, rules) reads
  the single partition of news.prepared, so however many workers run
  `prepare`, one process decides. Its rate is measured here in-process on
  already prepared articles (no Kafka): no number of workers gets past it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Size, fmt, goal, table
from bench.corpus import make_corpus, make_rulepack, make_watchlist, write_rules_dir
from bench.e2e import ENTITIES, RULES, Run, _broker, _collect, _produce, _rate

PARTITIONS = 2


async def _drain(bootstrap: str, tmp: Path, rules_dir: Path, raws: list, workers: int) -> dict[str, Any]:
    runs = [Run(bootstrap, tmp, rules_dir) for _ in range(workers)]
    lead = runs[0]
    for r in runs:  # one consumer group, one topic prefix: the workers share the work
        r.prefix, r.env = lead.prefix, r.env | {k: lead.env[k] for k in ("NEWSMON_TOPIC_PREFIX", "NEWSMON_APP_ID")}
        r.env["NEWSMON_PARTITIONS"] = str(PARTITIONS)
    from monitor.kafka.admin import ensure_topics
    from monitor.settings import Settings, Topics

    await ensure_topics(Settings(bootstrap_servers=bootstrap, topics=Topics(prefix=lead.prefix),
                                 partitions=PARTITIONS), attempts=20)
    await _produce(bootstrap, lead.topic("news.raw"), raws)
    t0 = time.time()
    for r in runs:
        r.start(["-m", "monitor.cli", "worker"])
    try:
        records = await _collect(bootstrap, [lead.topic("news.articles"), lead.topic("news.duplicates")],
                                 lambda rec: len(rec) >= len(raws), timeout=120 + len(raws) / 20)
    finally:
        for r in runs:
            r.stop()
    if len(records) < len(raws):
        raise RuntimeError(f"{workers} worker(s): {len(records)} of {len(raws)} outputs; see {lead.workdir}")
    last = max(ts for _, ts, _ in records) / 1000
    return {"workers": workers, "articles": len(raws), "drain_s": last - t0, "sustained_per_s": _rate(records)}


def _decide_ceiling(rules_dir: Path, raws: list) -> float:
    from monitor.pipeline import Pipeline

    pipeline = Pipeline.from_rules_dir(rules_dir)
    prepared = [pipeline.prepare(r) for r in raws]
    started = time.perf_counter()
    for p in prepared:
        pipeline.decide(p)
    return len(prepared) / (time.perf_counter() - started)


def measure(n: int, worker_counts: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
    """Drain ``n`` waiting articles with each number of workers in turn."""
    from monitor.log import configure_logging

    configure_logging("WARNING", "console")
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-backfill-") as tmpdir:
        tmp = Path(tmpdir)
        entities = make_watchlist(ENTITIES)
        rules_dir = write_rules_dir(tmp / "rules", entities, make_rulepack(RULES, entities))
        raws = make_corpus(n, seed=60).docs
        ceiling = _decide_ceiling(rules_dir, raws[:min(n, 2000)])
        bootstrap, kafka = _broker(tmp)
        try:
            results = [asyncio.run(_drain(bootstrap, tmp, rules_dir, raws, w)) for w in worker_counts]
        finally:
            if kafka is not None:
                kafka.down()
    print(table(["workers", "articles", "time to drain s", "sustained articles/s"],
                [[r["workers"], r["articles"], fmt(r["drain_s"]), fmt(r["sustained_per_s"])] for r in results],
                f"backfill: articles waiting on news.raw ({PARTITIONS} partitions), workers started"))
    print(f"decide ceiling (one partition of news.prepared, in-process): {fmt(ceiling)} articles/s")
    one = results[0]
    headline = [[f"{r['workers']} worker(s): drain {n:,} articles",
                 f"{fmt(r['drain_s'] / 60)} min ({fmt(r['sustained_per_s'])}/s)"] for r in results]
    headline.append(["decide ceiling (single partition)", f"{fmt(ceiling)} articles/s"])
    data: dict[str, Any] = {
        "config": {"articles": n, "partitions": PARTITIONS, "entities": ENTITIES, "rules": RULES},
        "runs": results, "decide_ceiling_per_s": ceiling, "headline": headline}
    if len(results) > 1:
        data["speedup_two_workers"] = results[1]["sustained_per_s"] / one["sustained_per_s"]
    if n >= 100_000:
        data["goals"] = [goal("backfill 100,000 articles (reported)", None,
                              f"{fmt(one['drain_s'] / 60)} min with one worker", "-")]
    else:
        headline.append(["100,000 articles at one worker's rate",
                         f"{fmt(100_000 / one['sustained_per_s'] / 60)} min (extrapolated)"])
        data["goals"] = [goal("backfill 100,000 articles (reported)", None,
                              f"{fmt(100_000 / one['sustained_per_s'] / 60)} min at one worker's rate "
                              f"(extrapolated from {n:,})", "-")]
    return data


def run(size: Size) -> dict[str, Any]:
    return measure(1000 if size.name == "quick" else 5_000)


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.backfill [--articles 100000] [--workers 1 2]`` (``make backfill``):
    the issue's full-size run, too long for ``make bench``; writes bench/results/backfill.json."""
    from bench.common import DEFAULT, RESULTS, environment, write_result

    ap = argparse.ArgumentParser(prog="python -m bench.backfill")
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args(argv)
    started, env = time.perf_counter(), environment()
    data = measure(args.articles, tuple(args.workers))
    path = write_result("backfill", DEFAULT, data, started, env)
    print(f"-> {path} ({RESULTS})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
