"""rules: RuleEngine.evaluate cost per article with 10, 100 and 1,000 rules.

Rule packs come from ``bench.corpus.make_rulepack`` (entity, event, text,
compound, macro and source rules, lists, some exceptions), are written as
YAML and loaded with the real loader (checked against the watchlist and the
event catalog). Articles are normalized and tagged beforehand with the
1,000-entity watchlist (plus countries); only ``evaluate`` is timed, with a
fresh engine (empty alert store) per timed pass so every pass does the same
work, alert creation included.

Control "1000 inert": the 10-rule pack plus 990 rules of the same kinds that
cannot match this corpus (entities it never names, invented phrases and
regexes; ``make_rulepack(..., inert=True)``). The 1,000-rule pack fires
about 160 times the alerts of the 10-rule one, because each rule matches
about as often; the control keeps the alerts of the 10-rule pack, so its
ratio to 10 rules is what the size of the ruleset alone costs.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Size, fmt, goal, spread, summary, table, timed
from bench.corpus import CORE_WATCHED, entity_universe, make_corpus, make_rulepack, make_watchlist, write_rules_dir

SIZES = (10, 100, 1000)
CONTROL = "1000 inert"
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

    universe = {e.id for e in entity_universe()}
    unnamed = [e for e in entity_universe(seed=8)[CORE_WATCHED:] if e.id not in universe][:WATCHLIST]
    base, inert = make_rulepack(10, entities), make_rulepack(990, unnamed, inert=True, prefix="inert-")
    control = {"lists": {**base["lists"], **inert["lists"]}, "macros": base["macros"],
               "rules": base["rules"] + inert["rules"]}
    known = known_entities | {e.id for e in unnamed}  # the loader checks ids; the tagger never sees them

    packs: dict[int | str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-rules-") as tmp:
        for n in (*SIZES, CONTROL):
            d = Path(tmp) / f"r{n}".replace(" ", "_")
            write_rules_dir(d, [], control if n == CONTROL else make_rulepack(n, entities))
            t = time.perf_counter()
            ruleset = load_ruleset(d, known, known_events)
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
    per_article: dict[int | str, list[float]] = {n: [] for n in packs}
    alerts: dict[int | str, int] = {}
    candidates: dict[int | str, float] = {}
    order = list(packs)
    for r in range(size.repeats):  # interleaved, rotating order
        for n in order[r % len(order):] + order[:r % len(order)]:
            # engine construction (rule compilation) is outside the timed part
            engine = RuleEngine(packs[n][0])
            dt, fired = timed(lambda e=engine: sum(
                len(e.evaluate(a, now)) for a, now in zip(articles, nows, strict=True)))
            per_article[n].append(dt / len(articles))
            alerts[n] = fired

    for n in packs:  # rules checked per article (the index's candidates), untimed
        engine = RuleEngine(packs[n][0])
        candidates[n] = sum(len(engine.candidates(a)) for a in articles) / len(articles)

    results = {}
    rows = []
    for n, (ruleset, load_s, compile_s) in packs.items():
        s = summary(per_article[n])
        count = len(ruleset.rules)
        results[str(n)] = {"rules": count, "load_s": load_s, "compile_s": compile_s,
                           "evaluate_per_article_s": s, "alerts_per_article": alerts[n] / len(articles),
                           "candidates_per_article": candidates[n], "per_rule_us": s["median"] / count * 1e6}
        rows.append([n, fmt(load_s), spread(s, 1e6), fmt(s["median"] / count * 1e6),
                     fmt(candidates[n]), fmt(alerts[n] / len(articles))])
    ratio = summary([a / b for a, b in zip(per_article[1000], per_article[10], strict=True)])
    ratio_ctrl = summary([a / b for a, b in zip(per_article[CONTROL], per_article[10], strict=True)])
    print(table(["rules", "load s", "evaluate us/article", "us/rule", "checked/article", "alerts/article"], rows,
                f"rules: {len(articles)} pre-tagged articles ({WATCHLIST} entities + countries), "
                f"{size.repeats} repeats; median [min-max]"))
    print(f"cost ratio 1000/10 rules: {spread(ratio)}; {CONTROL}/10 (same alerts as 10): {spread(ratio_ctrl)}")
    return {
        "corpus": corpus.stats(),
        "by_rules": results,
        "ratio_1000_over_10": ratio,
        "ratio_1000_inert_over_10": ratio_ctrl,
        "headline": [
            ["evaluate us/article @10", spread(summary(per_article[10]), 1e6)],
            ["evaluate us/article @100", spread(summary(per_article[100]), 1e6)],
            ["evaluate us/article @1000", spread(summary(per_article[1000]), 1e6)],
            ["ratio 1000/10", spread(ratio)],
            [f"ratio {CONTROL}/10 (control)", spread(ratio_ctrl)],
            ["alerts/article @10 / @1000", (f"{fmt(alerts[10] / len(articles))} / "
                                           f"{fmt(alerts[1000] / len(articles))}")],
        ],
        "goals": [goal("rules at 1,000 <= 2x the cost at 10", ratio["median"] <= 2.0,
                       f"{fmt(ratio['median'])}x ({CONTROL} control: {fmt(ratio_ctrl['median'])}x)", "<= 2x")],
    }
