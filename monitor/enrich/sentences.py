"""Paragraph and sentence spans over ``Article.text``.

Events are detected per sentence, and every offset newsmon emits points into
``Article.text``, so splitting returns ``(start, end)`` spans rather than
strings. A small rule-based splitter is used instead of pysbd: on the seed
articles it gives the same boundaries for news prose (abbreviations such as
"U.S.", "Sept.", "Mr.", initials and datelines survive) and it is
~75x faster on the seeds (1.5 ms vs 116 ms for 108 paragraphs), which
matters at streaming rates.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

# Words that end with a period without ending the sentence (compared lowercased).
_ABBREV = frozenset(
    "mr mrs ms dr prof st mt ft gen lt col maj capt cpt sgt adm cmdr sen rep gov pres "
    "supt insp jr sr inc corp co ltd bros no nos vol approx dept est fig gov't "
    "jan feb mar apr jun jul aug sep sept oct nov dec a.m p.m vs v".split()
)
# After a dotted acronym ("U.S.") a new sentence usually starts with one of these.
_STARTERS = frozenset(
    "the it he she they we i but this that these those in on at a an his her its their "
    "there however meanwhile".split()
)
_CANDIDATE = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])|\n+")
_DOTTED = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]$")
_TOKEN_BEFORE = re.compile(r"[^\s\"'“‘(\[]+$")
_WORD_AFTER = re.compile(r"\s+[\"'“‘(\[]?([A-Za-z]+)")


def paragraph_spans(text: str, paragraphs: Sequence[str] = ()) -> list[tuple[int, int]]:
    """(start, end) of each paragraph in ``text``. Uses ``paragraphs`` when
    ``text == "\\n\\n".join(paragraphs)`` (the normalizer's contract) and falls
    back to splitting on blank lines otherwise, so offsets are always valid."""
    if paragraphs and "\n\n".join(paragraphs) == text:
        spans, pos = [], 0
        for p in paragraphs:
            spans.append((pos, pos + len(p)))
            pos += len(p) + 2
        return spans
    spans, pos = [], 0
    for part in text.split("\n\n"):
        spans.append((pos, pos + len(part)))
        pos += len(part) + 2
    return spans


def paragraph_of(spans: Sequence[tuple[int, int]], offset: int) -> int:
    """Index of the paragraph containing ``offset`` (by start position)."""
    starts = [s for s, _ in spans]
    return max(0, bisect.bisect_right(starts, offset) - 1)


def _is_boundary(text: str, start: int, punct: str, after: int) -> bool:
    if punct.startswith(("\n", "..")) or not punct.startswith("."):
        return True
    token = _TOKEN_BEFORE.search(text[start:after - len(punct)])
    if token is None:
        return True
    word = token.group().lower()
    if word in _ABBREV or (len(word) == 1 and word.isalpha()):
        return False
    if _DOTTED.match(token.group()):  # "U.S" / "a.m": split only before a typical opener
        nxt = _WORD_AFTER.match(text, after)
        return bool(nxt and nxt.group(1).lower() in _STARTERS)
    return True


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentences of ``text[start:end]`` as absolute (start, end) spans,
    stripped of surrounding whitespace; empty sentences are dropped."""
    end = len(text) if end is None else end
    out: list[tuple[int, int]] = []
    begin = start
    for m in _CANDIDATE.finditer(text, start, end):
        if _is_boundary(text, begin, m.group(), m.end()):
            cut = m.start() if m.group().startswith("\n") else m.end()
            out.append((begin, cut))
            begin = m.end()
    out.append((begin, end))
    spans = []
    for s, e in out:
        seg = text[s:e]
        lead = len(seg) - len(seg.lstrip())
        trail = len(seg) - len(seg.rstrip())
        if e - trail > s + lead:
            spans.append((s + lead, e - trail))
    return spans
