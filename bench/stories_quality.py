"""Story quality on ECB+: B-cubed precision/recall/F1 of story clusterers, and
precision/recall of open-vocabulary names, on public data.

``python -m bench.stories_quality [--quick]`` (also ``python -m bench --only
stories_quality``). Needs ``.cache/datasets/ecbplus.jsonl``: built here from
the mirror if missing (see ``bench/datasets.py``), never committed.

Why ECB+: each of its 43 topics holds two similar but different events (two
earthquakes, two rehab check-ins), so a clusterer that groups by topic words
or shared famous names scores high recall and poor precision, and one that
only groups by watched entities scores the reverse. Gold story = sub-topic.

The stream: topics are shuffled with a fixed seed and taken four at a time;
the articles of those four topics (both events of each) are shuffled together,
so the two similar events of a topic interleave as they would in a feed.
ECB+ has no dates: articles get synthetic publication and ingest times,
evenly spread over 3 days in stream order (so time never separates the two
events of a topic: only content can). Every system sees the same articles,
tagged and deduplicated once by ``monitor.pipeline.Pipeline`` with the
repo's ``rules/`` (entities, events, names as in production).

Systems:
  (a) before: ``monitor.enrich.stories.StoryClusterer`` as of BEFORE_REV (the
      commit before the open-vocabulary story work), loaded from git so the
      figure stays the "before" figure while the code moves on;
  (b) baseline: TF-IDF single-pass clustering, cosine of an article to each
      cluster centroid, join the best if >= threshold. IDF comes from the
      whole corpus (an oracle a stream lacks) and the threshold is swept on
      the corpus itself, the best reported: an optimistic baseline;
  (c) new: ``monitor.stories.StoryClusterer.from_stores`` when that package
      exists (skipped with a note otherwise).

Names: ``monitor.enrich.names.extract_names`` on the sentences ECB+ annotators
covered, against the gold entity mentions whose head is a proper noun.
ECB+ annotates only the participants, times and places of annotated events,
so an unannotated real name counts as a false positive: precision is a lower
bound. "lenient" also accepts a match on a name's word subset ("Teixeira" ~
"Mark Teixeira"). Cost: extract_names per article vs the whole Tagger.tag
(which includes it), same run.
"""

from __future__ import annotations

import argparse
import importlib
import math
import random
import re
import statistics
import subprocess
import sys
import time
import types
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import DEFAULT, QUICK, REPO, Size, environment, goal, table, write_result
from bench.datasets import ECBPLUS_JSONL, load_ecbplus

BEFORE_REV = "9594696"  # models: StoryRecord ... (the last commit before issue 13's story work)
SEED = 13
TOPICS_PER_WINDOW = 4
SPAN = timedelta(days=3)
START = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
THRESHOLDS = [round(0.05 * i, 2) for i in range(2, 13)]
NAME_GOLD_KINDS = {"HUMAN_PART_PER": "person", "HUMAN_PART_ORG": "organization",
                   "HUMAN_PART_GPE": "place", "LOC_GEO": "place", "LOC_FAC": "place", "LOC_OTHER": "place"}
LIBRARY_NOTE = ("none run: no well-kept library ships an English NER model in its PyPI wheel. Checked "
                "2026-12-07: spacy 3.8.18 (no trained pipeline; the official en_core_web_* wheels are "
                "not on PyPI), stanza 1.15.0 (code only, models fetched at run time), nltk 3.10.4 (the "
                "ne_chunk model is nltk_data, fetched at run time); flair and GLiNER fetch their models "
                "from a model hub at run time")
_WORD = re.compile(r"[^\W\d_]{2,}")
_STOP = frozenset("""the and for that with was were are has have had this from his her its their they them
said says will would could should may might not but also been being which who whom what when where while
after before about over into than then there these those such other more most some any all one two
three its our out new year years can just into only very been did does""".split())


# ------------------------------------------------------------------ stream


