"""state_records: changelog records per article by table, and the cost of
rebuilding the in-memory indexes from the stored state.

Every table write is one changelog record the worker produces (the largest
cost after the core, bench/results/worker_profile.json), so the count per
article is the figure to hold down. The indexes derived from the tables
(dedup bands, story postings, article -> story) are rebuilt on the first
article after a restart or a rebalance: their build time for N stored
articles is what that costs.

Same corpus and rules as ``e2e`` (1,000 entities, 100 rules), one article a
second of stream time, TTLs at their defaults (nothing expires).

    python -m bench.state_records [N]      # default 2000
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.corpus import make_corpus, make_rulepack, make_watchlist, write_rules_dir
from bench.e2e import ENTITIES, RULES


def measure(n: int) -> dict[str, Any]:
    from monitor.pipeline import Pipeline
    from monitor.state import STORE_NAMES, CountingStore, StateStores

    with tempfile.TemporaryDirectory(prefix="newsmon-bench-records-") as tmp:
        entities = make_watchlist(ENTITIES)
        rules = write_rules_dir(Path(tmp) / "rules", entities, make_rulepack(RULES, entities))
        stores = StateStores(**{name: CountingStore() for name in STORE_NAMES})
        pipeline = Pipeline.from_rules_dir(rules, stores)
    t0 = datetime(2026, 12, 7, tzinfo=UTC)
    for i, raw in enumerate(make_corpus(n, seed=50).docs):
        pipeline.process(raw, t0 + timedelta(seconds=i))
    per_table = {name: round(getattr(stores, name).writes / n, 2) for name in STORE_NAMES}
    builds = []
    for _ in range(3):
        pipeline.reset_indexes()
        start = time.perf_counter()
        _ = pipeline.dedup.bands, pipeline.stories.postings, pipeline.stories.index
        builds.append(time.perf_counter() - start)
    return {"articles": n, "records_per_article": per_table,
            "records_per_article_total": round(sum(per_table.values()), 2),
            "stored": {name: len(getattr(stores, name)) for name in STORE_NAMES},
            "index_rebuild_s": round(min(builds), 4), "index_rebuild_ms_per_1000_articles":
                round(1000 * min(builds) / n * 1000, 2)}


def main() -> None:
    from monitor.log import configure_logging

    configure_logging("WARNING", "console")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    print(json.dumps(measure(n), indent=2))


if __name__ == "__main__":
    main()
