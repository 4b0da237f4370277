"""Shared helpers: sizes, timing statistics, tables, result files, machine info."""

from __future__ import annotations

import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Size:
    """Workload sizes; ``quick`` is the ~1 minute smoke run."""

    name: str
    repeats: int
    dedup_docs: int
    tag_articles: int
    naive_articles: dict[int, int]  # watchlist size -> articles for the regex baseline
    naive_repeats: int
    rule_articles: int
    core_articles: int
    core_profile_articles: int
    e2e_articles: int
    e2e_latency_seconds: int
    memory_articles: int


DEFAULT = Size("default", repeats=5, dedup_docs=5000, tag_articles=300,
               naive_articles={10: 30, 1000: 8, 10000: 3}, naive_repeats=3,
               rule_articles=400, core_articles=2000, core_profile_articles=600,
               e2e_articles=1000, e2e_latency_seconds=10, memory_articles=10000)
QUICK = Size("quick", repeats=2, dedup_docs=1000, tag_articles=60,
             naive_articles={10: 5, 1000: 2, 10000: 1}, naive_repeats=1,
             rule_articles=100, core_articles=300, core_profile_articles=150,
             e2e_articles=300, e2e_latency_seconds=5, memory_articles=1000)


# ------------------------------------------------------------------ timing


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall time of one call, after a full collection (GC stays enabled)."""
    gc.collect()
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def summary(values: Sequence[float]) -> dict[str, Any]:
    """Median and spread of repeated measurements (raw values kept)."""
    v = sorted(values)
    if len(v) >= 4:
        q = statistics.quantiles(v, n=4)
        iqr = [q[0], q[2]]
    else:
        iqr = [v[0], v[-1]]
    return {"median": statistics.median(v), "min": v[0], "max": v[-1], "iqr": iqr, "n": len(v),
            "values": list(values)}


def fmt(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "-"
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def spread(s: dict[str, Any], scale: float = 1.0) -> str:
    """'median [min-max]' of a summary(), scaled (e.g. seconds -> ms)."""
    return f"{fmt(s['median'] * scale)} [{fmt(s['min'] * scale)}-{fmt(s['max'] * scale)}]"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    if title:
        lines.append(title)
    for k, r in enumerate(cells):
        lines.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


# ------------------------------------------------------------------ environment


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 if sys.platform != "darwin" else rss / 2**20


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def environment() -> dict[str, Any]:
    try:
        # GNU nproc honours OMP_NUM_THREADS, which the harness sets to 1 for the children
        env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OMP_THREAD_LIMIT")}
        nproc = int(subprocess.run(["nproc"], capture_output=True, text=True, check=True, env=env).stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        nproc = os.cpu_count()
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": _git("rev-parse", "--short", "HEAD"),
        "dirty": bool(status) if status is not None else None,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "nproc": nproc, "cpu": _cpu_model(), "platform": platform.platform(),
            "python": platform.python_version(),
            "affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        },
    }


def pin_one_core() -> int | None:
    """Pin this (single-threaded) process to one CPU; returns it, or None."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    cpu = cpus[-1]
    os.sched_setaffinity(0, {cpu})
    return cpu


def write_result(name: str, size: Size, data: dict[str, Any], started: float,
                 env: dict[str, Any] | None = None) -> Path:
    """``bench/results/<name>.json``; ``env``: environment() taken before the
    run (a benchmark may pin itself to one CPU, which nproc would then report)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"benchmark": name, **(env or environment()), "size": asdict(size),
           "runtime_s": round(time.perf_counter() - started, 2),
           "peak_rss_mb": round(peak_rss_mb(), 1), **data}
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(out, indent=2, default=_json_default) + "\n")
    tmp.replace(path)
    return path


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    return str(o)


def goal(name: str, met: bool | None, measured: str, target: str) -> dict[str, Any]:
    return {"goal": name, "met": met, "measured": measured, "target": target}
