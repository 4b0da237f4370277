"""The tagger's automaton matches aliases only on token boundaries by
searching padded boundary forms; these tests check that this finds exactly
the hits of the plain method (every occurrence of every folded alias, then
the isalnum boundary check), punctuation, spaces and case folding included."""

from __future__ import annotations

import random
import re
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.enrich import tag as tg
from monitor.enrich.watchlist import EntitySpec, Watchlist


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
def test_boundary_form_is_non_alphanumerics_as_spaces(s):
    assert tg._boundary_form(s) == re.sub(r"[\W_]", " ", s)


def _plain_hits(auto: tg._Automaton, keys: dict, text: str) -> list:
    """The hits of the original method: find every folded key, keep those on
    token boundaries, then the same case and exclude checks."""
    norm = tg._Normalized(text)
    s = norm.text
    raw, excluded = [], defaultdict(list)
    for key, payloads in keys.items():
        start = s.find(key)
        while start != -1:
            end = start + len(key)
            if not ((s[start].isalnum() and start > 0 and s[start - 1].isalnum())
                    or (s[end - 1].isalnum() and end < len(s) and s[end].isalnum())):
                o_start, o_end = norm.orig(start), norm.orig(end - 1) + 1
                for p in payloads:
                    if p.cased is not None and tg.surface_form(text[o_start:o_end]) != p.cased:
                        continue
                    if p.kind == tg.EXCLUDE:
                        excluded[p.entity].append((o_start, o_end))
                    else:
                        raw.append((o_start, o_end, p.entity, p.kind))
            start = s.find(key, start + 1)
    return [h for h in raw if not any(a <= h[0] and h[1] <= b for a, b in excluded.get(h[2], ()))]


def _keys(auto: tg._Automaton) -> dict:
    keys = {}
    for pattern, forms in auto.automaton.items():
        for span, trail, key, payloads in forms:
            lead = len(pattern) - span
            keys[key if key is not None else pattern[lead:len(pattern) - trail]] = payloads
    return keys


def test_padded_automaton_hits_equal_plain_hits():
    entities = [
        EntitySpec(id="kim", type="person", name="Kim Jong Un", aliases=["Kim", "Mr. Kim"], exclude=["Kim Jong Il"]),
        EntitySpec(id="oneil", type="person", name="Tip O'Neil", aliases=["O'Neil", "'Neil'", "Neil"]),
        EntitySpec(id="att", type="organization", name="AT&T", aliases=["AT & T", "A.T.T."]),
        EntitySpec(id="strasse", type="organization", name="Straße AG", aliases=["Strasse", "ß-Werk"]),
        EntitySpec(id="un", type="organization", name="United Nations", aliases=["UN", "U.N."]),
        EntitySpec(id="x", type="organization", name="X", aliases=["x-ray", "ray", "3M", "_3M_"]),
    ]
    auto = tg._Automaton.build(Watchlist(entities))
    keys = _keys(auto)
    words = ["Kim", "kim", "KIM", "Kim Jong Un", "Kim Jong Il", "skimmed", "Mr. Kim", "Mr Kim", "O'Neil", "O-Neil",
             "O Neil", "'Neil'", "Neil", "Neill", "AT&T", "AT & T", "A.T.T.", "ATT", "Straße", "STRASSE", "Strasse",
             "ß-Werk", "SS-Werk", "UN", "un", "U.N.", "unless", "x-ray", "X ray", "3M", "_3M_", "3Ms", "é", "—",
             ",", ".", "(", ")", "\n\n", "  ", "-", "'", "\"", "_", "İ", "ﬁ", "Kimé", "éKim"]
    rng = random.Random(11)
    checked = 0
    for _ in range(1500):
        text = "".join(rng.choice(words) + rng.choice(["", " ", " ", ", ", "\n\n", "-"]) for _ in range(rng.randint(1, 12)))
        ours = sorted(auto.hits(text))
        assert ours == sorted(_plain_hits(auto, keys, text)), text
        checked += len(ours)
    assert checked > 1000


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
       | st.lists(st.sampled_from(list(tg._DASHES) + ["‘", "’", "“", "”", "«", "`", "´", "\u00a0", "\t", "a", "é", " "]),
                  max_size=30).map("".join))
def test_translate_equals_str_translate(s):
    assert tg._translate(s) == s.translate(tg._TABLE)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([" ", "  ", "\n", "\n\n", "\t", "\r", "\x0b", "\x0c", "\u00a0", "\u2003", "\u3000",
                                 "a", "é", "-", "x y"]), max_size=40).map("".join))
def test_space_runs_are_those_of_the_plain_pattern(s):
    assert [m.span() for m in tg._SPACE_RUN.finditer(s)] == [m.span() for m in re.finditer(r"\s{2,}|[^\S ]", s)]
