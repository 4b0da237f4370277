"""Fast paths of the core (issues 13 and 16) give exactly the plain formulas'
results: character cleaning, CSS/JS junk checks, the name-run scan, dedup
tokens, story content words and weight ranking, shingles and MinHash
signatures. A difference here would change what normalize, names, dedup or
stories output, so each is compared on random text built from the
characters the fast path treats specially."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.enrich import dedup as dd
from monitor.enrich import names as nm
from monitor.enrich import normalize as nz
from monitor.stories import features as sf
from monitor.stories import profile as sp

ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)


def _mix(pieces: list[str], max_size: int = 60) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(st.sampled_from(pieces), st.text(max_size=4)), max_size=max_size).map("".join)


SPACES = _mix([" ", "  ", "\t", "\u00a0", "\u2009", "\u3000", "\u200b", "\x01", "\x85", "\r\n", "\r", "\u2028",
               "\u2029", "\n", "a", "é", "Word"])


def plain_clean_chars(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", "", re.sub("[\u200b\u200c\u200d\u2060\ufeff\u00ad]", "", text))
    return re.sub(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+", " ", text)


@settings(max_examples=500, deadline=None)
@given(st.one_of(SPACES, ANY_TEXT))
def test_clean_chars_equals_plain_formula(text):
    assert nz._clean_chars(text) == plain_clean_chars(text)


CSS = _mix(["{", "}", ";", ":", "@media", " ", "display", "p.x:before", "color", "-->", "var x =", "})();",
            "window.", "<!--", "Background: a", "a"], 12)


@settings(max_examples=500, deadline=None)
@given(CSS)
def test_css_check_equals_plain_patterns(text):
    plain = bool(nz._CSS_SELECTOR.match(text) or nz._CSS_DECL.match(text) or text.endswith("-->"))
    assert nz._is_css(text) == plain


NAMES = _mix([" ", "al-", "el-", "d'", "d’", "bin ", "ibn-", "abu-", "Assad", "Ivoire", "Kim", "Jong-Un", "-", "'",
              "’", "of ", "the ", ".", "É", "x", "\t", "\n"])


@settings(max_examples=800, deadline=None)
@given(st.one_of(NAMES, ANY_TEXT))
def test_name_runs_equal_the_plain_pattern(text):
    assert [m.span() for m in nm._runs(text)] == [m.span() for m in nm._RUN.finditer(text)]


WORDS = _mix(["The", " ", "don’t", "É", "ß", "ﬁ", "İ", "²", "½", "_", "9", "٣", "한국", "-", "?", "\u00a0", "x",
               "abc", "Summit"])


@settings(max_examples=500, deadline=None)
@given(st.one_of(WORDS, ANY_TEXT))
def test_dedup_tokens_equal_the_word_regex(text):
    assert dd._tokens(text) == dd._WORD.findall(unicodedata.normalize("NFKC", text).lower())


@settings(max_examples=500, deadline=None)
@given(st.one_of(WORDS, ANY_TEXT))
def test_story_content_words_equal_the_letter_regex(text):
    text = text.lower()
    assert sf._content_counts(text) == Counter(re.findall(r"[^\W\d_]{3,}", text))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=1, max_size=40))
def test_shingles_and_signature_equal_the_plain_formulas(words):
    h = dd.MinHasher(num_perm=64, shingle_size=4, seed=7)
    wh = h._word_hashes(words)
    k = min(h.k, len(wh))
    acc = np.zeros(len(wh) - k + 1, dtype=np.uint64)
    for j in range(k):
        acc = acc * h.roll[j] + wh[j:j + len(acc)]
    acc ^= acc >> np.uint64(31)
    sh = h.shingles(words)
    assert sh.tolist() == np.unique(acc).tolist()
    plain = ((sh[:, None] * h.a[None, :] + h.b[None, :]) >> np.uint64(32)).min(axis=0).astype(np.uint32)
    assert h.signature(sh).tolist() == plain.tolist()


JUNK = _mix(["Advertisement", "- ADS -", "Leave a reply", "12 comments", "Photo: Reuters", "(AP Photo/Ahn)", "(Yonhap)",
             "mk.rk", "/jk/", "(Reporting by Jo Roe)", "MENAFN12092023000071011013ID1107050546", "var x = 1", "})();",
             "View larger image", "this photo", "(L)", "© 2023 X", "All rights reserved.", "{", ";", "-->", " ", "a",
             "Follow us on X", "(With a b)"], 8)


@settings(max_examples=800, deadline=None)
@given(JUNK)
def test_junk_unit_check_equals_the_plain_patterns(text):
    plain = bool(nz._CSS_SELECTOR.match(text) or nz._CSS_DECL.match(text) or nz._JS_LINE.match(text)
                 or text.endswith("-->") or nz._AD_MARKER.match(text) or nz._PROMPT.match(text)
                 or nz._is_disclaimer(text) or nz._VIEW_LARGER.match(text)
                 or (nz._CREDIT_END.search(text) and nz._PHOTO_CUE.search(text)) or nz._PHOTO_CREDIT.match(text)
                 or nz._STANDALONE_PAREN.match(text) or nz._AGENCY_SLUG.match(text)
                 or nz._AGENCY_CREDITS.match(text) or nz._TRACKING_CODE.match(text))
    assert nz._is_junk_unit(text) == plain


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.one_of(st.text(max_size=3), st.integers(0, 50)).map(str),
                       st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, -1.0]), max_size=30))
def test_heaviest_first_is_the_plain_sort(weights):
    assert sp.heaviest_first(weights) == sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))
