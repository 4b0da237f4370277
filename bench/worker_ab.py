"""worker_ab: two source trees (say, main and a branch) through one broker, interleaved.

Per round (the order of the two trees alternates: ABBA...): the pass-through
agent's articles/s, then per tree one ``newsmon worker`` (run from that tree)
fed N corpus articles once it is ready: articles/s, worker CPU ms per article,
changelog records per article by table (end offsets of its changelog topics),
the time a restarted worker on the same state takes to be ready (table
recovery) and to put one more article out (index rebuild), and the core's
single-core articles/s (pinned to CPU 1). Same corpus and rules as ``e2e``.
Not in ``python -m bench``: it needs two checkouts and takes ~5 min a round.

    python -m bench.worker_ab N ROUNDS TREE_A TREE_B    # results: /tmp/worker_ab.json
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.corpus import make_corpus, make_rulepack, make_watchlist, write_rules_dir
from bench.e2e import ENTITIES, RULES, Run, _broker, _collect, _produce, _rate, _throughput


def cpu_s(pid):
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


async def changelog_counts(bootstrap, app_id):
    from aiokafka import AIOKafkaConsumer, TopicPartition
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await c.start()
    try:
        topics = [t for t in await c.topics() if t.startswith(app_id) and t.endswith("-changelog")]
        out = {}
        for t in topics:
            parts = c.partitions_for_topic(t)
            while not parts:
                c._client.add_topic(t)
                await c._client.force_metadata_update()
                parts = c.partitions_for_topic(t)
            tps = [TopicPartition(t, p) for p in parts]
            ends = await c.end_offsets(tps)
            out[t[len(app_id) + 1:-len("-changelog")]] = sum(ends.values())
        return out
    finally:
        await c.stop()


async def worker(tree, bootstrap, tmp, rules_dir, raws):
    run = Run(bootstrap, tmp, rules_dir)
    run.env["PYTHONPATH"] = str(tree)
    await run.create_topics()
    log = (run.workdir / "process.log").open("wb")
    run.proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "worker"], env=run.env, cwd=tree,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        await run.wait_ready()
        await asyncio.sleep(2)
        c0 = cpu_s(run.proc.pid)
        await _produce(bootstrap, run.topic("news.raw"), raws)
        recs = await _collect(bootstrap, [run.topic("news.articles"), run.topic("news.duplicates")],
                              lambda r: len(r) >= len(raws), 60 + len(raws) / 5)
        c1 = cpu_s(run.proc.pid)
        await asyncio.sleep(1)
        counts = await changelog_counts(bootstrap, run.env["NEWSMON_APP_ID"])
    finally:
        run.stop()
    # restart on the same state: time to /readyz, then one new article through (lazy index rebuild)
    t0 = time.monotonic()
    run.proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "worker"], env=run.env, cwd=tree,
                                stdout=(run.workdir / "process2.log").open("wb"), stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        await run.wait_ready()
        ready = time.monotonic() - t0
        extra = make_corpus(1, seed=999).docs
        t1 = time.monotonic()
        await _produce(bootstrap, run.topic("news.raw"), extra)
        await _collect(bootstrap, [run.topic("news.articles"), run.topic("news.duplicates")],
                       lambda r: any(extra[0].id.encode() in v for _, _, v in r), 120)
        first = time.monotonic() - t1
    finally:
        run.stop()
    n = len(recs)
    return {"articles_per_s": _rate(recs), "cpu_ms_per_article": 1000 * (c1 - c0) / n, "n": n,
            "changelog_per_article": {k: round(v / n, 2) for k, v in sorted(counts.items())},
            "changelog_total_per_article": round(sum(counts.values()) / n, 2),
            "restart_to_ready_s": round(ready, 2), "first_article_after_restart_s": round(first, 2)}


def core(tree, n, rules_dir):
    code = f"""
import time, json
from datetime import datetime, timedelta, UTC
from bench.corpus import make_corpus
from monitor.pipeline import Pipeline
from monitor.state import STORE_NAMES, StateStores
p = Pipeline.from_rules_dir({str(rules_dir)!r})
raws = make_corpus({n}, seed=60).docs
t0 = datetime(2026, 12, 7, tzinfo=UTC)
s = time.process_time()
for i, r in enumerate(raws):
    p.process(r, t0 + timedelta(seconds=i))
print(json.dumps({{"articles_per_s": {n} / (time.process_time() - s)}}))
"""
    out = subprocess.run(["taskset", "-c", "1", sys.executable, "-c", code], cwd=tree, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(tree)), check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    n, rounds, trees = int(sys.argv[1]), int(sys.argv[2]), [Path(t).resolve() for t in sys.argv[3:5]]
    from monitor.log import configure_logging
    configure_logging("WARNING", "console")
    results = {str(t): {"worker": [], "core": []} for t in trees}
    results["passthrough"] = []
    with tempfile.TemporaryDirectory(prefix="di-ab-") as d:
        tmp = Path(d)
        ents = make_watchlist(ENTITIES)
        rules_dir = write_rules_dir(tmp / "rules", ents, make_rulepack(RULES, ents))
        bootstrap, kafka = _broker(tmp)
        try:
            for r in range(rounds):
                raws = make_corpus(n, seed=50 + r).docs
                order = trees if r % 2 == 0 else trees[::-1]
                pt = asyncio.run(_throughput("passthrough", bootstrap, tmp, rules_dir, raws, 300))
                results["passthrough"].append(pt["articles_per_s"])
                print("passthrough", pt, flush=True)
                for t in order:
                    w = asyncio.run(worker(t, bootstrap, tmp, rules_dir, raws))
                    results[str(t)]["worker"].append(w)
                    print(t.name, "worker", json.dumps(w), flush=True)
                    c = core(t, min(n, 1000), rules_dir)
                    results[str(t)]["core"].append(c["articles_per_s"])
                    print(t.name, "core", c, flush=True)
        finally:
            if kafka is not None:
                kafka.down()
    Path(tempfile.gettempdir(), "worker_ab.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
