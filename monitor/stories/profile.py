"""The stored form of a story's evidence: compact, because every live story holds one.

A profile lives twice per live story: as Python objects in the worker's
table and as JSON in its changelog. Stored as ``{key: float}``, a profile of
80 words and 32 names cost ~11 kB of Python objects (a str, a float and a
dict slot per entry) and ~1.5 kB of JSON. So a weight vector is stored as

    [keys joined by a separator, the largest weight, base64 of the bytes weight / largest * 255]

heaviest first (the order is the rank): two strings and a float, ~1/8 of
the Python memory and half the JSON. Rounding a weight to 1/255 of the
largest moves a cosine by well under 1 %; matching reads the vectors back
as dicts. Labels (``names``) are one string too.

Separators: names hold spaces but never a tab, and entity ids hold no
whitespace at all.

Words are stored as term ids (``term_id``: CRC-32 of the word, 4 bytes, in
base64 like the weights): 5.3 characters a word instead of 8.5 with its
separator. Two words of the live vocabulary (~10^5) share an id with odds
of about 1 in 10^9 per pair; they would then count as one word, which costs
a cosine a trace. Document frequencies count the same ids (``DocFreq``).
"""

from __future__ import annotations

import struct
import zlib
from base64 import b64decode, b64encode
from operator import itemgetter
from typing import Any

LEVELS = 255
_weight_of = itemgetter(1)
KEY_SEP = "\t"

Packed = list[Any]


def heaviest_first(weights: dict[Any, float]) -> list[tuple[Any, float]]:
    """``weights``' items by weight, largest first, ties by key: what
    ``sorted(key=lambda kv: (-kv[1], kv[0]))`` gives, in two sorts keyed in C
    (sort is stable, also in reverse), about twice as fast."""
    ranked = sorted(weights.items())
    ranked.sort(key=_weight_of, reverse=True)
    return ranked


def pack(weights: dict[str, float], sep: str) -> Packed:
    """``weights`` as a packed vector, heaviest first (ties by key)."""
    return pack_with_levels(weights, sep)[0]


def pack_with_levels(weights: dict[str, float], sep: str) -> tuple[Packed, dict[str, float] | None]:
    """``pack``, and what ``levels`` reads back from it (None if a key holds ``sep``)."""
    ranked = heaviest_first(weights)
    if not ranked or ranked[0][1] <= 0:
        return ["", 0.0, ""], {}
    text = sep.join(k for k, _ in ranked)
    quantized = _quantized(ranked)
    packed = [text, round(ranked[0][1], 4), _b64(quantized)]
    if text.count(sep) != len(ranked) - 1:
        return packed, None
    return packed, dict(zip([k for k, _ in ranked], quantized, strict=True))


def _quantized(ranked: list[tuple[Any, float]]) -> list[int]:
    scale = LEVELS / ranked[0][1]
    return [int(w * scale + 0.5) or 1 for _, w in ranked]


def _b64(quantized: list[int]) -> str:
    return b64encode(bytes(quantized)).decode("ascii")


def unpack(packed: Packed | dict[str, float], sep: str) -> dict[str, float]:
    """A packed vector as ``{key: weight}`` (a dict is a profile written before packing)."""
    if isinstance(packed, dict):
        return packed
    text, top, levels = packed
    if not text:
        return {}
    unit = top / LEVELS
    return dict(zip(text.split(sep), [q * unit for q in b64decode(levels)], strict=True))


def levels(packed: Packed | dict[str, float], sep: str) -> dict[str, float]:
    """``unpack`` without the scale: weights in 1/255 of the largest (a
    cosine does not change with the scale; this is what matching reads)."""
    if isinstance(packed, dict):
        return packed
    return dict(zip(packed[0].split(sep), b64decode(packed[2]), strict=True)) if packed[0] else {}


def term_id(word: str) -> int:
    """The id a word is stored and counted under."""
    return zlib.crc32(word.encode("utf-8"))


def pack_terms(weights: dict[int, float]) -> Packed:
    """Term id -> weight as ``[base64 of the ids, the largest weight, base64 of the levels]``."""
    return pack_terms_with_levels(weights)[0]


def pack_terms_with_levels(weights: dict[int, float]) -> tuple[Packed, dict[int, float]]:
    """``pack_terms``, and what ``term_levels`` reads back from it (no decoding)."""
    ranked = heaviest_first(weights)
    if not ranked or ranked[0][1] <= 0:
        return ["", 0.0, ""], {}
    ids = [k for k, _ in ranked]
    quantized = _quantized(ranked)
    packed = [b64encode(struct.pack(f"<{len(ids)}I", *ids)).decode("ascii"), round(ranked[0][1], 4),
              _b64(quantized)]
    return packed, dict(zip(ids, quantized, strict=True))


def unpack_terms(packed: Packed | dict[str, float]) -> dict[int, float]:
    """A packed term vector as ``{term id: weight}`` (a dict is one written
    before term ids: keyed by words)."""
    if isinstance(packed, dict):
        return {term_id(w): v for w, v in packed.items()}
    ids, top, levels = packed
    if not ids:
        return {}
    raw = b64decode(ids)
    unit = top / LEVELS
    return dict(zip(struct.unpack(f"<{len(raw) // 4}I", raw), [q * unit for q in b64decode(levels)], strict=True))


def term_levels(packed: Packed | dict[str, float]) -> dict[int, float]:
    """``unpack_terms`` without the scale (see ``levels``)."""
    if isinstance(packed, dict):
        return unpack_terms(packed)
    if not packed[0]:
        return {}
    raw = b64decode(packed[0])
    return dict(zip(struct.unpack(f"<{len(raw) // 4}I", raw), b64decode(packed[2]), strict=True))


def ranked_keys(packed: Packed | dict[str, float], sep: str) -> list[str]:
    """The keys of a packed vector, heaviest first."""
    if isinstance(packed, dict):
        return sorted(packed, key=lambda k: (-packed[k], k))
    return packed[0].split(sep) if packed[0] else []


def join_labels(labels: list[str]) -> str:
    return KEY_SEP.join(label.replace(KEY_SEP, " ") for label in labels)


def split_labels(joined: str) -> list[str]:
    return joined.split(KEY_SEP) if joined else []


def story_vectors(story: dict[str, Any]) -> tuple[dict[str, float], dict[int, float]]:
    """A story profile's name and word vectors, unpacked."""
    return unpack(story["keys"], KEY_SEP), unpack_terms(story["terms"])


def match_vectors(story: dict[str, Any]) -> tuple[dict[str, float], dict[int, float]]:
    """The same up to scale: what cosines and the stored norms are computed on."""
    return levels(story["keys"], KEY_SEP), term_levels(story["terms"])


def story_labels(story: dict[str, Any]) -> dict[str, str]:
    """Main name key -> display label."""
    if "names" not in story:  # written before packing
        return dict(story.get("labels", {}))
    named = [k for k in ranked_keys(story["keys"], KEY_SEP) if not k.startswith("e:country:")]
    return dict(zip(named, split_labels(story["names"]), strict=False))
