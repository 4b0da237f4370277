"""tagging: Tagger cost per article vs watchlist size, and a naive regex baseline.

Watchlists are the built-in country gazetteer (as in production) plus 10,
1,000 or 10,000 synthetic people/organisations. The corpus names people and
organisations from the same 10,000-entity universe, so a bigger watchlist
also finds more entities per article (reported as entities/mentions per
article). The row "10000 unmentioned" is a control: the 10 core entities
plus 9,990 entities that the corpus never names, so it isolates the cost
of the watchlist's size from the cost of its extra hits.

"raw AC hits/art" counts Aho-Corasick matches per article before the case,
exclude and overlap checks, which run in Python per match. The automaton
only reports matches on token boundaries (patterns are padded, see
``monitor.enrich.tag._pattern``), so a short surname inside a common word
never leaves C.

The baseline is what one would write first: one compiled ``re`` pattern per
alias form (every full alias and short form, ``\\b...\\b``, IGNORECASE), each
``finditer`` over title and text. It only finds raw hits (no offsets map,
overlap resolution, headline flag or model objects), so it is a floor for
that approach, not an equivalent.
"""

from __future__ import annotations

import re
import time
from typing import Any

from bench.common import Size, fmt, goal, spread, summary, table, timed
from bench.corpus import CORE_WATCHED, entity_universe, make_corpus, make_watchlist

SIZES = (10, 1000, 10000)


def _naive_patterns(watchlist: Any) -> list[tuple[re.Pattern[str], int]]:
    pats = []
    for idx, e in enumerate(watchlist.entities):
        for alias in dict.fromkeys([*e.full_aliases(), *e.requires_context]):
            pats.append((re.compile(r"\b" + re.escape(alias) + r"\b", re.IGNORECASE), idx))
    return pats


def _naive_tag(pats: list[tuple[re.Pattern[str], int]], article: Any) -> int:
    hits = 0
    for rx, _ in pats:
        for text in (article.title or "", article.text):
            for _m in rx.finditer(text):
                hits += 1
    return hits


def _raw_hits(tagger: Any, articles: list) -> float | None:
    """Aho-Corasick matches per article before the case/exclude checks
    (uses Tagger internals; None if they changed)."""
    try:
        return sum(tagger._auto.raw_hits(a.text) for a in articles) / len(articles)
    except Exception:  # noqa: BLE001 - a diagnostic only
        return None


def _per_article(fn: Any, articles: list, repeats: int) -> dict[str, Any]:
    times = []
    for _ in range(repeats):
        dt, _ = timed(lambda: [fn(a) for a in articles])
        times.append(dt / len(articles))
    return summary(times)


