"""The in-memory indexes (dedup bands and exact keys, story postings, article -> story) are
derived from the stored state only: a pipeline that drops them, or restarts
from the stores alone, makes the same dedup and story decisions on a stream
as one that never did, TTL expiry included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.corpus import make_corpus
from monitor.enrich.dedup import DedupConfig
from monitor.pipeline import Pipeline
from monitor.state import STORE_NAMES, JsonStore, StateStores
from monitor.stories import StoryConfig

RULES = Path(__file__).resolve().parents[2] / "rules"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
N = 360
STEP = timedelta(minutes=2)  # 12 hours of stream: the short TTLs below expire many times
SWEEP_EVERY = 40


def _pipeline(stores: StateStores) -> Pipeline:
    return Pipeline.from_rules_dir(RULES, stores, DedupConfig(ttl=timedelta(hours=3)), StoryConfig(ttl_hours=2))


def _stores() -> StateStores:
    return StateStores(**{name: JsonStore() for name in STORE_NAMES})


@pytest.fixture(scope="module")
def stream():
    raws = make_corpus(N, seed=3).docs
    # a re-delivery of an early original and of an early copy, after the restart point
    return [*raws, raws[5], raws[40]]


def _run(stream, restart_at: set[int], mode: str) -> tuple[list[tuple], Pipeline]:
    """Decisions per article; at each index in `restart_at` the derived
    indexes are dropped (`reset`) or the pipeline is made afresh over the
    same stores (`restart`). Every run sweeps at the same points."""
    stores = _stores()
    pipeline = _pipeline(stores)
    out = []
    for i, raw in enumerate(stream):
        now = T0 + i * STEP
        if i and i % SWEEP_EVERY == 0:
            closed = pipeline.expire(now)
            out.append(("closed", sorted(r.id for r in closed)))
        if i in restart_at:
            if mode == "reset":
                pipeline.reset_indexes()
            elif mode == "restart":
                pipeline = _pipeline(stores)
        res = pipeline.process(raw, now)
        a = res.article
        out.append((a.id, a.duplicate_of, a.dup_kind, a.similarity, a.story_id,
                    sorted((x.rule_id, x.action, x.revision) for x in res.alerts)))
    return out, pipeline


def test_dropped_and_rebuilt_indexes_make_the_same_decisions(stream) -> None:
    never, kept = _run(stream, set(), "none")
    dropped, _ = _run(stream, {90, 91, 200, 333}, "reset")
    assert dropped == never
    # the stream had copies, multi-report stories and expiry, or the test proves little
    kinds = {d[2] for d in never if d[0] != "closed"}
    assert {"exact", "near", "version"} <= kinds
    assert sum(len(d[1]) for d in never if d[0] == "closed") > 10
    stories = [d[4] for d in never if d[0] != "closed"]
    assert len(set(stories)) < len(stories) * 0.9
    # and the index kept since the start equals one built now from the stores
    bands, exact = kept.dedup.bands.buckets, dict(kept.dedup.exact_index)
    postings, index = kept.stories.postings.postings, dict(kept.stories.index)
    kept.reset_indexes()
    assert kept.dedup.bands.buckets == bands and kept.dedup.exact_index == exact
    assert kept.stories.postings.postings == postings
    assert kept.stories.index == index and len(bands) > 100 and len(postings) > 100


def test_a_restart_from_the_stores_alone_makes_the_same_decisions(stream) -> None:
    """A fresh pipeline right after a sweep (document frequencies are
    persisted by the sweep) continues exactly as the one that never stopped."""
    never, _ = _run(stream, set(), "none")
    restarted, _ = _run(stream, {SWEEP_EVERY * 3, SWEEP_EVERY * 7}, "restart")
    assert restarted == never


def test_the_rebuild_in_slices_gives_the_same_indexes_even_if_an_article_comes_in_between(stream) -> None:
    """The daemon rebuilds a slice at a time after a recovery (the event loop
    must keep its heartbeats); an article processed in between wins."""
    _, pipeline = _run(stream[:200], set(), "none")

    def indexes(p: Pipeline) -> tuple:
        return (p.dedup.bands.buckets, dict(p.dedup.exact_index), p.stories.postings.postings, dict(p.stories.index))

    expected = indexes(pipeline)
    assert len(list(pipeline.rebuild_indexes(chunk=20))) > 10
    assert indexes(pipeline) == expected
    steps = pipeline.rebuild_indexes(chunk=20)
    for _ in range(5):
        next(steps)
    pipeline.process(stream[250], T0 + 250 * STEP)  # builds the indexes it needs at once
    after_article = indexes(pipeline)
    list(steps)  # the slices built from the older stores are dropped
    assert indexes(pipeline) == after_article
    pipeline.reset_indexes()
    assert indexes(pipeline) == after_article
