"""cost: what the daemon costs at the world's news rate, and a soak test.

``newsmon run`` (worker, inbox watcher and alert printer in one process) on a
local broker started here on a free port (the daemon would start the same
broker itself; it is started apart so that its JVM's pid is known). Benchmark
corpus articles are dropped into the inbox as JSON files (written aside, then
renamed in) at a steady rate, for ``minutes`` per rate. Every 5 s the CPU
time (utime + stime from ``/proc/<pid>/stat``) and RSS of the daemon and of
the broker JVM are sampled. Figures per rate:

* CPU as % of the whole machine (all cores), daemon and broker apart, over the
  whole phase; the idle daemon for reference.
* RSS over time (the samples) and its slope per hour (least squares).
* Latency per article: drop (rename into the inbox) to its output record on
  news.articles / news.duplicates (broker timestamp), which includes the
  watcher's settle time; and, per alert, its article's ``ingested_at`` (set
  when the watcher read the file) to the alert record. p50/p99.
* Error lines (level error) in the daemon's log.

``python -m bench.cost --rates 20 --minutes 60 --soak`` is the soak (``make
soak``): dedup and story TTLs cut to 6 minutes (NEWSMON_DEDUP,
NEWSMON_STORY_TTL_HOURS; a quarter of the run if shorter) so that expiry runs
many times. The run is six consecutive segments at the one rate; after each,
the outputs are read and the tables' live state (last value per key of each
changelog topic) is measured. Reports the slope per hour of the daemon's RSS
and of the state after the first segment (warm-up), p50/p99 per segment
(latency drift) and error lines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import RESULTS, Size, environment, fmt, goal, table, write_result
from bench.corpus import make_corpus, make_rulepack, make_watchlist, write_rules_dir
from bench.e2e import ENTITIES, RULES, Run, _broker, _collect, _free_port, _percentiles

SAMPLE_S = 5.0
SOAK_SEGMENTS = 6
TICKS = os.sysconf("SC_CLK_TCK")
NPROC = os.cpu_count() or 1
RAW_PROFILE = Path(tempfile.gettempdir()) / "cost_profile_raw.txt"


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _slope_per_hour(points: list[tuple[float, float]]) -> float | None:
    if len(points) < 3:
        return None
    n = len(points)
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    var = sum((t - mx) ** 2 for t, _ in points)
    return None if var == 0 else sum((t - mx) * (v - my) for t, v in points) / var * 3600


class Sampler:
    """CPU % of the machine and RSS of named processes, every SAMPLE_S seconds."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.samples: list[dict[str, Any]] = []

    def take(self, t0: float) -> dict[str, Any]:
        now = time.monotonic()
        sample = {"t": now - t0, "_mono": now}
        for name, pid in self.pids.items():
            sample[f"{name}_ticks"] = _cpu_ticks(pid)
            sample[f"{name}_rss_mb"] = _rss_mb(pid)
        self.samples.append(sample)
        return sample

    @staticmethod
    def cpu_percent(a: dict, b: dict, name: str) -> float:
        return (b[f"{name}_ticks"] - a[f"{name}_ticks"]) / TICKS / (b["_mono"] - a["_mono"]) / NPROC * 100


async def _feed(inbox: Path, staging: Path, docs: list, rate: float, seconds: float,
                sampler: Sampler, t0: float, seed: int) -> dict[str, float]:
    """Drop docs as JSON files at `rate`/s; returns id -> drop time (epoch ms)."""
    dropped: dict[str, float] = {}
    start = time.monotonic()
    next_sample = start
    i = 0
    while time.monotonic() - start < seconds:
        due = start + i / rate
        now = time.monotonic()
        if now >= next_sample:
            sampler.take(t0)
            next_sample += SAMPLE_S
        if due > now:
            await asyncio.sleep(min(due - now, 0.05))
            continue
        doc = docs[i % len(docs)]
        art_id = f"s{seed}-{i:07d}"
        data = doc.model_dump_json(include={"title", "content", "url", "source"})
        body = json.loads(data) | {"id": art_id}
        path = staging / f"{art_id}.json"
        path.write_text(json.dumps(body))
        os.rename(path, inbox / path.name)
        dropped[art_id] = time.time() * 1000
        i += 1
    sampler.take(t0)
    return dropped