def stream_order(records: list[dict], seed: int = SEED) -> list[dict]:
    """Topics shuffled, then four at a time with their articles shuffled together."""
    rng = random.Random(seed)
    by_topic: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_topic[r["topic"]].append(r)
    topics = sorted(by_topic, key=int)
    rng.shuffle(topics)
    out = []
    for i in range(0, len(topics), TOPICS_PER_WINDOW):
        window = [r for t in topics[i:i + TOPICS_PER_WINDOW] for r in sorted(by_topic[t], key=lambda r: r["id"])]
        rng.shuffle(window)
        out.extend(window)
    return out


def raw_articles(records: list[dict]) -> list[Any]:
    from monitor.models import RawArticle

    step = SPAN / max(1, len(records))
    out = []
    for i, r in enumerate(records):
        t = START + step * i
        out.append(RawArticle(id=f"ecbplus-{r['id']}", source=f"ecbplus-{r['id']}", title=r["title"],
                              content="\n\n".join(r["paragraphs"]), published=t, ingested_at=t))
    return out


# ------------------------------------------------------------------ metrics


def bcubed(pred: list[str], gold: list[str]) -> dict[str, float]:
    """Item-level B-cubed precision, recall and F1 (Bagga & Baldwin 1998)."""
    pc, gc, both = Counter(pred), Counter(gold), Counter(zip(pred, gold, strict=True))
    n = len(pred)
    p = sum(both[(a, b)] / pc[a] for a, b in zip(pred, gold, strict=True)) / n
    r = sum(both[(a, b)] / gc[b] for a, b in zip(pred, gold, strict=True)) / n
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "clusters": len(pc), "singletons": sum(1 for c in pc.values() if c == 1)}


def error_profile(pred: list[str], records: list[dict]) -> dict[str, Any]:
    """Where a clusterer goes wrong: the two similar events of a topic merged,
    different topics merged, and the gold stories split into most pieces."""
    members: dict[str, list[dict]] = defaultdict(list)
    for p, r in zip(pred, records, strict=True):
        members[p].append(r)
    similar = {r["topic"] for ms in members.values() if len({m["cluster"] for m in ms}) > 1
               for r in ms if len({m["topic"] for m in ms}) == 1}
    cross = [sorted({m["topic"] for m in ms}) for ms in members.values() if len({m["topic"] for m in ms}) > 1]
    pieces: dict[str, set[str]] = defaultdict(set)
    sizes = Counter(r["cluster"] for r in records)
    for p, r in zip(pred, records, strict=True):
        pieces[r["cluster"]].add(p)
    split = sorted(pieces, key=lambda c: (-len(pieces[c]) / sizes[c], c))[:5]
    return {"topics_with_both_events_merged": sorted(similar, key=int),
            "stories_spanning_topics": len(cross), "example_cross_topic": cross[:5],
            "most_split": [{"story": c, "articles": sizes[c], "pieces": len(pieces[c])} for c in split]}


# ------------------------------------------------------------------ systems


