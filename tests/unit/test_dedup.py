"""Deduplicator: exact / near / version copies point at the original;
different stories (even sharing stock text) are never merged."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from monitor.enrich.dedup import BandIndex, DedupConfig, Deduplicator
from monitor.enrich.normalize import normalize
from monitor.models import Article, RawArticle
from monitor.state import CountingStore, JsonStore
from tests.seeds import seed_text

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)


def _dedup(config: DedupConfig | None = None) -> tuple[Deduplicator, JsonStore, JsonStore, BandIndex]:
    exact, docs = JsonStore(), JsonStore()
    d = Deduplicator(exact, docs, config)
    return d, exact, docs, d.bands  # the candidate index: in memory, derived from docs


def _art(id: str, text: str, **kw: Any) -> Article:
    return normalize(RawArticle(id=id, source=kw.pop("source", "wire"), content=text, **kw))


# ---------------------------------------------------------------- seeds

SEEDS = ("000", "001", "002", "003", "004")


@pytest.fixture(scope="module")
def seeds() -> dict[str, Article]:
    return {p: normalize(RawArticle(id=p, source="seed", content=seed_text(p))) for p in SEEDS}


def test_seed_003_is_a_copy_of_002(seeds):
    d, *_ = _dedup()
    assert d.process(seeds["002"], T0).duplicate_of is None
    r = d.process(seeds["003"], T0)
    assert r.duplicate_of == "002"
    assert r.dup_kind in ("version", "near")
    assert r.similarity is not None and r.similarity > 0.5


def test_seeds_other_stories_are_never_duplicates_in_any_order(seeds):
    for order in itertools.permutations(SEEDS):
        d, *_ = _dedup()
        out = {p: d.process(seeds[p], T0) for p in order}
        dups = {p: a.duplicate_of for p, a in out.items() if a.duplicate_of}
        first, second = sorted(("002", "003"), key=order.index)
        assert dups == {second: first}, order


# ---------------------------------------------------------------- invented stories

LEAD = "ORVANE, April 3 (Meridian) -- The government of Orvane raised its benchmark fuel tax by four percent on Wednesday, the first increase in six years, sparking protests by haulage firms in the capital."
BODY = [
    "Finance Minister Lena Okafor told parliament that the extra revenue would fund repairs to the country's ageing bridges and rural roads.",
    "Haulage associations said the rise would add about 300 dollars a month to the cost of running a single lorry and warned of higher food prices.",
    "Several hundred drivers blocked the ring road around the capital for two hours in the afternoon before police cleared the lanes without arrests.",
    "Opposition leader Piet Varga called the increase a tax on working families and said his party would try to reverse it in the autumn budget.",
    "The central bank said in a separate note that the tax would lift consumer inflation by roughly a tenth of a percentage point this year.",
    "Economists at two local banks said the measure was modest compared with fuel taxes in neighbouring countries and unlikely to slow growth.",
    "The new rate takes effect on May 1 and will be reviewed after twelve months, according to the finance ministry's published schedule.",
]
STOCK = "Orvane, a country of about nine million people, has been trying to cut its budget deficit since a debt crisis a decade ago forced it to seek emergency loans."


def _story(*paras: str, title: str | None = None, footer: str | None = None) -> str:
    parts = ([title] if title else []) + list(paras) + ([footer] if footer else [])
    return "\n\n".join(parts)


ORIGINAL = _story("Orvane raises fuel tax, haulers protest", LEAD, *BODY, STOCK)


def _with_original() -> tuple[Deduplicator, JsonStore, JsonStore, JsonStore]:
    d, exact, docs, bands = _dedup()
    assert d.process(_art("orig", ORIGINAL, url="https://a.example/fuel"), T0).duplicate_of is None
    return d, exact, docs, bands


def _curly(s: str) -> str:
    return s.replace("'", "’")


@pytest.mark.parametrize(
    "name, text",
    [
        ("new headline + footer", _story(LEAD, *BODY, STOCK, title="Fuel tax rise angers Orvane truckers",
                                         footer="Reporting by the Ledger news desk; all content syndicated under licence.")),
        ("curly quotes + whitespace", _curly(_story(LEAD, *BODY, STOCK)).replace(". ", ".  ").replace("\n\n", "\n\n\n")),
        ("paragraphs reordered", _story(LEAD, *BODY[3:], *BODY[:3], STOCK)),
        ("one paragraph rewritten", _story(LEAD, *BODY[:2], "Police said several hundred truckers briefly blocked the capital's ring road, but the protest ended peacefully.", *BODY[3:], STOCK)),
        ("cut down to lead + three", _story(LEAD, BODY[0], BODY[1], BODY[4])),
        ("edited version: paragraphs dropped and added", _story(
            LEAD, BODY[0], BODY[2], BODY[3],
            "Drivers interviewed at a roadside cafe said they would pass the cost on to customers within weeks.",
            "The Ledger's own survey of twenty firms found most had no fuel hedging in place.",
        )),
    ],
)
def test_copies_point_at_the_original(name, text):
    d, *_ = _with_original()
    r = d.process(_art("copy", text, source="other-outlet"), T0 + timedelta(hours=2))
    assert r.duplicate_of == "orig", name
    # quotes/whitespace are folded away by the content hash: an exact copy
    assert r.dup_kind == ("exact" if name.startswith("curly") else r.dup_kind)
    assert r.dup_kind in ("exact", "near", "version")


def test_light_edits_are_near_and_heavy_edits_are_versions():
    d, *_ = _with_original()
    near = d.process(_art("c1", _story(LEAD, *BODY, STOCK, title="Another headline", footer="Syndicated by the Harbour Gazette under licence from the wire.")), T0)
    assert (near.dup_kind, near.duplicate_of) == ("near", "orig")
    version = d.process(_art("c2", _story(LEAD, BODY[0], BODY[2], "A brand new closing paragraph written by the second outlet about something else.")), T0)
    assert (version.dup_kind, version.duplicate_of) == ("version", "orig")
    assert near.similarity is not None and near.similarity >= 0.7


def test_copy_of_a_copy_points_at_the_original():
    d, *_ = _with_original()
    first = d.process(_art("copy1", _story(LEAD, *BODY[:5], "Extra closing line added by outlet one, which is long enough to count as a paragraph.")), T0)
    assert first.duplicate_of == "orig"
    second = d.process(_art("copy2", _story(LEAD, *BODY[:5], "Extra closing line added by outlet one, which is long enough to count as a paragraph.", "And outlet two added yet another paragraph at the very end of it.")), T0)
    assert second.duplicate_of == "orig"
    # a re-delivery of copy1's exact text also resolves to the original
    again = d.process(_art("copy1-again", first.text), T0)
    assert (again.duplicate_of, again.dup_kind) == ("orig", "exact")


def test_same_agency_same_day_different_stories_are_not_duplicates():
    d, *_ = _with_original()
    other = _story(
        "ORVANE, April 3 (Meridian) -- Orvane's national airline said on Wednesday it would order twelve new regional jets, replacing a fleet that has been grounded repeatedly for maintenance.",
        "Chief executive Marta Lind said the order was worth about 600 million dollars at list prices and would be financed partly by export credit agencies.",
        "The first aircraft are due in late 2026, the airline said, adding that the older planes would be sold to a leasing company.",
        "Unions welcomed the decision but asked for guarantees that maintenance jobs would stay in the country.",
        STOCK,
        BODY[4],  # even a second shared paragraph (inflation note) is not enough
    )
    r = d.process(_art("airline", other), T0)
    assert r.duplicate_of is None


def test_sharing_one_stock_background_paragraph_is_not_a_duplicate():
    d, *_ = _with_original()
    other = _story(
        "ORVANE, April 3 (Meridian) -- Floods cut power to thousands of homes in northern Orvane on Wednesday after two days of heavy rain, the grid operator said.",
        "Crews restored electricity to most districts by the evening, but some villages in the hills could remain without power until Friday.",
        "The weather service warned of more rain over the weekend and urged residents to avoid travel on mountain roads.",
        STOCK,
    )
    assert d.process(_art("floods", other), T0).duplicate_of is None


# ---------------------------------------------------------------- exact


def test_exact_by_url_with_tracking_params_guid_and_text():
    d, *_ = _with_original()
    by_url = d.process(_art("u", "Totally different text body here, updated later by the site editors.", url="https://www.a.example/fuel/?utm_source=rss&utm_medium=feed#top"), T0)
    assert (by_url.duplicate_of, by_url.dup_kind, by_url.similarity) == ("orig", "exact", 1.0)
    d.process(_art("g1", "An unrelated item about a chess tournament in the northern city, won by a teenager.", guid="tag:wire,2024:123"), T0)
    by_guid = d.process(_art("g2", "Some rewritten item text that shares nothing with the first one at all.", guid="tag:wire,2024:123"), T0)
    assert (by_guid.duplicate_of, by_guid.dup_kind) == ("g1", "exact")
    by_text = d.process(_art("t", ORIGINAL.replace("'", "’")), T0)
    assert (by_text.duplicate_of, by_text.dup_kind) == ("orig", "exact")


def test_replay_of_the_same_article_is_not_its_own_duplicate():
    d, *_ = _dedup()
    a = _art("same", ORIGINAL, url="https://a.example/fuel")
    assert d.process(a, T0).duplicate_of is None
    assert d.process(a, T0).duplicate_of is None


def test_empty_articles_are_not_duplicates_of_each_other():
    d, *_ = _dedup()
    assert d.process(_art("e1", ""), T0).duplicate_of is None
    assert d.process(_art("e2", "   "), T0).duplicate_of is None


# ---------------------------------------------------------------- TTL and state


def test_ttl_expiry_forgets_old_originals():
    d, exact, docs, bands = _with_original()
    assert d.expire(T0 + timedelta(days=1)) == 0
    assert d.process(_art("c1", ORIGINAL + "\n\nA footer line from another outlet, long enough to count."), T0 + timedelta(days=1)).duplicate_of == "orig"
    assert d.expire(T0 + timedelta(days=3, hours=1)) == 1
    assert len(docs) == 0 and len(bands) == 0
    # only the copy's exact key (seen a day later) is still within its TTL
    assert len(exact) == 1
    late = d.process(_art("late", ORIGINAL), T0 + timedelta(days=3, hours=2))
    assert late.duplicate_of is None
    assert d.expire(T0 + timedelta(days=7)) == 1
    assert len(docs) == len(bands) == len(exact) == 0


def test_state_is_json_and_about_one_kilobyte_per_article():
    d, exact, docs, bands = _dedup()
    n = 60
    for i in range(n):
        paras = [f"Story {i} paragraph {j}: " + " ".join(f"w{(i * 31 + j * 7 + k) % 997}" for k in range(40)) + "." for j in range(10)]
        d.process(_art(f"s{i}", "\n\n".join(paras), url=f"https://x.example/{i}"), T0)
    assert len(docs) == n
    per_article = (exact.nbytes() + docs.nbytes()) / n  # the band index is not stored
    assert per_article < 700, per_article


def test_an_original_and_a_copy_cost_one_record_each_and_a_replay_none():
    """Each store write is a changelog record in the daemon: an original's
    exact keys ride with its doc, a copy's in one record, and the indexes
    (bands, exact keys) are rebuilt from those two stores."""
    exact, docs = CountingStore(), CountingStore()
    d = Deduplicator(exact, docs)
    original = _art("orig", ORIGINAL, url="https://a.example/fuel", guid="fuel-1")
    copy = _art("copy", ORIGINAL, url="https://b.example/fuel", guid="fuel-2")
    assert d.process(original, T0).duplicate_of is None
    assert (docs.writes, exact.writes) == (1, 0)
    assert d.process(copy, T0).dup_kind == "exact"
    assert (docs.writes, exact.writes) == (1, 1)
    assert d.process(copy, T0).duplicate_of == "orig" and d.process(original, T0).duplicate_of is None
    assert (docs.writes, exact.writes) == (1, 1)
    rebuilt = Deduplicator(exact, docs)
    assert rebuilt.exact_index == d.exact_index and len(rebuilt.exact_index) == 5
    later = _art("copy-again", "another text entirely, short", url="https://b.example/fuel")
    assert rebuilt.process(later, T0).duplicate_of == "orig"  # the copy's url points at the original