async def _phase(run: Run, inbox: Path, staging: Path, rate: float, minutes: float, sampler: Sampler,
                 t0: float, seed: int, before_total: int) -> dict[str, Any]:
    n = int(rate * minutes * 60)
    docs = make_corpus(min(n, 12_000), seed=seed).docs  # beyond that, content repeats: copies for dedup
    first = len(sampler.samples)
    dropped = await _feed(inbox, staging, docs, rate, minutes * 60, sampler, t0, seed)
    # let the queue drain, then read every output
    outs = [run.topic("news.articles"), run.topic("news.duplicates"), run.topic("news.alerts")]
    total = before_total + len(dropped)  # the output topics hold the earlier phases' records too
    records = await _collect(run.bootstrap, outs, lambda r: sum(1 for t, _, _ in r if not t.endswith("alerts"))
                             >= total, timeout=max(120.0, minutes * 60))  # a queue built at a rate above capacity drains
    sampler.take(t0)  # the phase's CPU includes draining the queue it built
    window = sampler.samples[first:]
    ticks = {name: window[-1][f"{name}_ticks"] - window[0][f"{name}_ticks"] for name in ("daemon", "broker")}
    output_ms, alert_ms, series = [], [], []
    for topic, ts, value in records:
        doc = json.loads(value)
        if topic.endswith("news.alerts"):
            last = doc["articles"][-1]["id"] if doc.get("articles") else None
            if last in dropped and doc.get("ingested_at"):
                alert_ms.append(ts - datetime.fromisoformat(doc["ingested_at"]).timestamp() * 1000)
        elif doc["id"] in dropped:
            output_ms.append(ts - dropped[doc["id"]])
            series.append((dropped[doc["id"]], ts - dropped[doc["id"]]))
    series.sort()
    fifth = max(1, len(series) // 5)
    head = _percentiles([v for _, v in series[:fifth]])["p50"]
    tail = _percentiles([v for _, v in series[-fifth:]])["p50"]
    return {
        "rate_per_s": rate, "minutes": minutes, "dropped": len(dropped),
        "outputs": sum(1 for t, _, v in records if not t.endswith("alerts") and json.loads(v)["id"] in dropped),
        "seconds": window[-1]["t"] - window[0]["t"],
        "daemon_cpu_ms_per_article": ticks["daemon"] / TICKS * 1000 / max(1, len(dropped)),
        "broker_cpu_ms_per_article": ticks["broker"] / TICKS * 1000 / max(1, len(dropped)),
        "daemon_cpu_pct": Sampler.cpu_percent(window[0], window[-1], "daemon"),
        "broker_cpu_pct": Sampler.cpu_percent(window[0], window[-1], "broker"),
        "daemon_rss_mb": [round(s["daemon_rss_mb"], 1) for s in window],
        "broker_rss_mb": [round(s["broker_rss_mb"], 1) for s in window],
        "daemon_rss_slope_mb_per_h": _slope_per_hour([(s["t"], s["daemon_rss_mb"]) for s in window[len(window) // 5:]]),
        "drop_to_output_ms": _percentiles(output_ms), "ingest_to_alert_ms": _percentiles(alert_ms),
        "latency_drift_p50_ms": {"first_fifth": head, "last_fifth": tail},
    }


async def _state_bytes(run: Run) -> dict[str, Any]:
    """Live keys and bytes of the worker's tables, as a restart would restore them:
    the last value per key in each changelog topic, deletions dropped; in all
    and per table ([keys, bytes]), so a growing store can be named."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=run.bootstrap, group_id=None, enable_auto_commit=False,
                                fetch_max_bytes=64 * 1024 * 1024)
    await consumer.start()
    try:
        app_id = run.env["NEWSMON_APP_ID"]
        await consumer._client.force_metadata_update()
        topics = [t for t in consumer._client.cluster.topics() if t.startswith(app_id) and t.endswith("-changelog")]
        tps = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        if not tps:
            return {"keys": 0, "bytes": 0, "by_table": {}}
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        live: dict[tuple[str, bytes], int] = {}
        async def behind() -> bool:
            return any([await consumer.position(tp) < ends[tp] for tp in tps])

        while await behind():
            for tp, batch in (await consumer.getmany(timeout_ms=500)).items():
                for r in batch:
                    if r.value is None:
                        live.pop((tp.topic, r.key), None)
                    else:
                        live[(tp.topic, r.key)] = len(r.key or b"") + len(r.value)
    finally:
        await consumer.stop()
    by_table: dict[str, list[int]] = {}
    for (topic, _), size in live.items():
        name = topic.removeprefix(app_id).strip("-").removesuffix("-changelog")
        entry = by_table.setdefault(name, [0, 0])
        entry[0], entry[1] = entry[0] + 1, entry[1] + size
    return {"keys": len(live), "bytes": sum(live.values()), "by_table": by_table}


def core_cpu_ms_per_article(rules_dir: Path, n: int = 300) -> float:
    """CPU ms per article of `Pipeline.process` in this process, on the same corpus and
    rules: the calibration that makes the daemon's figure comparable across machine loads."""
    from monitor.pipeline import Pipeline

    pipeline = Pipeline.from_rules_dir(rules_dir)
    raws = make_corpus(n, seed=79).docs
    for raw in raws[:30]:  # warm-up
        pipeline.process(raw)
    started = time.process_time()
    for raw in raws[30:]:
        pipeline.process(raw)
    return (time.process_time() - started) * 1000 / (n - 30)


def _attach_profiler(pid: int, seconds: float, out: Path) -> subprocess.Popen:
    """py-spy sampling the running daemon from outside (``--nonblocking``: the
    daemon is never paused, so its CPU figures stay its own)."""
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return subprocess.Popen([pyspy, "record", "--pid", str(pid), "--duration", str(round(seconds)), "--nonblocking",
                             "--format", "raw", "-r", "100", "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _profile_shares(spy: subprocess.Popen, out: Path) -> dict[str, Any]:
    """Where the daemon's busy samples went (worker_profile's buckets, plus the
    watcher, the dashboard and the alert printer that `newsmon run` adds)."""
    from bench.worker_profile import busy_shares, parse_raw

    spy.wait(timeout=120)
    shutil.copy(out, RAW_PROFILE)  # the collapsed stacks, for a closer look
    buckets, faust_parts = parse_raw(out)
    shares, faust_shares = busy_shares(buckets, faust_parts)
    idle = sum(v for k, v in buckets.items() if k.startswith(("start-up", "idle")))
    return {"busy_samples": sum(buckets.values()) - idle, "idle_samples": idle,
            "shares": shares, "faust_shares_of_busy": faust_shares}


async def measure(rates: list[float], minutes: float, soak: bool, idle_s: float = 20.0,
                  ttl_hours: float = 0.1, profile_s: float = 0.0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-cost-") as tmpdir:
        tmp = Path(tmpdir)
        entities = make_watchlist(ENTITIES)
        rules_dir = write_rules_dir(tmp / "rules", entities, make_rulepack(RULES, entities))
        bootstrap, kafka = _broker(tmp)
        run = Run(bootstrap, tmp, rules_dir)
        inbox, staging = run.workdir / "inbox", run.workdir / "staging"
        staging.mkdir(parents=True)
        # the dashboard is part of `newsmon run`: measured too, on a port of its own
        run.env |= {"NEWSMON_LOG_LEVEL": "INFO", "NEWSMON_DASHBOARD_PORT": str(_free_port())}
        if soak:  # expiry runs many times within the hour
            run.env |= {"NEWSMON_DEDUP": json.dumps({"ttl_hours": ttl_hours}), "NEWSMON_STORY_TTL_HOURS": str(ttl_hours)}
        try:
            await run.create_topics()
            run.start(["-m", "monitor.cli", "run", "--inbox", str(inbox), "--quiet-alerts"])
            await run.wait_ready()
            broker_pid = kafka.pid() if kafka is not None else None
            if broker_pid is None:
                raise RuntimeError("cost needs the local broker it starts (unset KAFKA_BOOTSTRAP_SERVERS)")
            sampler = Sampler({"daemon": run.proc.pid, "broker": broker_pid})
            t0 = time.monotonic()
            a = sampler.take(t0)
            await asyncio.sleep(idle_s)
            b = sampler.take(t0)
            idle = {"daemon_cpu_pct": Sampler.cpu_percent(a, b, "daemon"),
                    "broker_cpu_pct": Sampler.cpu_percent(a, b, "broker"), "seconds": idle_s}
            phases, state, profile = [], [], None
            for k, rate in enumerate(rates):
                spy = (_attach_profiler(run.proc.pid, min(profile_s, minutes * 60 - 5), run.workdir / "profile.txt")
                       if profile_s and k == 0 else None)
                phases.append(await _phase(run, inbox, staging, rate, minutes, sampler, t0, seed=80 + k,
                                           before_total=sum(p["dropped"] for p in phases)))
                if spy is not None:
                    profile = {"rate_per_s": rate, **_profile_shares(spy, run.workdir / "profile.txt")}
                state.append({"after_rate": rate, "t": time.monotonic() - t0, **await _state_bytes(run)})
            log_text = (run.workdir / "process.log").read_text(errors="replace")
            core_ms = core_cpu_ms_per_article(rules_dir)  # while the broker still runs: the same load
        finally:
            run.stop()
            if kafka is not None:
                kafka.down()
    errors = [ln for ln in log_text.splitlines() if '"level": "error"' in ln or '"level":"error"' in ln]
    return {"idle": idle, "phases": phases, "state": state, "samples": sampler.samples, "profile": profile,
            "core_cpu_ms_per_article": core_ms,
            "error_lines": len(errors), "error_examples": errors[:5]}


def report(res: dict[str, Any], soak: bool) -> dict[str, Any]:
    idle, phases = res["idle"], res["phases"]
    print(table(["rate/s", "min", "daemon CPU %", "broker CPU %", "CPU ms/article daemon/broker",
                 "daemon RSS MB first/last",
                 "drop->output p50/p99 ms", "ingest->alert p50/p99 ms (n)"],
                [["idle", fmt(idle["seconds"] / 60), fmt(idle["daemon_cpu_pct"]), fmt(idle["broker_cpu_pct"]),
                  "", "", "", ""]]
                + [[fmt(p["rate_per_s"]), fmt(p["minutes"]), fmt(p["daemon_cpu_pct"]), fmt(p["broker_cpu_pct"]),
                    f"{fmt(p['daemon_cpu_ms_per_article'])}/{fmt(p['broker_cpu_ms_per_article'])}",
                    f"{p['daemon_rss_mb'][0]:.0f}/{p['daemon_rss_mb'][-1]:.0f}",
                    f"{fmt(p['drop_to_output_ms']['p50'])}/{fmt(p['drop_to_output_ms']['p99'])}",
                    (f"{fmt(p['ingest_to_alert_ms']['p50'])}/{fmt(p['ingest_to_alert_ms']['p99'])} "
                    f"({p['ingest_to_alert_ms']['n']})")] for p in phases],
                f"cost: newsmon run fed through its inbox; CPU as % of the machine ({NPROC} cores)"))
    print(f"error lines in the daemon log: {res['error_lines']}")
    for p in phases:
        if p["outputs"] < p["dropped"]:  # the daemon fell behind: latency is that of a growing queue
            print(f"at {fmt(p['rate_per_s'])}/s only {p['outputs']} of {p['dropped']} articles were out when the "
                  "wait ended: the daemon did not keep up")
    core_ms = res["core_cpu_ms_per_article"]
    for p in phases:
        p["daemon_cpu_per_article_over_core"] = p["daemon_cpu_ms_per_article"] / core_ms
    print(f"Pipeline.process in-process, same run: {fmt(core_ms)} CPU ms/article; daemon/core per article: "
          + ", ".join(f"{fmt(p['daemon_cpu_per_article_over_core'])}x at {fmt(p['rate_per_s'])}/s" for p in phases))
    headline = [[f"daemon / broker CPU % at {fmt(p['rate_per_s'])}/s (ms/article)",
                 (f"{fmt(p['daemon_cpu_pct'])} / {fmt(p['broker_cpu_pct'])} ({fmt(p['daemon_cpu_ms_per_article'])}"
                 f" / {fmt(p['broker_cpu_ms_per_article'])})")] for p in phases]
    headline += [["Pipeline.process CPU ms/article (same run)", fmt(core_ms)]]
    headline += [[f"daemon CPU per article / core's at {fmt(p['rate_per_s'])}/s",
                  f"{fmt(p['daemon_cpu_per_article_over_core'])}x"] for p in phases]
    headline.insert(0, ["idle daemon / broker CPU %", f"{fmt(idle['daemon_cpu_pct'])} / {fmt(idle['broker_cpu_pct'])}"])
    headline += [[f"ingest->alert p50/p99 ms at {fmt(p['rate_per_s'])}/s (articles out/dropped)",
                  (f"{fmt(p['ingest_to_alert_ms']['p50'])}/{fmt(p['ingest_to_alert_ms']['p99'])} "
                  f"({p['outputs']}/{p['dropped']})")] for p in phases]
    goals = [goal("daemon < 2 % of the machine at 5 articles/s", p["daemon_cpu_pct"] < 2,
                  f"{fmt(p['daemon_cpu_pct'])} % (broker {fmt(p['broker_cpu_pct'])} %)", "< 2 %")
             for p in phases if p["rate_per_s"] == 5]
    if soak:  # the phases are consecutive segments at one rate; the first is the warm-up
        st, samples = res["state"], res["samples"]
        rss_slope = _slope_per_hour([(x["t"], x["daemon_rss_mb"]) for x in samples if x["t"] >= st[0]["t"]])
        state_slope = _slope_per_hour([(x["t"], x["bytes"]) for x in st])
        keys_slope = _slope_per_hour([(x["t"], x["keys"]) for x in st])
        p50s = [p["drop_to_output_ms"]["p50"] for p in phases]
        by_table = {name: _slope_per_hour([(x["t"], x["by_table"].get(name, [0, 0])[1]) for x in st])
                    for name in st[-1]["by_table"]}
        res["soak"] = {"daemon_rss_slope_mb_per_h": rss_slope, "state_bytes_slope_per_h": state_slope,
                       "state_keys_slope_per_h": keys_slope, "state_bytes_slope_per_h_by_table": by_table,
                       "segment_p50_ms": p50s,
                       "segment_p99_ms": [p["drop_to_output_ms"]["p99"] for p in phases]}
        print(table(["segment", "p50/p99 drop->output ms", "state keys", "state bytes", "daemon RSS MB"],
                    [[k + 1, f"{fmt(p['drop_to_output_ms']['p50'])}/{fmt(p['drop_to_output_ms']['p99'])}",
                      x["keys"], fmt(x["bytes"]), f"{p['daemon_rss_mb'][-1]:.0f}"]
                     for k, (p, x) in enumerate(zip(phases, st, strict=True))], "soak segments"))
        headline = [["daemon RSS slope after warm-up", f"{fmt(rss_slope)} MB/h"],
                    ["state slope after warm-up", f"{fmt(state_slope)} B/h ({fmt(keys_slope)} keys/h)"],
                    ["state slope by table, B/h", ", ".join(f"{name} {fmt(v)}" for name, v in
                                                             sorted(by_table.items(), key=lambda kv: -abs(kv[1])))],
                    ["p50 drop->output per segment ms", " ".join(fmt(v) for v in p50s)],
                    ["daemon / broker CPU %", (f"{fmt(sum(p['daemon_cpu_pct'] for p in phases) / len(phases))} / "
                     f"{fmt(sum(p['broker_cpu_pct'] for p in phases) / len(phases))}")]]
    headline.append(["error lines in the daemon log", str(res["error_lines"])])
    return {**res, "headline": headline, "goals": goals}


def run(size: Size) -> dict[str, Any]:
    from monitor.log import configure_logging

    configure_logging("WARNING", "console")
    minutes = float(os.environ.get("NEWSMON_BENCH_MINUTES") or (0.5 if size.name == "quick" else 2))
    res = asyncio.run(measure([5.0, 50.0], minutes, soak=False))
    return {"config": {"rates": [5, 50], "minutes": minutes, "entities": ENTITIES, "rules": RULES},
            **report(res, soak=False)}


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.cost [--rates 5 50] [--minutes 10] [--soak]``: writes bench/results/cost.json
    (or soak.json)."""
    from bench.common import DEFAULT
    from monitor.log import configure_logging

    ap = argparse.ArgumentParser(prog="python -m bench.cost")
    ap.add_argument("--rates", type=float, nargs="+", default=[5.0, 50.0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--soak", action="store_true", help="TTLs cut to minutes; writes soak.json")
    ap.add_argument("--profile", type=float, default=0.0, metavar="SECONDS",
                    help="sample the daemon with py-spy for SECONDS of the first rate (pip install py-spy)")
    args = ap.parse_args(argv)
    configure_logging("WARNING", "console")
    started, env = time.perf_counter(), environment()
    rates, minutes, ttl = args.rates, args.minutes, 0.1
    if args.soak:  # six segments at one rate: state and latency are read after each
        rates, minutes = [args.rates[0]] * SOAK_SEGMENTS, args.minutes / SOAK_SEGMENTS
        ttl = min(0.1, args.minutes / 60 / 4)  # expiry runs several times, even in a short proof run
    res = asyncio.run(measure(rates, minutes, soak=args.soak, ttl_hours=ttl, profile_s=args.profile))
    data = {"config": {"rates": rates, "minutes_per_rate": minutes, "entities": ENTITIES, "rules": RULES,
                       "soak": args.soak, "ttl_hours": ttl if args.soak else None}, **report(res, soak=args.soak)}
    path = write_result("soak" if args.soak else "cost", DEFAULT, data, started, env)
    print(f"-> {path} ({RESULTS})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
