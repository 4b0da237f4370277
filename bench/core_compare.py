"""core_compare: the core's throughput at several commits, interleaved in one run.

``python -m bench.core_compare [REV ...] [--rounds N] [--articles N]``

On a shared machine a figure measured at another time says little, so this
measures the revisions side by side. Each revision's ``monitor/`` is exported
with ``git archive`` to a temporary directory (``WORKTREE``: this checkout as
it is, uncommitted edits included). One child interpreter per revision
(``PYTHONPATH`` = its tree) reads the same corpus (the ``core`` benchmark's
articles, written once as JSON lines) and rules dir, builds
``Pipeline.from_rules_dir``, warms up on 50 articles and waits. Each round
asks each child in turn for one pass of ``Pipeline.process`` over the corpus
on fresh state (A B C, then C B A, ...). All children are pinned to the same
CPU and only one runs at a time. Figures per revision: articles/s (wall) and
CPU ms/article (``time.process_time``, less sensitive to other load), and
ratios to every other revision, taken round by round (same minute) and
summarised by their median. Writes ``bench/results/core_compare.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import DEFAULT, REPO, environment, spread, summary, table, write_result
from bench.core import ENTITIES, RULES
from bench.corpus import make_corpus, make_rulepack, make_watchlist, write_rules_dir

DEFAULT_REVS = ("9594696", "177c7d9", "WORKTREE")
WARMUP = 50

_CHILD = """
import gc, json, os, sys, time
os.sched_setaffinity(0, {int(sys.argv[3])})
import monitor
from monitor.models import RawArticle
from monitor.pipeline import Pipeline
raws = [RawArticle.model_validate_json(line) for line in open(sys.argv[1])]
proto = Pipeline.from_rules_dir(sys.argv[2])
fresh = lambda: Pipeline(proto.tagger, proto.engine.ruleset)
p = fresh()
for raw in raws[:int(sys.argv[4])]:
    p.process(raw, raw.published)
print(json.dumps({"ready": monitor.__file__}), flush=True)
for _ in sys.stdin:
    p = fresh()
    gc.collect()
    w, c = time.perf_counter(), time.process_time()
    dups = sum(1 for raw in raws if p.process(raw, raw.published).article.duplicate_of)
    print(json.dumps({"wall": time.perf_counter() - w, "cpu": time.process_time() - c, "dups": dups}), flush=True)
"""


def _export(rev: str, into: Path) -> Path:
    """``monitor/`` of ``rev`` under ``into/rev``; the checkout itself for WORKTREE."""
    if rev == "WORKTREE":
        return REPO
    tree = into / rev
    tree.mkdir()
    archive = subprocess.run(["git", "archive", "--format=tar", rev, "monitor"], cwd=REPO,
                             capture_output=True, check=True).stdout
    tar_path = into / f"{rev}.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(tree, filter="data")
    return tree


def _label(rev: str) -> str:
    """The revision, or for WORKTREE the checkout's commit, "+dirty" when monitor/ has edits."""
    if rev != "WORKTREE":
        return rev
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()

    head, dirty = git("rev-parse", "--short", "HEAD"), git("status", "--porcelain", "--", "monitor")
    return f"{head}{'+dirty' if dirty else ''} (worktree)"