def run(size: Size) -> dict[str, Any]:
    from monitor.enrich.gazetteer import country_entities
    from monitor.enrich.normalize import normalize
    from monitor.enrich.tag import Tagger
    from monitor.enrich.watchlist import Watchlist

    corpus = make_corpus(size.tag_articles, seed=2)
    articles = [normalize(d) for d in corpus.docs]
    countries = list(country_entities())
    repeats = size.repeats

    core = make_watchlist(CORE_WATCHED)
    core_ids = {e.id for e in core}
    control = core + [e for e in entity_universe(seed=8)[CORE_WATCHED:] if e.id not in core_ids]
    configs: list[tuple[str, int, list]] = [(str(n), n, make_watchlist(n)) for n in SIZES]
    configs.append(("10000 unmentioned", 10000, control[:10000]))

    taggers = []
    for label, n, entities in configs:
        watchlist = Watchlist([*countries, *entities])
        t = time.perf_counter()
        tagger = Tagger(watchlist)
        taggers.append((label, n, watchlist, tagger, time.perf_counter() - t))
        for a in articles[:20]:  # warm-up (lazy compiles, caches)
            tagger.tag(a)

    # interleaved: every repeat times every watchlist, in a rotating order
    ents_t: dict[str, list[float]] = {c[0]: [] for c in taggers}
    full_t: dict[str, list[float]] = {c[0]: [] for c in taggers}
    for r in range(repeats):
        for label, _, _, tagger, _ in taggers[r % len(taggers):] + taggers[:r % len(taggers)]:
            dt, _ = timed(lambda t=tagger: [t.tag_entities(a) for a in articles])
            ents_t[label].append(dt / len(articles))
            dt, _ = timed(lambda t=tagger: [t.tag(a) for a in articles])
            full_t[label].append(dt / len(articles))

    results: dict[str, Any] = {}
    rows = []
    for label, n, watchlist, tagger, build_s in taggers:
        ents, full = summary(ents_t[label]), summary(full_t[label])
        tagged = [tagger.tag(a) for a in articles]
        per_art = {
            "entities": sum(len(a.entities) for a in tagged) / len(tagged),
            "mentions": sum(len(e.mentions) for a in tagged for e in a.entities) / len(tagged),
            "events": sum(len(a.events) for a in tagged) / len(tagged),
            "raw_automaton_hits": _raw_hits(tagger, articles),
        }
        naive = None
        if label in map(str, SIZES):
            t = time.perf_counter()
            pats = _naive_patterns(watchlist)
            compile_s = time.perf_counter() - t
            subset = articles[:size.naive_articles[n]]
            nv = _per_article(lambda a, p=pats: _naive_tag(p, a), subset, size.naive_repeats)
            naive = {"per_article_s": nv, "patterns": len(pats), "compile_s": compile_s,
                     "articles": len(subset), "ratio_naive_over_tag_entities": nv["median"] / ents["median"]}
            print(f"  naive baseline @{label}: {len(pats)} patterns, {len(subset)} articles", flush=True)
        results[label] = {"entities_watched": len(watchlist), "synthetic_entities": n, "build_s": build_s,
                          "tag_entities_per_article_s": ents, "tag_per_article_s": full,
                          "per_article": per_art, "naive": naive}
        rows.append([label, len(watchlist), fmt(build_s), spread(ents, 1e3), spread(full, 1e3),
                     fmt(per_art["entities"]), fmt(per_art["mentions"]), fmt(per_art["raw_automaton_hits"]),
                     spread(naive["per_article_s"], 1e3) if naive else "-",
                     f"{naive['ratio_naive_over_tag_entities']:.0f}x" if naive else "-"])

    def ratio(key: str, hi: str, lo: str = "10") -> dict[str, Any]:
        a, b = results[hi][key]["values"], results[lo][key]["values"]
        return summary([x / y for x, y in zip(a, b, strict=True)])

    r_ents = ratio("tag_entities_per_article_s", "10000")
    r_full = ratio("tag_per_article_s", "10000")
    r_ctrl = ratio("tag_entities_per_article_s", "10000 unmentioned")
    print(table(["watchlist", "entities", "build s", "tag_entities ms", "tag (full) ms", "ents/art",
                 "mentions/art", "raw AC hits/art", "naive regex ms", "naive/ours"], rows,
                f"tagging: {len(articles)} articles ({corpus.stats()['bytes_median']} B median), "
                f"{repeats} repeats; per-article cost, median [min-max]; 'entities' includes "
                f"{len(countries)} countries"))
    print(f"cost ratio 10000/10: tag_entities {spread(r_ents)}, full tag {spread(r_full)}, "
          f"tag_entities with unmentioned 10000 {spread(r_ctrl)}")
    return {
        "corpus": corpus.stats(),
        "by_watchlist": results,
        "ratio_10000_over_10": {"tag_entities": r_ents, "tag": r_full, "tag_entities_unmentioned": r_ctrl},
        "headline": [
            ["tag_entities ms/article @10", spread(results["10"]["tag_entities_per_article_s"], 1e3)],
            ["tag_entities ms/article @10k", spread(results["10000"]["tag_entities_per_article_s"], 1e3)],
            ["full tag ms/article @10 / @10k", (f"{fmt(results['10']['tag_per_article_s']['median'] * 1e3)}"
             f" / {fmt(results['10000']['tag_per_article_s']['median'] * 1e3)}")],
            ["ratio 10k/10 tag_entities (full tag)", f"{spread(r_ents)} ({fmt(r_full['median'])})"],
            ["ratio 10k/10, unmentioned control", spread(r_ctrl)],
            ["naive regex / ours @10 / @1k / @10k", " / ".join(
                f"{results[str(n)]['naive']['ratio_naive_over_tag_entities']:.0f}x" for n in SIZES)],
        ],
        "goals": [goal("tagging at 10,000 entities <= 1.5x the cost at 10", r_ents["median"] <= 1.5,
                       f"{fmt(r_ents['median'])}x (tag_entities; full tag {fmt(r_full['median'])}x; "
                       f"unmentioned control {fmt(r_ctrl['median'])}x)", "<= 1.5x")],
    }
