"""worker_profile: where one `newsmon worker`'s CPU goes under load.

The worker (``python -m monitor.cli worker``, same rules as ``e2e``) is started
under py-spy (``py-spy record --format raw``, a sampling profiler outside the
process, so the worker runs unmodified) on a fresh topic prefix of a local
broker. Once it is ready, N raw articles are produced as fast as the producer
goes; when all N are out on news.articles/news.duplicates the worker is
stopped and py-spy writes its collapsed stacks. Each sample is put in one
bucket by the first frame (from the leaf up) that names it: core stages,
JSON + pydantic of the two hops, table (changelog) writes, logging,
faust/aiokafka/asyncio, start-up (imports). Not in ``python -m bench``: it
needs py-spy (``pip install py-spy``) and takes a few minutes.

    python -m bench.worker_profile [N]      # default 2000
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import REPO
from bench.corpus import make_corpus, make_rulepack, make_watchlist, write_rules_dir
from bench.e2e import ENTITIES, RULES, Run, _broker, _collect, _produce, _rate

RESULT = REPO / "bench" / "results" / "worker_profile.json"
RAW_COPY = Path(tempfile.gettempdir()) / "worker_profile_raw.txt"

# (bucket, substrings of a frame "function (file:line)"); the leaf-most frame matching any wins,
# except START, checked on the whole stack first
START = ("_find_and_load", "create_app (monitor/worker/app", "_call_with_frames_removed", "Pipeline.reload",
         "from_rules_dir")
BUCKETS: list[tuple[str, tuple[str, ...]]] = [
    ("logging", ("monitor/log", "logging/__init__")),
    ("core: normalize", ("monitor/enrich/normal", "monitor/normal")),
    ("core: dedup", ("monitor/enrich/dedup",)),
    ("core: tag", ("monitor/enrich/",)),
    ("core: stories", ("monitor/stories",)),
    ("core: rules", ("monitor/rules",)),
    ("core: other", ("monitor/pipeline", "monitor/models", "monitor/state")),
    ("worker glue (agents, metrics)", ("monitor/worker", "prometheus_client")),
    ("inbox watcher (newsmon run)", ("monitor/watch", "charset_normalizer")),
    ("dashboard (newsmon run)", ("monitor/dashboard", "aiohttp/", "jinja2")),
    ("alert printer, sinks (newsmon run)", ("monitor/sinks", "monitor/alerts", "monitor/cli")),
    ("faust/aiokafka/asyncio", ("faust/", "aiokafka/", "mode/", "asyncio/", "kafka/", "selectors", "ssl")),
]


def classify(stack: str) -> str:
    frames = stack.split(";")
    if not stack or frames[-1].startswith("EpollSelector.select") or any("WorkerThread.run (anyio" in f for f in frames):
        return "idle (epoll wait, rules-dir watcher thread)"
    if any(s in f for f in frames for s in START):
        return "start-up (imports, rule loading)"
    if any("structlog/" in f for f in frames):
        return "logging"
    if any("faust/tables/" in f or "faust/stores/" in f for f in frames):
        return "state tables (faust Table get/set, changelog sends)"
    # pydantic calls are leafs below our frames: look at the leaf-most frame of our code for json
    for frame in reversed(frames):
        if "model_validate_json" in frame or "model_dump_json" in frame:
            caller = frames[frames.index(frame) - 1] if frames.index(frame) else ""
            if "decide (monitor/worker/agents" in caller:
                return "json+pydantic: parse PreparedArticle"
            if "prepare (monitor/worker/agents" in caller and "validate" in frame:
                return "json+pydantic: parse RawArticle"
            if "prepare (monitor/worker/agents" in caller:
                return "json+pydantic: dump PreparedArticle"
            return "json+pydantic: dump outputs"
    for frame in reversed(frames):
        for bucket, needles in BUCKETS:
            if any(n in frame for n in needles):
                if bucket == "core: dedup":  # one module: fingerprint in prepare, lookup in decide
                    return bucket + (" fingerprint" if "Pipeline.prepare" in stack else " lookup")
                return bucket
    return "other (python runtime)"


# the faust/aiokafka/asyncio bucket split by the first of these frames on the stack
FAUST_PARTS = [
    ("aiokafka producer: produce requests, socket writes", ("aiokafka/producer/sender",)),
    ("faust producer buffer (changelog and topic sends, flushed at commit)", ("ProducerBuffer", "faust/topics", "Producer.send")),
    ("consumer commits", ("_commit_handler", "Consumer.commit", "_commit")),
    ("consumer fetch, stream iteration", ("Fetcher", "aiokafka/consumer", "faust/streams", "on_message",
                                          "faust/transport/consumer")),
    ("protocol decode, connection reads", ("aiokafka/conn", "aiokafka/protocol")),
]


def faust_part(stack: str) -> str:
    for part, needles in FAUST_PARTS:
        if any(n in stack for n in needles):
            return part
    return "event loop, timers, other"


def parse_raw(path: Path) -> tuple[Counter, Counter]:
    buckets: Counter = Counter()
    faust_parts: Counter = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack:
            bucket = classify(stack)
            buckets[bucket] += int(count)
            if bucket.startswith("faust"):
                faust_parts[faust_part(stack)] += int(count)
    return buckets, faust_parts


def busy_shares(buckets: Counter, faust_parts: Counter) -> tuple[dict[str, float], dict[str, float]]:
    """Each part's share of the busy samples (start-up and idle waits left
    out), largest first; and the faust/aiokafka parts' shares of the same total."""
    busy = {k: v for k, v in buckets.items() if not k.startswith(("start-up", "idle"))}
    total = sum(busy.values()) or 1

    def ranked(counts: dict[str, int]) -> dict[str, float]:
        return {k: round(v / total, 4) for k, v in sorted(counts.items(), key=lambda kv: -kv[1])}

    return ranked(busy), ranked(dict(faust_parts))