def _before_module() -> types.ModuleType:
    """``monitor/enrich/stories.py`` as of BEFORE_REV (falls back to the
    current file when git or the revision is unavailable)."""
    try:
        src = subprocess.run(["git", "show", f"{BEFORE_REV}:monitor/enrich/stories.py"], cwd=REPO,
                             capture_output=True, text=True, check=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return importlib.import_module("monitor.enrich.stories")
    mod = types.ModuleType("bench_stories_before")
    mod.__file__ = f"{BEFORE_REV}:monitor/enrich/stories.py"
    sys.modules[mod.__name__] = mod
    exec(compile(src, mod.__file__, "exec"), mod.__dict__)
    return mod


def run_before(articles: list[Any], times: list[datetime]) -> list[str]:
    clusterer = _before_module().StoryClusterer({}, {})
    return [clusterer.assign(a, t).story_id for a, t in zip(articles, times, strict=True)]


def new_clusterer_factory() -> Callable[[], Any] | None:
    """A zero-argument factory of the new clusterer, or None if absent."""
    try:
        stories = importlib.import_module("monitor.stories")
    except ImportError:
        return None
    cls = getattr(stories, "StoryClusterer", None)
    if cls is None:
        return None
    from monitor.state import StateStores

    if hasattr(cls, "from_stores"):
        return lambda: cls.from_stores(StateStores())
    return lambda: cls({}, {})


def run_new(factory: Callable[[], Any], articles: list[Any], times: list[datetime]) -> list[str]:
    clusterer = factory()
    return [clusterer.assign(a, t).story_id for a, t in zip(articles, times, strict=True)]


def _tfidf(articles: list[Any]) -> list[dict[str, float]]:
    docs = []
    for a in articles:
        text = f"{a.title or ''} {a.text}".lower()
        docs.append(Counter(w for w in _WORD.findall(text) if w not in _STOP))
    df = Counter(t for d in docs for t in d)
    n = len(docs)
    vecs = []
    for d in docs:
        v = {t: (1 + math.log(c)) * math.log((1 + n) / (1 + df[t])) for t, c in d.items() if df[t] > 1}
        norm = math.sqrt(sum(w * w for w in v.values())) or 1.0
        vecs.append({t: w / norm for t, w in v.items()})
    return vecs


def single_pass(vecs: list[dict[str, float]], threshold: float) -> list[str]:
    """Each article joins the cluster whose centroid is most similar (cosine,
    searched through an inverted index of centroid terms) if >= threshold."""
    sums: list[dict[str, float]] = []
    norms: list[float] = []
    postings: dict[str, set[int]] = defaultdict(set)
    out = []
    for v in vecs:
        cands = set().union(*(postings[t] for t in v if t in postings)) if v else set()
        best, best_sim = -1, threshold
        for c in sorted(cands):
            s = sums[c]
            sim = sum(w * s.get(t, 0.0) for t, w in v.items()) / (norms[c] or 1.0)
            if sim >= best_sim and (best < 0 or sim > best_sim):
                best, best_sim = c, sim
        if best < 0:
            best = len(sums)
            sums.append({})
            norms.append(0.0)
        s = sums[best]
        for t, w in v.items():
            s[t] = s.get(t, 0.0) + w
            postings[t].add(best)
        norms[best] = math.sqrt(sum(w * w for w in s.values()))
        out.append(f"c{best}")
    return out


# ------------------------------------------------------------------ names


def _canon(key: str) -> str:
    """One key for a gold or predicted name: folded, "the" and titles
    dropped ("Dr. Sanjay Gupta" -> "sanjay gupta"), countries by name."""
    from monitor.enrich.names import _gazetteer, _strip_title, fold_name

    words = key.split()
    cut = _strip_title(words)[0]
    k = fold_name(" ".join(words[cut:] if cut < len(words) else words))
    k = k.removeprefix("the ")
    country = _gazetteer()[0].get(k)
    return fold_name(country) if country else k


def naive_names(title: str | None, text: str) -> list[str]:
    """The floor: every run of capitalised words, as written (no stripping,
    no folding of variants, no rejection of sentence starters)."""
    from monitor.enrich.names import _RUN

    return [m.group() for src in (title or "", text) for m in _RUN.finditer(src)]


def names_quality(records: list[dict], extract: Callable[[str | None, str], list[str]]) -> dict[str, Any]:
    """Document-level micro P/R of predicted name keys vs gold proper names,
    both on the annotated sentences only."""
    tp = fp = fn = tp_len = fp_len = fn_len = 0
    for r in records:
        ann = set(r["annotated"])
        if not ann or not r["names"]:
            continue
        title_id = r["sentence_ids"][0] - 1 if r["title"] and r["sentence_ids"] else None
        title = r["title"] if title_id in ann else None
        text = "\n\n".join(p for p, i in zip(r["paragraphs"], r["sentence_ids"], strict=True) if i in ann)
        gold = {_canon(n["text"]) for n in r["names"] if n["sentence"] in ann}
        gold.discard("")
        pred = {_canon(k) for k in extract(title, text)}
        pred.discard("")
        tp += len(pred & gold)
        fp += len(pred - gold)
        fn += len(gold - pred)
        # lenient: a name matches if the words of one are a subset of the other's
        gw = [set(g.split()) for g in gold]
        pw = [set(p.split()) for p in pred]
        tp_len += sum(1 for p in pw if any(p <= g or g <= p for g in gw))
        fp_len += sum(1 for p in pw if not any(p <= g or g <= p for g in gw))
        fn_len += sum(1 for g in gw if not any(p <= g or g <= p for p in pw))

    def prf(t: int, f_p: int, f_n: int) -> dict[str, float]:
        p = t / (t + f_p) if t + f_p else 0.0
        r = t / (t + f_n) if t + f_n else 0.0
        return {"precision": round(p, 4), "recall": round(r, 4),
                "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}

    return {"strict": prf(tp, fp, fn), "lenient": {**prf(tp_len, fp_len, fn_len)},
            "gold_names": tp + fn}


# ------------------------------------------------------------------ run


def _ensure_corpus() -> list[dict]:
    if not ECBPLUS_JSONL.exists():
        from bench import datasets

        if datasets.main([]) != 0:
            raise SystemExit("could not build the ECB+ corpus; see bench/datasets.py")
    return load_ecbplus()


def run(size: Size) -> dict[str, Any]:
    from monitor.enrich.names import extract_names
    from monitor.pipeline import Pipeline

    records = stream_order(_ensure_corpus())
    if size.name == QUICK.name:
        keep = {r["topic"] for r in records[:300]}  # whole topics, so gold clusters stay whole
        records = [r for r in records if r["topic"] in keep]
    raws = raw_articles(records)
    gold = [r["cluster"] for r in records]
    times = [r.ingested_at for r in raws]

    pipe = Pipeline.from_rules_dir(REPO / "rules")
    t0 = time.perf_counter()
    prepared = [pipe.prepare(r) for r in raws]
    t_prepare = time.perf_counter() - t0
    articles = [pipe.dedup.process(p.article, t, p.fingerprint) for p, t in zip(prepared, times, strict=True)]

    systems: dict[str, dict[str, Any]] = {}
    t0 = time.perf_counter()
    pred = run_before(articles, times)
    systems["before"] = {**bcubed(pred, gold), "seconds": round(time.perf_counter() - t0, 2),
                         "what": f"monitor.enrich.stories.StoryClusterer at {BEFORE_REV}",
                         "errors": error_profile(pred, records)}
    vecs = _tfidf(articles)
    sweep = {}
    for th in THRESHOLDS:
        sweep[th] = bcubed(single_pass(vecs, th), gold)
    best_th = max(sweep, key=lambda th: (sweep[th]["f1"], -th))
    systems["tfidf_single_pass"] = {**sweep[best_th], "threshold": best_th,
                                    "what": "TF-IDF single-pass, centroid cosine, threshold tuned on the corpus",
                                    "errors": error_profile(single_pass(vecs, best_th), records)}
    factory = new_clusterer_factory()
    notes = []
    if factory is not None:
        t0 = time.perf_counter()
        try:
            pred = run_new(factory, articles, times)
            systems["new"] = {**bcubed(pred, gold), "seconds": round(time.perf_counter() - t0, 2),
                              "what": "monitor.stories.StoryClusterer", "errors": error_profile(pred, records)}
        except Exception as e:  # noqa: BLE001 -- a work in progress must not sink the other figures
            notes.append(f"new clusterer failed: {type(e).__name__}: {e}")
    else:
        notes.append("monitor.stories not present: (c) skipped")

    # names: quality, and cost relative to the whole Tagger.tag
    names_q = names_quality(records, lambda title, text: [n.key for n in extract_names(title, text)])
    naive_q = names_quality(records, naive_names)
    tagger = pipe.tagger
    sample = [p.article for p in prepared]
    rounds = []  # interleaved, so load from other processes hits both alike
    for _ in range(max(3, size.repeats)):
        rounds.append((_time(lambda: [extract_names(a.title, a.text) for a in sample]),
                       _time(lambda: [tagger.tag(a) for a in sample])))
    t_names = statistics.median(n for n, _ in rounds)
    t_tag = statistics.median(t for _, t in rounds)
    ratio = statistics.median(n / t for n, t in rounds)
    kinds = _kind_accuracy(records, extract_names)

    rows = [[name, s["precision"], s["recall"], s["f1"], s["clusters"],
             len(s["errors"]["topics_with_both_events_merged"]), s["errors"]["stories_spanning_topics"],
             s.get("threshold", "")] for name, s in systems.items()]
    print(table(["system", "B3 P", "B3 R", "B3 F1", "stories", "topics: 2 events merged",
                 "stories across topics", "threshold"], rows,
                title=f"ECB+ stories, {len(records)} articles, {len(set(gold))} gold stories"))
    print()
    print(table(["threshold", "B3 P", "B3 R", "B3 F1", "stories"],
                [[th, s["precision"], s["recall"], s["f1"], s["clusters"]] for th, s in sweep.items()],
                title="TF-IDF single-pass threshold sweep"))
    print()
    print(table(["names", "P", "R", "F1"],
                [[f"{label} {m}", q[m]["precision"], q[m]["recall"], q[m]["f1"]]
                 for label, q in (("extract_names", names_q), ("naive capitalised runs", naive_q))
                 for m in ("strict", "lenient")],
                title=f"names vs {names_q['gold_names']} gold proper names (P is a lower bound)"))
    print(f"kind accuracy on matched names: {kinds['accuracy']} over {kinds['n']}")
    per_article_ms = 1000 * t_names / len(sample)
    print(f"names cost {per_article_ms:.3f} ms/article = {ratio:.2f} of Tagger.tag "
          f"({1000 * t_tag / len(sample):.3f} ms/article, names included)")
    for n in notes:
        print("note:", n)

    best = systems.get("new") or systems["before"]
    return {
        "corpus": {"name": "ECB+", "articles": len(records), "gold_stories": len(set(gold)),
                   "topics": len({r["topic"] for r in records}), "path": str(ECBPLUS_JSONL),
                   "order": f"topics shuffled (seed {SEED}), {TOPICS_PER_WINDOW} at a time, articles "
                            f"shuffled within; synthetic times over {SPAN.days} days"},
        "systems": systems, "tfidf_sweep": {str(k): v for k, v in sweep.items()},
        "names": {**names_q, "kind_accuracy": kinds, "naive_capitalised_runs": naive_q,
                  "cost_ms_per_article": round(per_article_ms, 4),
                  "cost_ratio_to_tagger_tag": round(ratio, 4),
                  "library_comparison": LIBRARY_NOTE},
        "prepare_seconds": round(t_prepare, 2), "notes": notes,
        "headline": [[f"{k} B3 P/R/F1", f"{s['precision']:.3f}/{s['recall']:.3f}/{s['f1']:.3f}"]
                     for k, s in systems.items()]
                    + [["names P/R (strict, P lower bound)",
                        f"{names_q['strict']['precision']:.3f}/{names_q['strict']['recall']:.3f}"],
                       ["names cost / Tagger.tag", f"{ratio:.2f}"]],
        "goals": [goal("stories B-cubed F1 >= 0.85 on ECB+", best["f1"] >= 0.85 if "new" in systems else None,
                       f"{best['f1']:.3f}", ">= 0.85")],
    }


def _time(fn: Callable[[], Any]) -> float:
    """CPU time of one call: steadier than wall time on a shared machine."""
    t = time.process_time()
    fn()
    return time.process_time() - t


def _kind_accuracy(records: list[dict], extract_names: Callable[..., Any]) -> dict[str, Any]:
    ok = n = 0
    for r in records:
        gold = {_canon(g["text"]): NAME_GOLD_KINDS[g["type"]] for g in r["names"] if g["type"] in NAME_GOLD_KINDS}
        if not gold:
            continue
        for tag in extract_names(r["title"], "\n\n".join(r["paragraphs"])):
            kind = gold.get(_canon(tag.key))
            if kind is not None:
                n += 1
                ok += tag.kind == kind
    return {"accuracy": round(ok / n, 4) if n else None, "n": n}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.stories_quality", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    size = QUICK if args.quick else DEFAULT
    started = time.perf_counter()
    env = environment()
    path = write_result("stories_quality", size, run(size), started, env)
    print(f"-> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
