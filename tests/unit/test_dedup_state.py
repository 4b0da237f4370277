"""Dedup state encodings: packed ids and base85 arrays decode to exactly what
was written, ids that cannot be packed fall back to the plain layout, and
state written in the older layout (exact [id, ts], doc dicts with base64) gives the same verdicts as state written now."""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np

from monitor.enrich import dedup as dd
from monitor.enrich.dedup import Deduplicator
from monitor.models import stable_id
from monitor.state import JsonStore
from tests.unit.test_dedup import BODY, LEAD, ORIGINAL, STOCK, T0, _art, _story


def test_ids_and_arrays_round_trip():
    rng = random.Random(1)
    ids = [stable_id(str(i)) for i in range(200)] + ["0" * 16, "f" * 16]
    for i in ids:
        assert dd._pack_id(i) is not None and len(dd._pack_id(i)) == dd._PACKED
        assert dd._unpack_id(dd._pack_id(i)) == i
    for odd in ("orig", "ABCDEF0123456789", "0123456789abcdef0", "0123456789abcdeg", "é" * 16):
        assert dd._pack_id(odd) is None
        assert dd._exact_entry(dd._exact_value(odd, 5)) == (odd, 5)
    assert dd._exact_entry(dd._exact_value(ids[3], 1_709_294_400)) == (ids[3], 1_709_294_400)
    assert dd._exact_entry(dd._exact_value(ids[3], -7)) == (ids[3], -7)
    sig = np.array([rng.getrandbits(32) for _ in range(64)], dtype=np.uint32)
    assert np.array_equal(dd._unb85(dd._b85(sig)), sig)


def _old_layout(d: Deduplicator) -> tuple[JsonStore, JsonStore]:
    """The stores of `d` rewritten in the layout used before packing."""
    exact, docs = JsonStore(), JsonStore()
    for k, (original, ts) in d.exact_index.items():
        exact[k] = [original, ts]
    for k, v in d.docs.items():
        t, n, sig, paras = dd._doc_fields(v)
        docs[k] = {"t": t, "n": n, "s": dd._b64(sig),
                   "p": dd._b64(np.array(paras, dtype=np.uint32)) if paras else ""}
    return exact, docs


def _paragraphs(rng: random.Random, n: int) -> list[str]:
    words = [f"w{i}" for i in range(3000)]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(20, 40))) + "." for _ in range(n)]


def test_old_layout_state_gives_the_same_verdicts():
    rng = random.Random(5)
    stories = [_paragraphs(rng, 10) for _ in range(8)]
    originals = [_art(stable_id("o", str(i)), "\n\n".join(p), url=f"https://x.example/{i}")
                 for i, p in enumerate(stories)]
    originals.append(_art("orig", ORIGINAL, url="https://x.example/orig"))  # an id that cannot be packed
    copies = [
        _art(stable_id("c0"), "\n\n".join(stories[0])),  # exact text
        _art(stable_id("c1"), "\n\n".join(stories[1][:9] + _paragraphs(rng, 1))),  # near
        _art(stable_id("c2"), "\n\n".join(stories[2][:4] + _paragraphs(rng, 3))),  # version
        _art(stable_id("c3"), ORIGINAL + "\n\nA footer line from another outlet, long enough to count."),
        _art(stable_id("c4"), _story("Other title", LEAD, *BODY[:3], STOCK)),
        _art(stable_id("c5"), "\n\n".join(_paragraphs(rng, 8))),  # unrelated
        _art(stable_id("c6"), "moved", url="https://x.example/3"),
    ]
    new = Deduplicator(JsonStore(), JsonStore())
    for a in originals:
        assert new.process(a, T0).duplicate_of is None
    old = Deduplicator(*_old_layout(new))
    later = T0 + timedelta(hours=1)
    kinds, n_indexed = [], len(new.docs)
    for c in copies:
        a, b = new.process(c, later), old.process(c, later)
        assert (a.duplicate_of, a.dup_kind, a.similarity) == (b.duplicate_of, b.dup_kind, b.similarity)
        kinds.append(a.dup_kind)
    assert kinds == ["exact", "near", "version", "near", "version", None, "exact"]
    # expiry reads both layouts alike
    assert len(new.docs) == n_indexed + 1  # the unrelated one
    assert new.expire(T0 + timedelta(days=4)) == old.expire(T0 + timedelta(days=4)) == n_indexed + 1
    assert len(new.bands) == len(old.bands) == len(new.exact) == len(old.exact) == 0
    assert new.exact_index == old.exact_index == {}
