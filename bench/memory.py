"""memory: how state and resident memory grow with the articles processed.

Setup as in ``core`` (1,000 entities, 100 rules), but the stores are plain
dicts holding the same plain JSON data as the worker's in-memory faust
tables; at each checkpoint every value is serialised as the changelog stores
it, and those bytes are what the state costs. The TTLs of dedup and stories,
and the retention of rule groups, are switched off, so every article stays
indexed: the state of 1M articles is what a worker holds if 1M arrive within
the TTLs (three to four days of the world's output), the worst case for
memory. The story window stays at its default, so the time per article stays
that of a normal stream (1,000 articles a day). At five checkpoints it
records each store's bytes and keys and the process's current RSS; a
least-squares line through the checkpoints gives the cost per article and
the figures at 100k and 1M articles. Time is reported but is not the point
here (see ``core``).
"""

from __future__ import annotations

import gc
import json
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import Size, pin_one_core, table
from bench.corpus import make_corpus, make_rulepack, make_watchlist, write_rules_dir

ENTITIES = 1000
RULES = 100
PER_DAY = 1_000
FOREVER = timedelta(days=36_500)
CHECKPOINTS = 5


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def serialised_bytes(store: dict[str, Any]) -> int:
    """Keys and values as the changelog holds them (compact JSON, like JsonStore.nbytes)."""
    return sum(len(k) + len(json.dumps(v, separators=(",", ":"))) for k, v in store.items())


def _fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares slope and intercept."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=False)) / sxx if sxx else 0.0
    return slope, my - slope * mx


def run(size: Size) -> dict[str, Any]:
    from monitor.enrich.dedup import DedupConfig
    from monitor.pipeline import Pipeline
    from monitor.state import STORE_NAMES, StateStores

    pin_one_core()
    n = size.memory_articles
    corpus = make_corpus(n, seed=5, per_day=PER_DAY)
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-memory-") as tmp:
        entities = make_watchlist(ENTITIES)
        write_rules_dir(tmp, entities, make_rulepack(RULES, entities))
        stores = StateStores()
        pipeline = Pipeline.from_rules_dir(tmp, stores, DedupConfig(ttl=FOREVER))
    pipeline.stories.config = pipeline.stories.config.model_copy(
        update={"ttl_hours": FOREVER.total_seconds() / 3600})
    pipeline.engine.story_group_retention = FOREVER
    raws = corpus.docs
    gc.collect()
    base_rss = current_rss_mb()  # corpus, rules and code loaded, no state yet
    every = max(1, n // CHECKPOINTS)
    points: list[dict[str, Any]] = []
    started = time.perf_counter()
    for i, raw in enumerate(raws, 1):
        pipeline.process(raw, raw.published)
        if i % every == 0 or i == n:
            gc.collect()
            store_bytes = {name: serialised_bytes(getattr(stores, name)) for name in STORE_NAMES}
            points.append({
                "articles": i, "elapsed_s": round(time.perf_counter() - started, 2),
                "rss_mb": round(current_rss_mb(), 1),
                "state_bytes": store_bytes, "keys": {name: len(getattr(stores, name)) for name in STORE_NAMES},
            })
            print(f"  {i:>7,} articles  {points[-1]['elapsed_s']:>7.1f} s  RSS {points[-1]['rss_mb']:>6.0f} MB  "
                  f"state {sum(store_bytes.values()) / 2**20:>6.1f} MB", flush=True)

    xs = [p["articles"] for p in points]
    per_article = {name: _fit(xs, [p["state_bytes"][name] for p in points])[0] for name in STORE_NAMES}
    dedup_names = [k for k in STORE_NAMES if k.startswith("dedup_")]
    story_names = [k for k in STORE_NAMES if k.startswith("stor")]
    dedup_b = sum(per_article[k] for k in dedup_names)
    story_b = sum(per_article[k] for k in story_names)
    total_b = sum(per_article.values())
    rss_slope, rss_at0 = _fit(xs, [p["rss_mb"] for p in points])
    rss_100k = rss_at0 + rss_slope * 100_000
    rate = n / points[-1]["elapsed_s"]

    rows = [[name, f"{per_article[name]:,.0f}", f"{per_article[name] * 1e6 / 2**30:,.2f}",
             f"{points[-1]['keys'][name]:,}"] for name in STORE_NAMES]
    rows.append(["total", f"{total_b:,.0f}", f"{total_b * 1e6 / 2**30:,.2f}", ""])
    print(table(["store", "bytes / article", "GiB at 1M", f"keys after {n:,}"], rows,
                title=f"state growth over {n:,} articles (TTLs off: nothing expires)"))
    print(f"process RSS: {base_rss:.0f} MB before, {points[-1]['rss_mb']:.0f} MB after {n:,}; "
          f"{rss_slope * 1000:.2f} MB per 1,000 articles -> {rss_100k:.0f} MB at 100k (fitted); "
          f"{rate:.0f} articles/s")

    return {
        "articles": n, "per_day": PER_DAY, "checkpoints": points, "base_rss_mb": base_rss,
        # per store, then sums (named apart: "stories" is the store of story profiles)
        "bytes_per_article": {**per_article, "dedup_total": dedup_b, "stories_total": story_b, "total": total_b},
        "at_1m_gib": {"dedup": dedup_b * 1e6 / 2**30, "stories": story_b * 1e6 / 2**30,
                      "total": total_b * 1e6 / 2**30},
        "rss_mb_per_1000": rss_slope * 1000, "rss_mb_at_100k_fitted": rss_100k, "articles_per_s": rate,
        "headline": [
            ["state per article", (f"{total_b:,.0f} B (dedup {dedup_b:,.0f}, stories {story_b:,.0f}, "
                                  f"rules {per_article['rules']:,.0f})")],
            ["story state per article", f"{story_b:,.0f} B (" + ", ".join(
                f"{k} {per_article[k]:,.0f}" for k in story_names) + ")"],
            ["state at 1M articles", (f"{total_b * 1e6 / 2**30:.2f} GiB (dedup {dedup_b * 1e6 / 2**30:.2f}, "
                                     f"stories {story_b * 1e6 / 2**30:.2f})")],
            ["process RSS", f"{points[-1]['rss_mb']:.0f} MB after {n:,}; {rss_100k:.0f} MB at 100k (fitted)"],
        ],
    }
