"""core: end-to-end Pipeline.process throughput on one core, stage shares, profile.

Setup: a rules dir (YAML) with a 1,000-entity watchlist and a 100-rule pack,
loaded with ``Pipeline.from_rules_dir``. The process is pinned to one CPU.
Raw articles (plain text, ~10% copies) are processed in stream order with
``now`` = publication time, on fresh state stores for every pass.

1. throughput: ``Pipeline.process`` over the whole corpus (articles/s).
2. stage shares: the same loop with each stage called on the objects the
   pipeline holds (``normalize``, ``pipeline.tagger``, ``pipeline.dedup``
   fingerprint and lookup, ``pipeline.stories``, ``pipeline.engine``), each
   timed, summed into prepare (stateless) and decide (stateful); "other" is the
   rest of ``process`` (the final model copy, TTL sweeps). Also per chunk of
   the stream, since stages with state (stories, dedup) slow as it grows.
3. cProfile of one pass over the first articles: top 15 by cumulative and
   by own time, written to the JSON.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import tempfile
import time
from typing import Any

from bench.common import Size, fmt, goal, pin_one_core, spread, summary, table, timed
from bench.corpus import make_corpus, make_rulepack, make_watchlist, write_rules_dir

ENTITIES = 1000
RULES = 100
STAGES = ("normalize", "tag", "fingerprint", "dedup", "stories", "rules", "other")
PREPARE = ("normalize", "tag", "fingerprint")  # stateless: runs on every partition in parallel
DECIDE = ("dedup", "stories", "rules", "other")  # stateful: the one partition of news.prepared
CHUNK = 500


def _fresh(proto: Any) -> Any:
    from monitor.pipeline import Pipeline

    return Pipeline(proto.tagger, proto.engine.ruleset)


def _staged(pipeline: Any, raws: list) -> tuple[dict[str, float], list[dict[str, float]], int]:
    """Pipeline.process, stage by stage, with timers (mirrors monitor/pipeline.py:
    prepare = normalize, tag, fingerprint; decide = dedup, stories, rules)."""
    from monitor.enrich.normalize import normalize
    from monitor.models import utcnow
    from monitor.pipeline import EXPIRE_EVERY

    pc = time.perf_counter
    total = dict.fromkeys(STAGES, 0.0)
    chunks: list[dict[str, float]] = []
    chunk = dict.fromkeys(STAGES, 0.0)
    alerts = 0
    since = 0
    for i, raw in enumerate(raws):
        now = raw.published
        t0 = pc()
        a = normalize(raw)
        t1 = pc()
        a = pipeline.tagger.tag(a)
        t2 = pc()
        fp = pipeline.dedup.fingerprint(a)
        t3 = pc()
        a = pipeline.dedup.process(a, now, fp)
        t4 = pc()
        a = pipeline.stories.assign(a, now)
        t5 = pc()
        alerts += len(pipeline.engine.evaluate(a, now))
        t6 = pc()
        a = a.model_copy(update={"processed_at": utcnow()})
        since += 1
        if since >= EXPIRE_EVERY:
            since = 0
            pipeline.dedup.expire(now)
            pipeline.stories.expire(now)
        t7 = pc()
        for name, dt in zip(STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t7 - t6),
                            strict=True):
            chunk[name] += dt
        if (i + 1) % CHUNK == 0 or i + 1 == len(raws):
            chunks.append(chunk)
            for k, v in chunk.items():
                total[k] += v
            chunk = dict.fromkeys(STAGES, 0.0)
    return total, chunks, alerts


def _profile(pipeline: Any, raws: list) -> dict[str, Any]:
    prof = cProfile.Profile()
    prof.enable()
    for raw in raws:
        pipeline.process(raw, raw.published)
    prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt  # type: ignore[attr-defined]

    def top(key: str) -> list[dict[str, Any]]:
        rows = []
        entries = stats.stats  # type: ignore[attr-defined]
        ordered = sorted(entries.items(), key=lambda kv: kv[1][3 if key == "cumulative" else 2], reverse=True)
        for (file, line, func), (cc, nc, tt, ct, _callers) in ordered[:15]:
            rows.append({"function": f"{_short(file)}:{line}({func})", "ncalls": nc, "primitive_calls": cc,
                         "tottime_s": round(tt, 4), "cumtime_s": round(ct, 4),
                         "cum_share": round(ct / total, 4) if total else None})
        return rows

    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(15)
    return {"articles": len(raws), "total_s": total, "top_cumulative": top("cumulative"),
            "top_tottime": top("tottime"), "text": text.getvalue()}


def _short(path: str) -> str:
    for marker in ("/site-packages/", "/monitor/", "/lib/python"):
        if marker in path:
            return ("monitor/" if marker == "/monitor/" else "") + path.split(marker, 1)[1]
    return path


def run(size: Size) -> dict[str, Any]:
    from monitor.pipeline import Pipeline

    cpu = pin_one_core()
    corpus = make_corpus(size.core_articles, seed=4)
    raws = corpus.docs
    n = len(raws)
    repeats = max(2, min(size.repeats, 3))
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-core-") as tmp:
        entities = make_watchlist(ENTITIES)
        write_rules_dir(tmp, entities, make_rulepack(RULES, entities))
        t = time.perf_counter()
        proto = Pipeline.from_rules_dir(tmp)
        setup_s = time.perf_counter() - t

    warm = _fresh(proto)
    for raw in raws[:50]:
        warm.process(raw, raw.published)

    e2e: list[float] = []
    staged: list[dict[str, float]] = []
    chunk_runs: list[list[dict[str, float]]] = []
    alerts = dups = 0
    for _ in range(repeats):
        p = _fresh(proto)
        dt, results = timed(lambda p=p: [p.process(raw, raw.published) for raw in raws])
        e2e.append(n / dt)
        alerts = sum(len(r.alerts) for r in results)
        dups = sum(1 for r in results if r.article.duplicate_of)
        del results
        p = _fresh(proto)
        dt, (total, chunks, _) = timed(lambda p=p: _staged(p, raws))
        staged.append(total)
        chunk_runs.append(chunks)

    rate = summary(e2e)
    stage_s = {k: summary([s[k] / n for s in staged]) for k in STAGES}
    stage_total = sum(v["median"] for v in stage_s.values())
    shares = {k: stage_s[k]["median"] / stage_total for k in STAGES}
    # per chunk (median over repeats) in ms/article, to show growth with state
    chunk_rows = []
    for c in range(len(chunk_runs[0])):
        size_c = min(CHUNK, n - c * CHUNK)
        med = {k: sorted(run_[c][k] for run_ in chunk_runs)[len(chunk_runs) // 2] / size_c * 1e3
               for k in STAGES}
        chunk_rows.append({"articles": f"{c * CHUNK}-{c * CHUNK + size_c}", **med})

    prof = _profile(_fresh(proto), raws[:size.core_profile_articles])

    print(table(["stage", "ms/article median [min-max]", "share"],
                [[k, spread(stage_s[k], 1e3), f"{shares[k] * 100:.1f}%"] for k in STAGES]
                + [["total (staged)", fmt(stage_total * 1e3), "100%"]],
                f"core: {n} raw articles ({corpus.stats()['copies']} copies), {ENTITIES} entities + countries, "
                f"{RULES} rules, pinned to CPU {cpu}, {repeats} repeats"))
    print(table(["articles"] + [f"{k} ms" for k in STAGES],
                [[r["articles"]] + [fmt(r[k]) for k in STAGES] for r in chunk_rows],
                "per-article stage cost along the stream (state grows):"))
    print(f"end-to-end Pipeline.process: {spread(rate)} articles/s (1 core); "
          f"{alerts} alerts, {dups} duplicates flagged per pass; setup {setup_s:.1f} s")
    print(f"cProfile ({prof['articles']} articles), top 15 by cumulative time:")
    for r in prof["top_cumulative"]:
        print(f"  {r['cumtime_s']:8.3f}s cum {r['tottime_s']:8.3f}s own {r['ncalls']:>9}  {r['function']}")
    print("top 15 by own time:")
    for r in prof["top_tottime"]:
        print(f"  {r['tottime_s']:8.3f}s own {r['cumtime_s']:8.3f}s cum {r['ncalls']:>9}  {r['function']}")

    prepare_s = sum(stage_s[k]["median"] for k in PREPARE)
    decide_s = sum(stage_s[k]["median"] for k in DECIDE)
    print(f"prepare (stateless, scales with partitions): {fmt(1 / prepare_s)} articles/s per core; "
          f"decide (one partition): {fmt(1 / decide_s)} articles/s")
    top_stage = max((k for k in STAGES if k != "other"), key=lambda k: shares[k])
    return {
        "corpus": corpus.stats(),
        "config": {"entities": ENTITIES, "rules": RULES, "pinned_cpu": cpu, "repeats": repeats,
                   "setup_s": setup_s},
        "throughput_articles_per_s": rate,
        "stage_seconds_per_article": stage_s,
        "stage_shares": shares,
        "stage_ms_per_article_by_chunk": chunk_rows,
        "prepare_articles_per_s_per_core": 1 / prepare_s,
        "decide_articles_per_s": 1 / decide_s,
        "alerts_per_pass": alerts,
        "duplicates_per_pass": dups,
        "profile": prof,
        "headline": [
            ["Pipeline.process articles/s (1 core)", spread(rate)],
            ["stage shares", ", ".join(f"{k} {shares[k] * 100:.0f}%" for k in STAGES)],
            ["ms/article by stage", ", ".join(f"{k} {fmt(stage_s[k]['median'] * 1e3)}" for k in STAGES)],
            ["prepare (per core) / decide (one partition) articles/s",
             f"{fmt(1 / prepare_s)} / {fmt(1 / decide_s)}"],
            ["largest stage", f"{top_stage} ({shares[top_stage] * 100:.0f}%)"],
        ],
        "goals": [goal("core >= 1,000 articles/s on one core (issue 16)", rate["median"] >= 1000,
                       f"{fmt(rate['median'])} articles/s", ">= 1,000/s")],
    }