def compare(revs: list[str], rounds: int, articles: int) -> dict[str, Any]:
    cpu = max(os.sched_getaffinity(0))
    corpus = make_corpus(articles, seed=4)
    with tempfile.TemporaryDirectory(prefix="newsmon-core-compare-") as tmp_name:
        tmp = Path(tmp_name)
        entities = make_watchlist(ENTITIES)
        write_rules_dir(tmp / "rules", entities, make_rulepack(RULES, entities))
        corpus_path = tmp / "corpus.jsonl"
        corpus_path.write_text("".join(raw.model_dump_json() + "\n" for raw in corpus.docs))
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        children = {}
        labels = {rev: _label(rev) for rev in revs}  # before the run: later edits are not measured
        for rev in revs:
            tree = _export(rev, tmp)
            children[rev] = subprocess.Popen(
                [sys.executable, "-c", _CHILD, str(corpus_path), str(tmp / "rules"), str(cpu), str(WARMUP)],
                cwd=tmp, env={**env, "PYTHONPATH": str(tree)}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                text=True)
        try:
            for rev, child in children.items():  # setup runs in parallel; one timed pass at a time below
                ready = json.loads(child.stdout.readline() or "{}")
                if not str(ready.get("ready", "")).startswith(str(_export_root(rev, tmp))):
                    raise RuntimeError(f"{rev}: child imported {ready.get('ready')}")
            passes: dict[str, list[dict[str, float]]] = {rev: [] for rev in revs}
            for r in range(rounds):
                for rev in (revs if r % 2 == 0 else revs[::-1]):
                    child = children[rev]
                    child.stdin.write("run\n")
                    child.stdin.flush()
                    passes[rev].append(json.loads(child.stdout.readline()))
                    last = passes[rev][-1]
                    print(f"  round {r + 1}/{rounds} {labels[rev]:>24}: {articles / last['wall']:7.1f} articles/s, "
                          f"{last['cpu'] / articles * 1e3:.2f} CPU ms/article", flush=True)
        finally:
            for child in children.values():
                child.stdin.close()
                child.wait(timeout=60)
    return _figures(revs, labels, passes, articles, cpu)


def _export_root(rev: str, tmp: Path) -> Path:
    return REPO if rev == "WORKTREE" else tmp / rev


def _figures(revs: list[str], labels: dict[str, str], passes: dict[str, list[dict[str, float]]], n: int,
             cpu: int) -> dict[str, Any]:
    rate = {rev: summary([n / p["wall"] for p in passes[rev]]) for rev in revs}
    cpu_ms = {rev: summary([p["cpu"] / n * 1e3 for p in passes[rev]]) for rev in revs}
    # ratio of rates within each round, then the median over rounds
    ratios = {f"{a}/{b}": {"wall": statistics.median(pb["wall"] / pa["wall"] for pa, pb in zip(passes[a], passes[b], strict=True)),
                           "cpu": statistics.median(pb["cpu"] / pa["cpu"] for pa, pb in zip(passes[a], passes[b], strict=True))}
              for a in revs for b in revs if a != b}
    print(table(["revision", "articles/s median [min-max]", "CPU ms/article"] + [f"x {labels[b]}" for b in revs],
                [[labels[a], spread(rate[a]), spread(cpu_ms[a])]
                 + ["-" if a == b else f"{ratios[f'{a}/{b}']['wall']:.2f} ({ratios[f'{a}/{b}']['cpu']:.2f} CPU)"
                    for b in revs] for a in revs],
                f"core_compare: {n} articles, {len(passes[revs[0]])} interleaved rounds, pinned to CPU {cpu}; "
                "ratio = row's rate / column's rate, median over rounds (wall; CPU time in brackets)"))
    return {"revisions": labels, "articles": n, "pinned_cpu": cpu, "throughput_articles_per_s": rate,
            "cpu_ms_per_article": cpu_ms, "ratios": ratios,
            "duplicates_per_pass": {rev: passes[rev][0]["dups"] for rev in revs},
            "headline": [[f"{labels[rev]} articles/s", spread(rate[rev])] for rev in revs]
            + [[f"{labels[a]} / {labels[b]}", f"{ratios[f'{a}/{b}']['wall']:.2f} (CPU {ratios[f'{a}/{b}']['cpu']:.2f})"]
               for a in revs for b in revs if a != b and revs.index(a) > revs.index(b)]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.core_compare", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("revs", nargs="*", default=list(DEFAULT_REVS),
                    help="git revisions, WORKTREE for this checkout (default: %(default)s)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--articles", type=int, default=DEFAULT.core_articles)
    args = ap.parse_args(argv)
    started, env = time.perf_counter(), environment()
    data = compare(args.revs, args.rounds, args.articles)
    path = write_result("core_compare", DEFAULT, data, started, env)
    print(f"[core_compare] {time.perf_counter() - started:.0f} s -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