async def _profile(n: int, tmp: Path, rate_hz: int) -> dict[str, Any]:
    entities = make_watchlist(ENTITIES)
    rules_dir = write_rules_dir(tmp / "rules", entities, make_rulepack(RULES, entities))
    bootstrap, kafka = _broker(tmp)
    raw_out = tmp / "profile.txt"
    try:
        run = Run(bootstrap, tmp, rules_dir)
        await run.create_topics()
        pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        run.proc = subprocess.Popen([pyspy, "record", "--format", "raw", "-r", str(rate_hz), "-o", str(raw_out),
                                     "--", sys.executable, "-m", "monitor.cli", "worker"],
                                    env=run.env, cwd=REPO, stdout=(run.workdir / "process.log").open("wb"),
                                    stderr=subprocess.STDOUT, start_new_session=True)
        await run.wait_ready()
        raws = make_corpus(n, seed=50).docs
        t0, cpu0 = time.time(), _cpu_of_tree(run.proc.pid)
        await _produce(bootstrap, run.topic("news.raw"), raws)
        records = await _collect(bootstrap, [run.topic("news.articles"), run.topic("news.duplicates")],
                                 lambda r: len(r) >= n, timeout=60 + n / 5)
        wall, cpu = time.time() - t0, _cpu_of_tree(run.proc.pid) - cpu0
        worker_pid = _worker_pid(run.proc.pid)
        if worker_pid:  # py-spy writes its file when the profiled process exits
            subprocess.run(["kill", "-TERM", str(worker_pid)], check=False)
        run.proc.wait(60)
    finally:
        run.stop()
        if kafka is not None:
            kafka.down()
    shutil.copy(raw_out, RAW_COPY)  # the collapsed stacks, for a closer look
    buckets, faust_parts = parse_raw(raw_out)
    stacks = raw_out.read_text()
    return {"articles": len(records), "rate_per_s": _rate(records), "wall_s": wall,
            "worker_cpu_s": cpu, "cpu_ms_per_article": 1000 * cpu / max(1, len(records)),
            "samples": dict(buckets), "faust_samples": dict(faust_parts), "sample_rate_hz": rate_hz, "raw_stacks_bytes": len(stacks)}


def _descendants(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False).stdout.split()
    kids = [int(p) for p in out]
    return kids + [g for k in kids for g in _descendants(k)]


def _worker_pid(pid: int) -> int | None:
    for p in _descendants(pid):
        try:
            cmd = Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"monitor.cli" in cmd and b"record" not in cmd:
            return p
    return None


def _cpu_of_tree(pid: int) -> float:
    """CPU seconds (user+sys) of the worker process alone (not py-spy)."""
    wp = _worker_pid(pid)
    if not wp:
        return 0.0
    fields = Path(f"/proc/{wp}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    from monitor.log import configure_logging

    configure_logging("WARNING", "console")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-profile-") as tmpdir:
        res = asyncio.run(_profile(n, Path(tmpdir), 100))
    res["shares_excluding_startup"], res["faust_shares_of_all"] = busy_shares(Counter(res["samples"]),
                                                                              Counter(res["faust_samples"]))
    res["command"] = f"python -m bench.worker_profile {n}"
    RESULT.write_text(json.dumps(res, indent=2) + "\n")
    print(f"{res['articles']} articles, {res['rate_per_s']:.1f}/s, worker {res['cpu_ms_per_article']:.1f} CPU ms/article")
    for k, share in res["shares_excluding_startup"].items():
        print(f"  {share * 100:5.1f} %  {k}")
    for k, share in res["faust_shares_of_all"].items():
        print(f"     of which {share * 100:5.1f} %  {k}")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    main()
