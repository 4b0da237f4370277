"""``python -m bench [--quick] [--only NAME]``: run the benchmarks, print a summary.

Each benchmark runs in its own interpreter (``--child NAME``) so its peak RSS
is its own; it prints its tables and writes ``bench/results/<name>.json``.
The parent then prints the headline figures and the goals (met / not met).
Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time

from bench.common import DEFAULT, QUICK, RESULTS, environment, table, write_result

BENCHMARKS = ("dedup", "tagging", "rules", "core", "memory", "e2e", "stories_quality", "story_index", "inbox",
              "cost", "backfill")
SINGLE_THREAD_ENV = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                      "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")}


def _child(name: str, quick: bool) -> int:
    size = QUICK if quick else DEFAULT
    started = time.perf_counter()
    env = environment()
    module = importlib.import_module(f"bench.{name}")
    data = module.run(size)
    path = write_result(name, size, data, started, env)
    rss = json.loads(path.read_text())["peak_rss_mb"]
    print(f"[{name}] {time.perf_counter() - started:.1f} s, peak RSS {rss:.0f} MB -> {path}", flush=True)
    return 0


def _summary(names: list[str], failed: list[str], started: float, quick: bool) -> None:
    headline_rows, goal_rows = [], []
    for name in names:
        path = RESULTS / f"{name}.json"
        if name in failed or not path.exists():
            headline_rows.append([name, "FAILED", ""])
            continue
        res = json.loads(path.read_text())
        first = True
        for label, value in res.get("headline", []):
            headline_rows.append([name if first else "", label, value])
            first = False
        headline_rows.append(["" if not first else name, "peak RSS / runtime",
                              f"{res['peak_rss_mb']:.0f} MB / {res['runtime_s']:.0f} s"])
        for g in res.get("goals", []):
            met = {True: "met", False: "NOT met", None: "n/a"}[g["met"]]
            goal_rows.append([g["goal"], g["measured"], g["target"], met])
    any_res = next((json.loads((RESULTS / f"{n}.json").read_text()) for n in names
                    if (RESULTS / f"{n}.json").exists() and n not in failed), None)
    env = ""
    if any_res:
        m = any_res["machine"]
        env = (f"commit {any_res['commit']}{' (dirty tree)' if any_res.get('dirty') else ''}, "
               f"{any_res['date']}, nproc {m['nproc']}, {m['cpu']}, Python {m['python']}")
    print()
    print("=" * 100)
    print(f"SUMMARY ({'quick' if quick else 'default'} size) - {env}")
    print(table(["benchmark", "figure", "value: median [min-max] over repeats"], headline_rows))
    print()
    print(table(["goal", "measured", "target", "status"], goal_rows))
    print(f"\ntotal runtime {time.perf_counter() - started:.0f} s; results in {RESULTS}/")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes: a ~1 minute smoke run")
    ap.add_argument("--only", choices=BENCHMARKS, action="append",
                    help="run just this benchmark (repeatable)")
    ap.add_argument("--minutes", type=float, help="minutes per rate for `cost` (default 2, quick 0.5)")
    ap.add_argument("--child", choices=BENCHMARKS, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return _child(args.child, args.quick)

    started = time.perf_counter()
    names = list(dict.fromkeys(args.only)) if args.only else list(BENCHMARKS)
    env = {**os.environ, **SINGLE_THREAD_ENV, "PYTHONHASHSEED": "0"}
    if args.minutes:
        env["NEWSMON_BENCH_MINUTES"] = str(args.minutes)
    failed = []
    for name in names:
        print(f"\n### {name}", flush=True)
        cmd = [sys.executable, "-m", "bench", "--child", name] + (["--quick"] if args.quick else [])
        rc = subprocess.run(cmd, env=env, check=False).returncode  # a failed benchmark is reported, the rest go on
        if rc != 0:
            print(f"[{name}] FAILED (exit {rc})", flush=True)
            failed.append(name)
    _summary(names, failed, started, args.quick)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
