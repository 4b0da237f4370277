"""dedup: our Deduplicator vs datasketch MinHash + MinHashLSH on the same corpus.

Both see the same normalized articles in stream order (normalization is not
timed) and run the same streaming loop: a doc is either a copy of something
indexed before, or it is indexed. Both shingle the same tokens (NFKC,
lowercase, ``\\w+`` words, word 4-shingles) at the same ``num_perm``.

* ours: ``Deduplicator`` with plain dict stores (as offline), and once more
  with JSON-serialising stores (what a faust table costs on assignment).
* datasketch: ``MinHash`` (shared permutations, default SHA1 hash) +
  ``MinHashLSH(threshold=0.5)``; a query's best candidate by estimated
  Jaccard is taken as the original when that estimate is >= the threshold.
  0.5 is the LSH threshold our 16 bands x 4 rows imply ((1/16)^(1/4)).

Precision/recall are per doc against the corpus ground truth: a flagged doc
is a true positive when it is a copy and points at its root original.
"""

from __future__ import annotations

import json
import pickle
import re
import unicodedata
from collections.abc import MutableMapping
from typing import Any

from bench.common import Size, fmt, goal, spread, summary, table, timed
from bench.corpus import make_corpus
from monitor.state import JsonStore

DS_THRESHOLD = 0.5
_WORD = re.compile(r"\w+")


def _json_bytes(store: MutableMapping[str, Any]) -> int:
    return sum(len(json.dumps(k)) + len(json.dumps(v, separators=(",", ":"))) for k, v in store.items())


def _ds_shingles(article: Any, k: int) -> set[bytes]:
    words: list[str] = []
    for p in article.paragraphs or ([article.text] if article.text else []):
        words.extend(_WORD.findall(unicodedata.normalize("NFKC", p).lower()))
    if len(words) < k:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i:i + k]).encode() for i in range(len(words) - k + 1)}


def _run_ours(articles: list, times: list, store_cls: type) -> tuple[Any, dict[str, str], dict[str, str]]:
    from monitor.enrich.dedup import DedupConfig, Deduplicator

    d = Deduplicator(store_cls(), store_cls(), DedupConfig())
    dups, kinds = {}, {}
    for a, ts in zip(articles, times, strict=True):
        r = d.process(a, ts)
        if r.duplicate_of:
            dups[a.id] = r.duplicate_of
            kinds[a.id] = r.dup_kind
    return d, dups, kinds


def _run_datasketch(articles: list, num_perm: int, k: int) -> tuple[Any, dict[str, str]]:
    from datasketch import MinHash, MinHashLSH

    proto = MinHash(num_perm=num_perm)
    lsh = MinHashLSH(threshold=DS_THRESHOLD, num_perm=num_perm)
    indexed: dict[str, Any] = {}
    dups: dict[str, str] = {}
    for a in articles:
        sh = _ds_shingles(a, k)
        if not sh:
            continue
        m = MinHash(num_perm=num_perm, permutations=proto.permutations, scheme=proto.scheme)
        m.update_batch(sh)
        best, best_j = None, -1.0
        for cid in lsh.query(m):
            j = m.jaccard(indexed[cid])
            if j > best_j:
                best, best_j = cid, j
        if best is not None and best_j >= DS_THRESHOLD:
            dups[a.id] = best
        else:
            lsh.insert(a.id, m)
            indexed[a.id] = m
    return (lsh, indexed), dups


def _quality(pred: dict[str, str], truth: dict[str, str], edits: dict[str, str | None]) -> dict[str, Any]:
    tp = sum(1 for i, o in pred.items() if truth.get(i) == o)
    wrong_orig = sum(1 for i, o in pred.items() if i in truth and truth[i] != o)
    false_dup = sum(1 for i in pred if i not in truth)
    by_edit: dict[str, dict[str, int]] = {}
    for i, orig in truth.items():
        e = by_edit.setdefault(edits[i] or "?", {"copies": 0, "found": 0})
        e["copies"] += 1
        e["found"] += pred.get(i) == orig
    return {
        "flagged": len(pred), "true_positives": tp, "wrong_original": wrong_orig,
        "false_duplicates": false_dup, "copies": len(truth),
        "precision": tp / len(pred) if pred else 1.0,
        "recall": tp / len(truth) if truth else 1.0,
        "recall_by_edit": {k: round(v["found"] / v["copies"], 4) for k, v in sorted(by_edit.items())},
    }


