"""story_index: story assignment cost versus live stories, and core throughput before/after.

1. Index cost: ``StoryClusterer.assign`` per article with 1,000 and with
   50,000 live stories (10,000 in ``--quick``), same run, same clusterer (the
   state grows from one size to the next). Stories are synthetic events, each
   with its own rare names and words, plus a pool of 50 "leaders" and common
   words shared across events (the keys a scan-free index must cope with:
   capped posting lists). Probes: half new reports of live events, half new
   events. Also the table writes per article (every write is a changelog
   record in the daemon), counted by wrapping the stores.
2. Core: ``Pipeline.process`` over the ``core`` benchmark's corpus and rules,
   with the new clusterer and with the one before issue 13
   (``monitor/enrich/stories.py`` at BEFORE_REV, read from git), alternating,
   same run. Figures are ratios; nothing is asserted on time.
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import time
import types
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import REPO, Size, fmt, goal, pin_one_core, summary, table, timed

BEFORE_REV = "9594696"  # the last commit before issue 13's story work
T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
LEADERS = 50
PROBES = 400


def _word(rng: random.Random) -> str:
    return "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(2, 4)))


class Events:
    """Synthetic events and reports of them (deterministic)."""

    def __init__(self, seed: int = 3) -> None:
        self.rng = random.Random(seed)
        self.common = [_word(self.rng) for _ in range(400)]
        self.leaders = [f"{_word(self.rng).title()} {_word(self.rng).title()}" for _ in range(LEADERS)]
        self.events: list[tuple[list[str], list[str]]] = []

    def new_event(self) -> int:
        r = self.rng
        names = [f"{_word(r).title()} {_word(r).title()}" for _ in range(3)] + r.sample(self.leaders, 1)
        words = [_word(r) for _ in range(12)]
        self.events.append((names, words))
        return len(self.events) - 1

    def report(self, event: int, aid: str, t: datetime) -> Any:
        from monitor.models import Article, NameTag

        r = self.rng
        names, words = self.events[event]
        body = r.sample(words, 8) + r.choices(self.common, k=40)
        r.shuffle(body)
        shown = names[:2] + r.sample(names[2:], 1) + (r.sample(self.leaders, 1) if r.random() < 0.3 else [])
        text = " ".join(body) + ". " + ", ".join(shown) + "."
        tags = [NameTag(key=n.lower(), name=n, kind="person", count=r.randint(1, 3), in_headline=k == 0)
                for k, n in enumerate(shown)]
        return Article(id=aid, source=f"s{r.randint(0, 30)}", title=f"{shown[0]} {words[0]} {words[1]}",
                       text=text, paragraphs=[text], names=tags, published=t, ingested_at=t)


def _stores() -> Any:
    from monitor.state import STORE_NAMES, CountingStore, StateStores

    return StateStores(**{name: CountingStore() for name in STORE_NAMES})


def _probe(clusterer: Any, stores: Any, gen: Events, live: int, t: datetime, tag: str) -> dict[str, Any]:
    from monitor.state import STORE_NAMES

    rng = random.Random(live)
    arts = []
    for i in range(PROBES):
        event = rng.randrange(len(gen.events)) if i % 2 else gen.new_event()
        arts.append(gen.report(event, f"{tag}-{i}", t))
    names = [n for n in STORE_NAMES if n.startswith("stor")]
    before = sum(getattr(stores, n).writes for n in names)
    dt, _ = timed(lambda: [clusterer.assign(a, t) for a in arts])
    writes = sum(getattr(stores, n).writes for n in names) - before
    return {"live_stories": live, "ms_per_article": dt / PROBES * 1e3, "writes_per_article": writes / PROBES}


def index_cost(sizes: tuple[int, int]) -> dict[str, Any]:
    from monitor.stories import StoryClusterer

    stores = _stores()
    clusterer = StoryClusterer.from_stores(stores)
    gen = Events()
    t = T0
    rows = []
    made = 0
    for target in sizes:
        while len(stores.stories) < target:
            made += 1
            clusterer.assign(gen.report(gen.new_event(), f"fill-{made}", t), t)
        clusterer.df.flush(t.timestamp())
        rows.append(_probe(clusterer, stores, gen, len(stores.stories), t + timedelta(hours=1), f"p{target}"))
    ratio = rows[1]["ms_per_article"] / rows[0]["ms_per_article"]
    return {"rows": rows, "ratio": ratio}


# ------------------------------------------------------------------ core before/after


def _before_clusterer() -> type:
    src = subprocess.run(["git", "show", f"{BEFORE_REV}:monitor/enrich/stories.py"], cwd=REPO,
                         capture_output=True, text=True, check=True, timeout=30).stdout
    mod = types.ModuleType("bench_story_index_before")
    sys.modules[mod.__name__] = mod
    exec(compile(src, f"{BEFORE_REV}:monitor/enrich/stories.py", "exec"), mod.__dict__)
    return mod.StoryClusterer


class _Before:
    """The old clusterer behind the new interface (no story records)."""

    def __init__(self, cls: type, stores: Any) -> None:
        self.inner = cls(stores.stories, {})
        self.config = self.inner.config

    def place(self, article: Any, now: datetime | None = None) -> tuple[Any, None]:
        return self.inner.assign(article, now), None

    def assign(self, article: Any, now: datetime | None = None) -> Any:
        return self.inner.assign(article, now)

    def expire(self, now: datetime | None = None) -> list:
        self.inner.expire(now)
        return []


def core_before_after(size: Size) -> dict[str, Any]:
    from bench.core import ENTITIES, RULES
    from bench.corpus import make_corpus, make_rulepack, make_watchlist, write_rules_dir
    from monitor.pipeline import Pipeline

    raws = make_corpus(size.core_articles, seed=4).docs
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-story-index-") as tmp:
        entities = make_watchlist(ENTITIES)
        write_rules_dir(tmp, entities, make_rulepack(RULES, entities))
        proto = Pipeline.from_rules_dir(tmp)
    before_cls = _before_clusterer()
    prepared = [proto.prepare(r) for r in raws]  # the stateless half is the same for both

    def run(kind: str) -> float:
        p = Pipeline(proto.tagger, proto.engine.ruleset)
        if kind == "before":
            p.stories = _Before(before_cls, p.stores)
        dt, _ = timed(lambda: [p.decide(x, r.published) for x, r in zip(prepared, raws, strict=True)])
        return len(raws) / dt

    run("before"), run("after")  # warm-up
    rates: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(max(2, min(size.repeats, 4))):
        for kind in ("before", "after"):
            rates[kind].append(run(kind))
    t0 = time.perf_counter()
    full = [proto.process(r, r.published) for r in raws[:200]]
    process_ms = (time.perf_counter() - t0) / len(full) * 1e3
    before, after = summary(rates["before"]), summary(rates["after"])
    return {"articles": len(raws), "decide_per_s": {"before": before, "after": after},
            "ratio_after_to_before": after["median"] / before["median"], "process_ms_per_article": process_ms}


def run(size: Size) -> dict[str, Any]:
    cpu = pin_one_core()
    sizes = (1_000, 50_000) if size.name == "default" else (1_000, 10_000)
    idx = index_cost(sizes)
    print(table(["live stories", "ms / article", "table writes / article"],
                [[f"{r['live_stories']:,}", fmt(r["ms_per_article"]), fmt(r["writes_per_article"])]
                 for r in idx["rows"]],
                f"story assignment cost vs live stories ({PROBES} probes: half joins, half new events), "
                f"pinned to CPU {cpu}"))
    print(f"cost ratio {sizes[1]:,} / {sizes[0]:,} live stories: {idx['ratio']:.2f}")
    core = core_before_after(size)
    b, a = core["decide_per_s"]["before"], core["decide_per_s"]["after"]
    print(f"Pipeline.decide over {core['articles']} core-corpus articles: before {fmt(b['median'])}/s, "
          f"after {fmt(a['median'])}/s, ratio after/before {core['ratio_after_to_before']:.2f}")
    return {
        "index": idx, "core": core,
        "headline": [
            [f"assign ms/article at {sizes[0]:,} / {sizes[1]:,} live stories",
             (f"{fmt(idx['rows'][0]['ms_per_article'])} / {fmt(idx['rows'][1]['ms_per_article'])} "
             f"(ratio {idx['ratio']:.2f})")],
            ["table writes per article", fmt(idx["rows"][1]["writes_per_article"])],
            ["decide articles/s before / after (ratio)",
             f"{fmt(b['median'])} / {fmt(a['median'])} ({core['ratio_after_to_before']:.2f})"],
        ],
        "goals": [goal(f"story cost flat from {sizes[0]:,} to {sizes[1]:,} live stories", idx["ratio"] <= 1.5,
                       f"ratio {idx['ratio']:.2f}", "<= 1.5")],
    }
