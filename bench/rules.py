"""rules: RuleEngine.evaluate cost per article with 10, 100 and 1,000 rules.

Rule packs come from ``bench.corpus.make_rulepack`` (entity, event, text,
compound, macro and source rules, lists, some exceptions), are written as
YAML and loaded with the real loader (checked against the watchlist and the
event catalog). Articles are normalized and tagged beforehand with the
1,000-entity watchlist (plus countries); only ``evaluate`` is timed, with a
fresh engine (empty alert store) per timed pass so every pass does the same
work, alert creation included.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Size, fmt, goal, spread, summary, table, timed
from bench.corpus import make_corpus, make_rulepack, make_watchlist, write_rules_dir

SIZES = (10, 100, 1000)
WATCHLIST = 1000


def run(size: Size) -> dict[str, Any]:
    from monitor.enrich.gazetteer import country_entities
    from monitor.enrich.normalize import normalize
    from monitor.enrich.tag import Tagger
    from monitor.enrich.watchlist import Watchlist
    from monitor.rules.engine import RuleEngine
    from monitor.rules.loader import load_ruleset

    corpus = make_corpus(size.rule_articles, seed=3, watched_rate=0.08)
    entities = make_watchlist(WATCHLIST)
    tagger = Tagger(Watchlist([*country_entities(), *entities]))
    articles = [tagger.tag(normalize(d)) for d in corpus.docs]
    nows = [d.published for d in corpus.docs]
    known_entities = {e.id for e in tagger.watchlist}
    known_events = set(tagger.events.types)

    packs = {}
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-rules-") as tmp:
        for n in SIZES:
            d = Path(tmp) / f"r{n}"
            write_rules_dir(d, [], make_rulepack(n, entities))
            t = time.perf_counter()
            ruleset = load_ruleset(d, known_entities, known_events)
            load_s = time.perf_counter() - t
            t = time.perf_counter()
            RuleEngine(ruleset)
            compile_s = time.perf_counter() - t
            packs[n] = (ruleset, load_s, compile_s)

    def one_pass(ruleset: Any) -> int:
        engine = RuleEngine(ruleset)
        return sum(len(engine.evaluate(a, now)) for a, now in zip(articles, nows, strict=True))

    for ruleset, _, _ in packs.values():  # warm-up
        one_pass(ruleset)
    per_article: dict[int, list[float]] = {n: [] for n in SIZES}
    alerts: dict[int, int] = {}
    order = list(SIZES)
    for r in range(size.repeats):  # interleaved, rotating order
        for n in order[r % 3:] + order[:r % 3]:
            # engine construction (rule compilation) is outside the timed part
            engine = RuleEngine(packs[n][0])
            dt, fired = timed(lambda e=engine: sum(
                len(e.evaluate(a, now)) for a, now in zip(articles, nows, strict=True)))
            per_article[n].append(dt / len(articles))
            alerts[n] = fired

    results = {}
    rows = []
    for n in SIZES:
        s = summary(per_article[n])
        ruleset, load_s, compile_s = packs[n]
        results[str(n)] = {"rules": len(ruleset.rules), "load_s": load_s, "compile_s": compile_s,
                           "evaluate_per_article_s": s, "alerts_per_article": alerts[n] / len(articles),
                           "per_rule_us": s["median"] / n * 1e6}
        rows.append([n, fmt(load_s), spread(s, 1e6), fmt(s["median"] / n * 1e6),
                     fmt(alerts[n] / len(articles))])
    ratio = summary([a / b for a, b in zip(per_article[1000], per_article[10], strict=True)])
    print(table(["rules", "load s", "evaluate us/article", "us/rule", "alerts/article"], rows,
                f"rules: {len(articles)} pre-tagged articles ({WATCHLIST} entities + countries), "
                f"{size.repeats} repeats; median [min-max]"))
    print(f"cost ratio 1000/10 rules: {spread(ratio)}")
    return {
        "corpus": corpus.stats(),
        "by_rules": results,
        "ratio_1000_over_10": ratio,
        "headline": [
            ["evaluate us/article @10", spread(summary(per_article[10]), 1e6)],
            ["evaluate us/article @100", spread(summary(per_article[100]), 1e6)],
            ["evaluate us/article @1000", spread(summary(per_article[1000]), 1e6)],
            ["ratio 1000/10", spread(ratio)],
            ["alerts/article @10 / @1000", f"{fmt(alerts[10] / len(articles))} / "
                                           f"{fmt(alerts[1000] / len(articles))}"],
        ],
        "goals": [goal("rules at 1,000 <= 2x the cost at 10", ratio["median"] <= 2.0,
                       f"{fmt(ratio['median'])}x", "<= 2x")],
    }