def run(size: Size) -> dict[str, Any]:
    from monitor.enrich.dedup import DedupConfig
    from monitor.enrich.normalize import normalize

    cfg = DedupConfig()
    corpus = make_corpus(size.dedup_docs)
    articles = [normalize(d) for d in corpus.docs]
    times = [d.published for d in corpus.docs]
    truth = corpus.copies
    edits = {i: t.edit for i, t in corpus.truth.items()}
    n = len(articles)
    repeats = max(2, min(size.repeats, 3))

    t_ours, t_json, t_ds = [], [], []
    ours = ours_json = ds = None
    for _ in range(repeats):  # interleaved so drift hits all three alike
        dt, ours = timed(lambda: _run_ours(articles, times, dict))
        t_ours.append(dt)
        dt, ds = timed(lambda: _run_datasketch(articles, cfg.num_perm, cfg.shingle_size))
        t_ds.append(dt)
        dt, ours_json = timed(lambda: _run_ours(articles, times, JsonStore))
        t_json.append(dt)
    dedup, ours_dups, ours_kinds = ours
    (lsh, ds_index), ds_dups = ds
    q_json = _quality(ours_json[1], truth, edits)

    rate = {name: summary([n / t for t in ts])
            for name, ts in (("ours", t_ours), ("ours_json_store", t_json), ("datasketch", t_ds))}
    ratio = summary([a / b for a, b in zip(t_ds, t_ours, strict=True)])  # ours/datasketch throughput
    q_ours = _quality(ours_dups, truth, edits)
    q_ds = _quality(ds_dups, truth, edits)
    kinds: dict[str, int] = {}
    for k in ours_kinds.values():
        kinds[k] = kinds.get(k, 0) + 1
    q_ours["by_kind"] = kinds

    stores = {"exact": dedup.exact, "docs": dedup.docs}  # the band index is derived, in memory
    state = {name: _json_bytes(s) for name, s in stores.items()}
    indexed = len(dedup.docs)
    per_doc = sum(state.values()) / max(1, indexed)
    ds_bytes = len(pickle.dumps((lsh, ds_index), protocol=pickle.HIGHEST_PROTOCOL))

    rows = [
        ["ours (dict stores)", spread(rate["ours"]), fmt(q_ours["precision"]), fmt(q_ours["recall"]),
         q_ours["flagged"], q_ours["false_duplicates"] + q_ours["wrong_original"]],
        ["ours (JSON stores)", spread(rate["ours_json_store"]), fmt(q_json["precision"]), fmt(q_json["recall"]),
         q_json["flagged"], q_json["false_duplicates"] + q_json["wrong_original"]],
        [f"datasketch LSH({DS_THRESHOLD})", spread(rate["datasketch"]), fmt(q_ds["precision"]),
         fmt(q_ds["recall"]), q_ds["flagged"], q_ds["false_duplicates"] + q_ds["wrong_original"]],
    ]
    print(table(["dedup", "docs/s median [min-max]", "precision", "recall", "flagged", "wrong"], rows,
                f"dedup: {n} docs, {len(truth)} planted copies, num_perm {cfg.num_perm}, "
                f"{repeats} repeats; datasketch LSH b={lsh.b} r={lsh.r}"))
    print(table(["edit", "copies", "ours recall", "datasketch recall"],
                [[e, sum(1 for i in truth if edits[i] == e), fmt(r), fmt(q_ds["recall_by_edit"].get(e))]
                 for e, r in q_ours["recall_by_edit"].items()]))
    print(f"throughput ratio ours/datasketch: {spread(ratio)}; ours by kind: {kinds}")
    by_store = ", ".join(f"{k} {fmt(v / max(1, indexed))}" for k, v in state.items())
    print(f"state: {fmt(per_doc)} B per indexed article ({indexed} indexed; per store: {by_store}) -> "
          f"~{per_doc * 1e6 / 1e9:.2f} GB at 1M articles; datasketch pickled index+sketches "
          f"{fmt(ds_bytes / max(1, len(ds_index)))} B/doc (for reference)")

    faster = rate["ours"]["median"] >= rate["datasketch"]["median"]
    recall_ok = q_ours["recall"] >= q_ds["recall"]
    return {
        "corpus": corpus.stats(),
        "config": {"num_perm": cfg.num_perm, "bands": cfg.bands, "shingle_size": cfg.shingle_size,
                   "near_threshold": cfg.near_threshold, "datasketch_threshold": DS_THRESHOLD,
                   "datasketch_b_r": [lsh.b, lsh.r], "repeats": repeats},
        "throughput_docs_per_s": rate,
        "ratio_ours_over_datasketch": ratio,
        "quality": {"ours": q_ours, "ours_json_store": q_json, "datasketch": q_ds},
        "state": {"bytes_by_store": state, "indexed_docs": indexed, "bytes_per_indexed_doc": per_doc,
                  "bytes_per_indexed_doc_by_store": {k: v / max(1, indexed) for k, v in state.items()},
                  "entries_by_store": {k: len(v) for k, v in stores.items()},
                  "extrapolated_bytes_at_1M": per_doc * 1_000_000,
                  "datasketch_pickle_bytes_per_indexed_doc": ds_bytes / max(1, len(ds_index))},
        "headline": [
            ["ours docs/s", spread(rate["ours"])],
            ["datasketch docs/s", spread(rate["datasketch"])],
            ["ratio ours/datasketch", spread(ratio)],
            ["precision / recall ours", f"{fmt(q_ours['precision'])} / {fmt(q_ours['recall'])}"],
            ["precision / recall datasketch", f"{fmt(q_ds['precision'])} / {fmt(q_ds['recall'])}"],
            ["state B/article (1M ext.)", f"{fmt(per_doc)} ({per_doc * 1e6 / 1e9:.2f} GB)"],
        ],
        "goals": [
            goal("dedup at least as fast as datasketch at equal or better recall", faster and recall_ok,
                 f"{fmt(ratio['median'])}x datasketch throughput; recall {fmt(q_ours['recall'])} vs "
                 f"{fmt(q_ds['recall'])}", ">= 1x, recall >= datasketch"),
            goal("dedup state <= 1 KB per indexed article", per_doc <= 1024,
                 f"{fmt(per_doc)} B/article", "<= 1024 B"),
        ],
    }
