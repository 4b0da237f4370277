"""Fast paths in normalize give the plain formulas' results: fold (ASCII
without NFKC, quote replacement without translate) and guess_language
(ASCII letter count, script patterns skipped below their lowest range)."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.enrich import normalize as nz

QUOTES = "‘’‚‛′`´“”„‟″«»–—‐‑−'\""
SAMPLES = ["The", "and", "the", "of", "der", "die", "le", "la", "el", "é", "ß", "ﬁ", "İ", "Ⅻ", "½", "²", "_", "9",
           "한국", "日本", "中文", "русский", "ελληνικά", "עברית", "हिन्दी", "ไทย", "عربي", " ", "\n", "  ", ".", ","]


def plain_fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).translate(nz._QUOTES).lower().split())


def plain_guess(text: str) -> str | None:
    sample = text[:2000]
    letters = len(nz._LETTER.findall(sample))
    if letters < 20:
        return None
    for lang, pat in nz._SCRIPTS:
        if len(pat.findall(sample)) > letters * 0.3:
            if lang == "zh" and nz._SCRIPTS[1][1].search(sample):
                return "ja"
            return lang
    votes: dict[str, int] = {}
    for w in re.findall(r"\w+", sample.lower()):
        if (vote := nz._STOP_INDEX.get(w)) is not None:
            votes[vote] = votes.get(vote, 0) + 1
    ranked = sorted(votes.items(), key=lambda kv: -kv[1])
    if not ranked or ranked[0][1] < 5:
        return None
    if len(ranked) > 1 and ranked[0][1] < 1.5 * ranked[1][1]:
        return None
    return ranked[0][0]


words = st.lists(st.one_of(st.sampled_from(SAMPLES), st.sampled_from(list(QUOTES)),
                           st.text(max_size=6)), max_size=120).map(" ".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(words, st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)))
def test_fold_equals_plain_formula(text):
    assert nz.fold(text) == plain_fold(text)


@settings(max_examples=400, deadline=None)
@given(words)
def test_guess_language_equals_plain_formula(text):
    assert nz.guess_language(text) == plain_guess(text)
    assert nz.guess_language(text * 30) == plain_guess(text * 30)  # past the 2,000-character sample


def test_script_ranges_start_at_first_script_char():
    lows = [re.match(r"\[\\u([0-9a-f]{4})", pat.pattern).group(1) for _, pat in nz._SCRIPTS]
    assert min(chr(int(x, 16)) for x in lows) == nz._FIRST_SCRIPT_CHAR


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_letter_count_equals_regex(text):
    letters, scripts = nz._letters_and_scripts(text)
    assert letters == len(nz._LETTER.findall(text))
    if not scripts:
        assert all(not pat.search(text) for _, pat in nz._SCRIPTS)
