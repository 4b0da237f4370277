"""inbox: files dropped at once into the inbox of a watcher on a real broker.

The user's case of issue 16: an archive of 10,000 article files (plus 100
large ones) lands in the inbox. The watcher runs in this process with a real
producer on a local broker (``$KAFKA_BOOTSTRAP_SERVERS``, or one started on a
free port). Files are written to a staging directory first and then renamed
into the inbox one after the other (the "drop"), so writing them is not timed.
Timed: from the first rename until the last file was acknowledged and moved
to ``processed/``. Figures: files/s, MB/s, time to empty the inbox.

Same run, same broker: the watcher before issue 16 (``monitor/watch/files.py``
at ``6bd8772``, read from git), which settles one file at a time, on a small
drop (it does about 3 files/s: 10,000 files would take most of an hour), and
the new watcher in ledger mode. Both use settle_seconds = 0.3, the default.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import REPO, Size, fmt, goal, summary, table
from bench.corpus import make_corpus
from bench.e2e import _broker

BEFORE_COMMIT = "6bd8772"
LARGE_BYTES = 1024 * 1024
SETTLE = 0.3


def _old_watcher_class(tmp: Path):
    """InboxWatcher as it was before issue 16, from git."""
    source = subprocess.run(["git", "show", f"{BEFORE_COMMIT}:monitor/watch/files.py"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout
    path = tmp / "files_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("bench_inbox_files_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.InboxWatcher


def _stage(staging: Path, small: int, large: int, seed: int) -> tuple[list[Path], int]:
    """Small files: one corpus article as JSON each; large: ~1 MB of plain text each."""
    staging.mkdir(parents=True)
    docs = make_corpus(max(small, 1), seed=seed).docs
    paths, total = [], 0
    for i in range(small):
        doc = docs[i % len(docs)]
        data = doc.model_dump_json(include={"title", "content", "url", "source"}).replace(
            '"content":"', f'"content":"[{i}] ', 1).encode()
        paths.append(staging / f"small-{i:05d}.json")
        paths[-1].write_bytes(data)
        total += len(data)
    text = "\n\n".join(d.content for d in docs[:50])
    for i in range(large):
        body = (f"[large {i}] " + text * (LARGE_BYTES // max(1, len(text)) + 1))[:LARGE_BYTES]
        paths.append(staging / f"large-{i:03d}.txt")
        paths[-1].write_text(body)
        total += len(body.encode())
    return paths, total


async def _drop(kind: str, bootstrap: str, tmp: Path, small: int, large: int, seed: int) -> dict[str, Any]:
    from monitor.kafka.producer import Publisher
    from monitor.watch.files import InboxWatcher

    work = tmp / f"{kind}-{uuid.uuid4().hex[:6]}"
    inbox = work / "inbox"
    inbox.mkdir(parents=True)
    paths, total_bytes = _stage(work / "staging", small, large, seed)
    cls = _old_watcher_class(work) if kind == "before" else InboxWatcher
    ledger = work / "ledger.jsonl" if kind == "ledger" else None
    publisher = Publisher(bootstrap)
    await publisher.start()
    watcher = cls([inbox], publisher, f"bench-{uuid.uuid4().hex[:8]}.news.raw", settle_seconds=SETTLE,
                  ledger=ledger)
    task = asyncio.create_task(watcher.run())
    await asyncio.sleep(1.0)  # watching
    n = len(paths)
    try:
        t0 = time.monotonic()
        for p in paths:
            os.rename(p, inbox / p.name)
        dropped = time.monotonic() - t0
        deadline = t0 + 60 + n * 2
        while watcher.counts["published"] + watcher.counts["rejected"] < n and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        elapsed = time.monotonic() - t0
    finally:
        watcher.stop()
        await asyncio.wait_for(task, 120)
        await publisher.stop()
    left = [e.name for e in os.scandir(inbox) if e.is_file()]
    done = watcher.counts["published"]
    if done < n or watcher.counts["rejected"] or (ledger is None and left):
        raise RuntimeError(f"{kind}: {done} of {n} published, {watcher.counts['rejected']} rejected, "
                           f"{len(left)} left in the inbox")
    shutil.rmtree(work, ignore_errors=True)
    return {"kind": kind, "small": small, "large": large, "files": n, "bytes": total_bytes,
            "drop_s": dropped, "empty_s": elapsed, "files_per_s": n / elapsed,
            "mb_per_s": total_bytes / elapsed / 2**20}


def run(size: Size) -> dict[str, Any]:
    from monitor.log import configure_logging

    configure_logging("WARNING", "console")
    quick = size.name == "quick"
    small, large = (1000, 10) if quick else (10_000, 100)
    before_small, before_large = (20, 1) if quick else (60, 2)
    ledger_small = 500 if quick else 2000
    repeats = 1 if quick else 2
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-inbox-") as tmpdir:
        tmp = Path(tmpdir)
        bootstrap, kafka = _broker(tmp)
        try:
            for r in range(repeats):  # interleaved, so drift hits each alike
                runs.append(asyncio.run(_drop("before", bootstrap, tmp, before_small, before_large, 90 + r)))
                runs.append(asyncio.run(_drop("after", bootstrap, tmp, small, large, 90 + r)))
                runs.append(asyncio.run(_drop("ledger", bootstrap, tmp, ledger_small, 0, 90 + r)))
        finally:
            if kafka is not None:
                kafka.down()

    by_kind = {k: [x for x in runs if x["kind"] == k] for k in ("before", "after", "ledger")}
    rate = {k: summary([x["files_per_s"] for x in v]) for k, v in by_kind.items()}
    empty = {k: summary([x["empty_s"] for x in v]) for k, v in by_kind.items()}
    mbs = {k: summary([x["mb_per_s"] for x in v]) for k, v in by_kind.items()}
    ratio = rate["after"]["median"] / rate["before"]["median"]
    labels = {"before": f"before ({BEFORE_COMMIT}), {before_small} small + {before_large} large",
              "after": f"after, {small:,} small + {large} large",
              "ledger": f"after, ledger mode, {ledger_small:,} small"}
    print(table(["watcher, drop", "files/s", "MB/s", "time to empty s"],
                [[labels[k], fmt(rate[k]["median"]), fmt(mbs[k]["median"]), fmt(empty[k]["median"])]
                 for k in by_kind],
                f"inbox: files renamed into a watched inbox at once, settle {SETTLE} s, {repeats} repeat(s), "
                "real broker"))
    print(f"ratio after/before files/s: {ratio:.0f}x")
    return {
        "config": {"small": small, "large": large, "large_bytes": LARGE_BYTES, "before_small": before_small,
                   "before_large": before_large, "ledger_small": ledger_small, "settle_seconds": SETTLE,
                   "repeats": repeats, "before_commit": BEFORE_COMMIT},
        "runs": runs, "files_per_s": rate, "empty_s": empty, "mb_per_s": mbs, "ratio_after_before": ratio,
        "headline": [
            [f"files/s, {small:,} small + {large} large (after)",
             f"{fmt(rate['after']['median'])} [{fmt(rate['after']['min'])}-{fmt(rate['after']['max'])}]"],
            ["time to empty the inbox (after)", f"{fmt(empty['after']['median'])} s"],
            [f"files/s before ({BEFORE_COMMIT}, {before_small + before_large} files)",
             fmt(rate["before"]["median"])],
            ["ratio after/before", f"{ratio:.0f}x"],
            [f"files/s ledger mode ({ledger_small:,} small)", fmt(rate["ledger"]["median"])],
        ],
        "goals": [goal(">= 500 small files/s through the inbox", rate["after"]["median"] >= 500,
                       f"{fmt(rate['after']['median'])} files/s", ">= 500 files/s")],
    }
