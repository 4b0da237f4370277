# Over 500 lines: the three duplicate kinds share one index and its store layout; apart, each would need the others internals.
"""Exact, near and version duplicate detection over plain key-value stores.

Why: the same wire story reaches us many times: re-delivered by a feed (same
URL or guid), re-posted verbatim by another outlet (same text), lightly
edited (new headline, different footer) or as an edited syndicated *version*
(lead and several paragraphs verbatim, the rest rewritten or cut). Alerts
must fire once per story, so each copy is pointed at the first article we
indexed (the "original"); copies are never indexed themselves, so a copy of
a copy still points at the original.

How (all on the normalized text, so page junk cannot create similarity):

* exact: ``h<content hash>``, ``u<sha(canonical url)>`` and ``g<sha(guid)>``
  (fixed size) point at the original id (an in-memory index built from the
  claims stored with each original in ``dedup_docs`` and each copy in
  ``dedup_exact``).
* near: MinHash over word 4-shingles (own numpy implementation; measured
  1.6-2.4x the throughput of datasketch MinHash + MinHashLSH(128, 0.5) on
  2,000 synthetic 3 KB docs, with higher recall) with a banded LSH index
  (``BandIndex``, in memory); a candidate is a near duplicate when the estimated
  Jaccard is >= ``near_threshold``.
* version: candidates also come from a paragraph index (first
  ``index_paras`` normalized paragraph hashes, in the same index under a
  ``p`` prefix), because a short edited copy of a long story has a Jaccard
  far below any LSH threshold. With C the shingle containment of the
  smaller doc in the other (derived from the Jaccard estimate and the
  shingle counts), a candidate is a version when

  - it has the same lead paragraph and C >= ``containment_threshold``, or
  - it shares >= ``min_shared_paras`` paragraphs verbatim and
    C >= ``shared_containment_floor``.

  Containment alone would flag an update that reuses background; shared
  paragraphs alone would flag two stories that quote the same stock text.

Measured on the five seed articles after normalize (word 4-shingles, exact
sets; J = Jaccard, C = containment of the smaller in the larger, P = shared
paragraphs of >= 8 words, L = same lead)::

    pair      J      C      P  L
    000-001  0.010  0.023  0  no
    000-002  0.023  0.052  0  no
    000-003  0.021  0.055  0  no
    000-004  0.011  0.029  0  no
    001-002  0.007  0.015  0  no
    001-003  0.008  0.016  0  no
    001-004  0.007  0.014  0  no
    002-003  0.535  0.789  7  yes   <- 003 is an edited Korea Bizwire copy
    002-004  0.012  0.027  0  no
    003-004  0.010  0.020  0  no

Unrelated same-story articles stay below J 0.03 / C 0.06 (0.044 / 0.111
with 3-shingles), the syndicated pair sits at J 0.53 / C 0.79 / 7
paragraphs, so the defaults below leave wide margins on both sides; 002-003
is a "version" (J < near_threshold 0.7) with strong paragraph evidence.

Store values are JSON-plain and always re-assigned, never mutated (faust
tables persist on assignment only). State per indexed article is about 1 KB
(see ``DedupConfig``).
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from monitor.enrich import bytetable
from monitor.models import Article, Fingerprint
from monitor.state import Store, paused_gc

_WORD = re.compile(r"\w+")
_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)


@dataclass(frozen=True)
class DedupConfig:
    """Dedup knobs. Defaults come from the seed figures in the module
    docstring and a synthetic benchmark (2,000 3 KB docs with planted edits).

    * num_perm 64 / bands 16 (4 rows): LSH candidate probability is 0.64 at
      J 0.5, 0.89 at 0.6, 0.99 at 0.7 (the near threshold), 0.9999 at 0.8;
      the standard error of the Jaccard estimate is ~0.06 at J 0.7. 128
      permutations would double the signature (and the state) for a slightly
      tighter estimate we don't need given the seed margins.
    * shingle_size 4: separates the seeds as well as 3 or 5; 3-shingles
      match more stock phrases between unrelated stories (C up to 0.11),
      5-shingles lose more to small edits.
    * near_threshold 0.7: one rewritten paragraph in ten keeps J ~0.8;
      unrelated same-story articles are < 0.05.
    * containment_threshold 0.5 (with the same lead) / min_shared_paras 3
      with shared_containment_floor 0.25: the syndicated seed pair has
      C 0.79, the same lead and 7 shared paragraphs; unrelated pairs have
      C < 0.06 and none. Two different stories sharing two stock paragraphs
      reach an estimated C ~0.5 on short texts (64-perm noise), hence 3
      paragraphs, not 2, when the lead differs. In the synthetic benchmark
      every planted version (lead + 2-4 kept paragraphs + 1-4 new) passes.
    * max_paras / index_paras: paragraph hashes kept per doc (evidence) /
      indexed as candidate keys (copies keep the lead and early paragraphs).
      On the 5,000-doc benchmark corpus every verdict is the same with 3, 4,
      5 or 6 indexed paragraphs, and recall first drops at 2 (heavy edits
      0.99 -> 0.98); 4 keeps that margin and saves two index entries per
      article (state ~1,000 B instead of ~1,050).
    * max_bucket: cap on ids per index key, so a stock paragraph quoted by
      hundreds of stories cannot grow one key without bound (newest kept).
    * ttl 3 days: wire copies arrive within hours; state stays bounded.
    """

    num_perm: int = 64
    bands: int = 16
    shingle_size: int = 4
    near_threshold: float = 0.7
    containment_threshold: float = 0.5
    min_shared_paras: int = 3
    shared_containment_floor: float = 0.25
    min_para_words: int = 8
    max_paras: int = 16
    index_paras: int = 4
    max_bucket: int = 32
    max_candidates: int = 64
    ttl: timedelta = field(default_factory=lambda: timedelta(days=3))
    seed: int = 20230913

    @property
    def rows(self) -> int:
        return self.num_perm // self.bands


@dataclass
class _Features:
    sig: np.ndarray  # uint32[num_perm]
    n: int  # distinct shingles
    paras: list[int]  # uint32 hashes of eligible paragraphs, in order

    @property
    def lead(self) -> int | None:
        return self.paras[0] if self.paras else None


class MinHasher:
    """Vectorised MinHash over word shingles.

    Words are hashed once with crc32 (deterministic across processes,
    unlike ``hash()``), shingle hashes are rolled from word hashes in numpy,
    and the permutations are multiply-shift hashes ``(a*x + b) >> 32`` on
    uint64, so one document is a single (shingles x num_perm) numpy op.
    """

    CACHE_MAX = 200_000  # distinct words kept (~20 MB worst case)

    def __init__(self, num_perm: int, shingle_size: int, seed: int) -> None:
        self._cache: dict[str, int] = {}
        rng = np.random.default_rng(seed)
        self.k = shingle_size
        self.a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) | np.uint64(1)
        self.b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
        self.roll = rng.integers(1, 2**63, size=shingle_size, dtype=np.uint64) | np.uint64(1)
        self.band_mix = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) | np.uint64(1)

    def _word_hashes(self, words: list[str]) -> np.ndarray:
        """crc32 per word through a bounded cache (news vocabulary repeats,
        and the cache lookup is ~10x cheaper than encode + crc32)."""
        cache = self._cache
        missing = set(words).difference(cache)
        if len(cache) + len(missing) > self.CACHE_MAX:
            cache.clear()
            missing = set(words)
        for w in missing:
            cache[w] = zlib.crc32(w.encode())
        return np.fromiter(map(cache.__getitem__, words), dtype=np.uint64, count=len(words))

    def shingles(self, words: list[str]) -> np.ndarray:
        """Distinct 64-bit shingle hashes (a short text is one shingle)."""
        wh = self._word_hashes(words)
        k = min(self.k, len(wh))
        m = len(wh) - k + 1
        acc = np.zeros(m, dtype=np.uint64)
        for j in range(k):
            acc = acc * self.roll[j] + wh[j : j + m]
        acc ^= acc >> np.uint64(31)
        acc.sort()  # np.unique, without its overhead on small arrays
        if len(acc) > 1:
            keep = np.empty(len(acc), dtype=bool)
            keep[0] = True
            np.not_equal(acc[1:], acc[:-1], out=keep[1:])
            acc = acc[keep]
        return acc

    def signature(self, sh: np.ndarray) -> np.ndarray:
        # (n,1)*(1,P) uint64 wraps mod 2^64: multiply-shift universal hashing;
        # ">> 32" is monotonic, so it is applied to each column's minimum only
        h = np.multiply.outer(sh, self.a)
        h += self.b
        return (h.min(axis=0) >> _SHIFT32).astype(np.uint32)

    def band_keys(self, sig: np.ndarray, bands: int) -> list[str]:
        """One 8-hex key per band (band index mixed in), 32-bit collisions
        only cost a verified false candidate."""
        rows = len(sig) // bands
        mixed = sig[: rows * bands].astype(np.uint64) * self.band_mix[: rows * bands]
        per_band = mixed.reshape(bands, rows).sum(axis=1) + np.arange(bands, dtype=np.uint64)
        per_band = (per_band * np.uint64(0x9E3779B97F4A7C15)) >> _SHIFT32
        return [f"{int(v):08x}" for v in per_band]


def _tokens(text: str) -> list[str]:
    """``_WORD.findall(NFKC(text).lower())``, through a byte table: a regex
    word character is one for which ``str.isalnum()`` holds, or "_", so
    non-word characters become spaces and the few non-ASCII letters and
    digits are put back (3x faster on news text)."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).lower()
    return bytetable.words(text)


def _para_hash(words: list[str]) -> int:
    return int.from_bytes(hashlib.blake2b(" ".join(words).encode(), digest_size=4).digest(), "little")


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(a.astype("<u4").tobytes()).decode("ascii")


def _unb64(s: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(s), dtype="<u4")


# -- compact store encodings ---------------------------------------------------
#
# State size is dominated by article ids repeated in every index bucket and by
# the signature. Ids of the usual form (16 lowercase hex, `stable_id`) are
# stored as 10 base-85 digits, uint32 arrays as 5 base-85 digits per word
# (base64 takes 5.33), in the RFC 1924 alphabet (no quote or backslash, so
# JSON keeps them as they are). Lossless: every value decodes to exactly what
# was written. Values written in the older layout (exact ``[id, ts]``, doc
# dicts with base64) are still read, so state from before
# the change keeps working; an id that is not 16 hex falls back to it.

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~"
_DIGIT = {c: i for i, c in enumerate(_ALPHABET)}
_TO_CHAR = _ALPHABET.encode("ascii").ljust(256, b"\0")  # bytes.translate tables
_TO_DIGIT = bytes(_ALPHABET.find(chr(i)) % 256 for i in range(256))
_POW5 = np.array([85**4, 85**3, 85**2, 85, 1], dtype=np.uint64)
_POW5_U32 = _POW5.astype(np.uint32)
_HEX16 = re.compile(r"[0-9a-f]{16}")
_PACKED = 10  # base-85 digits of a 64-bit id (85**10 > 2**64)


def _pack_id(article_id: str) -> str | None:
    if len(article_id) != 16 or not _HEX16.fullmatch(article_id):
        return None
    v = int(article_id, 16)
    out = []
    for _ in range(_PACKED):
        v, r = divmod(v, 85)
        out.append(_ALPHABET[r])
    return "".join(reversed(out))


def _unpack_id(token: str) -> str:
    v = 0
    for c in token:
        v = v * 85 + _DIGIT[c]
    return f"{v:016x}"


def _exact_value(original: str, ts: int) -> str | list:
    """``"<packed id><ts>"``, or ``[id, ts]`` when the id cannot be packed."""
    packed = _pack_id(original)
    return f"{packed}{ts}" if packed else [original, ts]


def _exact_entry(value: str | list) -> tuple[str, int]:
    if isinstance(value, str):
        return _unpack_id(value[:_PACKED]), int(value[_PACKED:])
    return value[0], int(value[1])


def _b85(a: np.ndarray) -> str:
    """uint32 words as 5 base-85 digits each, most significant first."""
    digits = (a.astype(np.uint64)[:, None] // _POW5) % np.uint64(85)
    return digits.astype(np.uint8).tobytes().translate(_TO_CHAR).decode("ascii")


def _unb85(s: str) -> np.ndarray:
    if not s:
        return np.zeros(0, dtype=np.uint32)
    digits = np.frombuffer(s.encode("ascii").translate(_TO_DIGIT), dtype=np.uint8).reshape(-1, 5)
    return digits.astype(np.uint32) @ _POW5_U32  # < 2**32, so the uint32 arithmetic is exact


def _doc_value(ts: int, f: _Features, exact_keys: list[str]) -> list:
    """``[ts, shingles, base85 signature, base85 paragraph hashes, exact keys]``
    (the exact keys this original claimed; left out when none)."""
    value = [ts, f.n, _b85(f.sig), _b85(np.array(f.paras, dtype=np.uint32)) if f.paras else ""]
    return [*value, exact_keys] if exact_keys else value


def _doc_ts(doc: list | dict) -> int:
    return int(doc["t"] if isinstance(doc, dict) else doc[0])


def _doc_claims(doc: list | dict) -> list[str]:
    """The exact keys a docs value claimed (none in the older layouts: those are in ``exact``)."""
    return doc[4] if isinstance(doc, list) and len(doc) > 4 else []


def _claim_fields(key: str, value: str | list) -> tuple[str, int, list[str]]:
    """(original, ts, exact keys) of an ``exact`` store entry: a copy's claim
    ``"c<first key>" -> [<packed original><ts>, [keys]]``, or (older layout)
    one key -> ``"<packed original><ts>"``."""
    if key.startswith("c"):
        original, ts = _exact_entry(value[0])
        return original, ts, list(value[1])
    original, ts = _exact_entry(value)
    return original, ts, [key]


def _doc_fields(doc: list | dict) -> tuple[int, int, np.ndarray, list[int]]:
    """(ts, shingles, signature, paragraph hashes) of a docs value, either layout."""
    if isinstance(doc, dict):  # older layout: {"t", "n", "s": base64, "p": base64}
        paras = _unb64(doc["p"]).tolist() if doc.get("p") else []
        return int(doc["t"]), int(doc["n"]), _unb64(doc["s"]), paras
    return int(doc[0]), int(doc[1]), _unb85(doc[2]), _unb85(doc[3]).tolist()


_PARA_KEY = 1 << 32  # paragraph keys are hash | 2**32; band keys are < 2**32
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


class BandIndex:
    """LSH band / paragraph key (an int) -> ids of the indexed docs under it,
    oldest first, the newest ``cap`` kept. Derived data: rebuilt from
    ``dedup_docs`` (each doc holds its signature and paragraph hashes) after
    a restart, so it is never written to a table: 20 changelog records per
    original saved. Buckets are tuples of str: the cyclic GC stops tracking
    them, so millions of buckets cost no collector time."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.buckets: dict[int, tuple[str, ...]] = {}

    def add(self, doc_id: str, keys: list[int]) -> None:
        buckets, cap = self.buckets, self.cap
        for key in keys:
            bucket = buckets.get(key)
            buckets[key] = (doc_id,) if bucket is None else (*bucket[-cap + 1:], doc_id) if cap > 1 else (doc_id,)

    def remove(self, doc_id: str, keys: list[int]) -> None:
        for key in keys:
            bucket = self.buckets.get(key)
            if bucket and doc_id in bucket:
                rest = list(bucket)
                rest.remove(doc_id)
                if rest:
                    self.buckets[key] = tuple(rest)
                else:
                    del self.buckets[key]

    def get(self, key: int) -> tuple[str, ...]:
        return self.buckets.get(key, ())

    def __len__(self) -> int:
        return len(self.buckets)


def _short(kind: str, value: str) -> str:
    """Fixed-size exact key: long URLs must not bloat the store."""
    return kind + hashlib.sha256(value.encode()).hexdigest()[:20]


def _utc(now: datetime | None) -> datetime:
    now = now or datetime.now(UTC)
    return now if now.tzinfo else now.replace(tzinfo=UTC)


class Deduplicator:
    """Marks copies against previously indexed originals (see module doc).

    `exact`, `docs` are the ``dedup_exact``/``dedup_docs`` stores. Layout
    (all JSON-plain):

    * docs: ``id -> [ts, shingles, base-85 uint32 sig, base-85 uint32
      paragraph hashes, [exact keys it claimed]]`` (one record per original)
    * exact: ``"c<first key>" -> ["<packed original id><ts>", [exact keys]]``,
      the keys a copy claimed (one record per copy, none for a replay)

    Ids are packed to 10 base-85 digits (see ``_pack_id``); ids that are
    not 16 hex, and state written before packing, use ``[original_id, ts]``
    and ``{"t", "n", "s", "p"}`` (base64), which are still read, as are
    exact entries of the older one-record-per-key layout
    (``"h…"|"u…"|"g…"`` -> ``"<packed original id><ts>"``).

    Two indexes are derived from the stores and live in memory only, built
    on first use and rebuilt after ``reset_index`` (a restart, a table
    recovery): ``bands`` (LSH band or paragraph key -> ids) and
    ``exact_index`` (exact key -> original). Docs are written once and
    iterated in write order (dict and faust memory-store order), so a
    rebuilt band index holds the same newest ``max_bucket`` ids per key as
    one kept since the start; an exact key is claimed by one entry only.
    """

    def __init__(self, exact: Store, docs: Store, config: DedupConfig | None = None) -> None:
        self.exact, self.docs = exact, docs
        self.config = config or DedupConfig()
        if self.config.num_perm % self.config.bands:
            raise ValueError("num_perm must be a multiple of bands")
        self.hasher = MinHasher(self.config.num_perm, self.config.shingle_size, self.config.seed)
        self._bands: BandIndex | None = None
        self._exact_index: dict[str, tuple[str, int]] | None = None

    @property
    def bands(self) -> BandIndex:
        """The candidate index, built from ``docs`` on first use (and after ``reset_index``)."""
        if self._bands is None:
            self._bands = BandIndex(self.config.max_bucket)
            self._add_bands(self._bands, list(self.docs.items()))
        return self._bands

    @property
    def exact_index(self) -> dict[str, tuple[str, int]]:
        """exact key -> (original id, ts), built from the claims in ``docs``
        and ``exact`` on first use. Each key is claimed by one entry only (a
        claim is made only for keys not yet known), so the order of the
        entries does not matter."""
        if self._exact_index is None:
            self._exact_index = {}
            self._add_claims(self._exact_index, list(self.docs.items()), list(self.exact.items()))
        return self._exact_index

    def reset_index(self) -> None:
        """Forget the in-memory indexes: the stores changed under us (a table
        recovery); the next article rebuilds them."""
        self._bands = self._exact_index = None

    def rebuild_steps(self, chunk: int = 5000) -> Iterator[None]:
        """Build both indexes from the stores ``chunk`` entries at a time,
        yielding between slices (so an event loop keeps its heartbeats). An
        index is installed only if no article built one meanwhile: every
        change to the stores goes through the index it feeds, so a result
        still missing at the end was built from unchanged stores."""
        docs, exact = list(self.docs.items()), list(self.exact.items())
        bands = BandIndex(self.config.max_bucket)
        for at in range(0, len(docs), chunk):
            self._add_bands(bands, docs[at:at + chunk])
            yield
        claims: dict[str, tuple[str, int]] = {}
        for at in range(0, max(len(docs), len(exact)), chunk):
            self._add_claims(claims, docs[at:at + chunk], exact[at:at + chunk])
            yield
        if self._bands is None:
            self._bands = bands
        if self._exact_index is None:
            self._exact_index = claims

    @staticmethod
    def _add_claims(index: dict[str, tuple[str, int]], docs: list, exact: list) -> None:
        for doc_id, doc in docs:
            for key in _doc_claims(doc):
                index[key] = (doc_id, _doc_ts(doc))
        for entry_key, value in exact:
            original, ts, keys = _claim_fields(entry_key, value)
            for key in keys:
                index[key] = (original, ts)

    def _add_bands(self, index: BandIndex, entries: list) -> None:
        """The docs' keys (one numpy pass over their signatures), added in docs order."""
        with paused_gc():  # new buckets are tracked until a collection: it would walk them all, often
            self._add_bands_now(index, entries)

    def _add_bands_now(self, index: BandIndex, entries: list) -> None:
        cfg = self.config
        width = 5 * cfg.num_perm
        current = [isinstance(doc, list) and len(doc[2]) == width for _, doc in entries]
        sigs = "".join(doc[2] if ok else "0" * width for (_, doc), ok in zip(entries, current, strict=True))
        paras = [doc[3][:5 * cfg.index_paras] if ok else "" for (_, doc), ok in zip(entries, current, strict=True)]
        bands = self._band_values(_unb85(sigs).reshape(-1, cfg.num_perm)).tolist() if entries else []
        hashes = _unb85("".join(paras)).tolist()
        at = 0
        for (doc_id, doc), ok, keys, text in zip(entries, current, bands, paras, strict=True):
            if ok:
                keys += dict.fromkeys(h | _PARA_KEY for h in hashes[at:at + len(text) // 5])
                at += len(text) // 5
            else:  # an older layout, or another signature size
                _, _, sig, doc_paras = _doc_fields(doc)
                keys = self._index_keys(sig, doc_paras)
            index.add(doc_id, keys)

    def _band_values(self, sigs: np.ndarray) -> np.ndarray:
        """(docs, bands) band keys of (docs, num_perm) signatures: the
        values of ``MinHasher.band_keys`` as ints."""
        bands = self.config.bands
        rows = sigs.shape[1] // bands
        mix = self.hasher.band_mix[: rows * bands]
        mixed = sigs[:, : rows * bands].astype(np.uint64) * mix
        per_band = mixed.reshape(len(sigs), bands, rows).sum(axis=2) + np.arange(bands, dtype=np.uint64)
        return (per_band * _GOLDEN) >> _SHIFT32

    # -- features -----------------------------------------------------------

    def features(self, article: Article) -> _Features | None:
        """MinHash signature, shingle count and paragraph hashes; None if no words."""
        paras = article.paragraphs or ([article.text] if article.text else [])
        words: list[str] = []
        phashes: list[int] = []
        for p in paras:
            toks = _tokens(p)
            words.extend(toks)
            if len(toks) >= self.config.min_para_words and len(phashes) < self.config.max_paras:
                phashes.append(_para_hash(toks))
        if not words:
            return None
        sh = self.hasher.shingles(words)
        return _Features(self.hasher.signature(sh), len(sh), phashes)

    def fingerprint(self, article: Article) -> Fingerprint | None:
        """The features as a message: computed where the article is cleaned
        (in parallel), compared where the index lives (see README, Scaling)."""
        f = self.features(article)
        if f is None:
            return None
        return Fingerprint(n=f.n, s=_b64(f.sig), p=_b64(np.array(f.paras, dtype=np.uint32)) if f.paras else "")

    @staticmethod
    def _from_fingerprint(fp: Fingerprint) -> _Features:
        return _Features(_unb64(fp.s), fp.n, _unb64(fp.p).tolist() if fp.p else [])

    def _index_keys(self, sig: np.ndarray, paras: list[int]) -> list[int]:
        """Candidate keys: one per LSH band, one per indexed paragraph (hash | 2**32)."""
        keys: list[int] = self._band_values(sig[None, :]).tolist()[0] if len(sig) else []
        keys += dict.fromkeys(h | _PARA_KEY for h in paras[: self.config.index_paras])
        return keys

    def _exact_keys(self, a: Article) -> list[str]:
        keys = []
        if a.text.strip():
            keys.append("h" + a.content_hash[:20])  # 80 bits: collisions negligible
        if a.canonical_url:
            keys.append(_short("u", a.canonical_url))
        if a.guid:
            keys.append(_short("g", a.guid))
        return keys

    # -- matching -----------------------------------------------------------

    def _compare(self, f: _Features, n_other: int, sig: np.ndarray, other: list[int]) -> tuple[str, float] | None:
        """(kind, similarity) if the doc with shingle count `n_other`,
        signature `sig` and paragraph hashes `other` is an original of `f`."""
        cfg = self.config
        if len(sig) != len(f.sig):
            return None
        j = float(np.count_nonzero(sig == f.sig)) / len(sig)
        if j >= cfg.near_threshold:
            return "near", j
        inter = j / (1.0 + j) * (f.n + n_other)
        containment = min(1.0, inter / max(1, min(f.n, n_other)))
        other_lead = other[0] if other else None
        shared = len(set(f.paras) & set(other))
        same_lead = f.lead is not None and f.lead == other_lead
        if same_lead and containment >= cfg.containment_threshold:
            return "version", containment
        if shared >= cfg.min_shared_paras and containment >= cfg.shared_containment_floor:
            return "version", containment
        return None

    def _best(self, article_id: str, f: _Features) -> tuple[str, str, float] | None:
        hits: dict[str, int] = {}
        bands = self.bands.buckets
        for key in self._index_keys(f.sig, f.paras):
            for cid in bands.get(key, ()):
                if cid != article_id:
                    hits[cid] = hits.get(cid, 0) + 1
        ranked = sorted(hits, key=lambda c: -hits[c])[: self.config.max_candidates]
        best: tuple[tuple, str, str, float] | None = None
        for cid in ranked:
            doc = self.docs.get(cid)
            if doc is None:
                continue
            t, n_other, sig, other = _doc_fields(doc)
            res = self._compare(f, n_other, sig, other)
            if res is None:
                continue
            kind, sim = res
            # near beats version, then higher similarity, then the older doc
            rank = (kind == "near", sim, -t)
            if best is None or rank > best[0]:
                best = (rank, cid, kind, sim)
        return None if best is None else (best[1], best[2], best[3])

    # -- public API ---------------------------------------------------------

    def process(self, article: Article, now: datetime | None = None,
                fingerprint: Fingerprint | None = None) -> Article:
        """Return a copy of `article` with duplicate_of/dup_kind/similarity
        set if it copies an indexed original; otherwise index it and return
        it unchanged. `similarity` is 1.0 for exact, the estimated Jaccard for
        near, the estimated containment for version. Re-processing an already
        indexed id (a replay) is a no-op, not a self-duplicate. `fingerprint`
        saves recomputing the features when the caller already has them."""
        ts = int(_utc(now).timestamp())
        if article.id in self.docs:
            return article
        exact_keys = self._exact_keys(article)
        known = self.exact_index
        for key in exact_keys:
            entry = known.get(key)
            if entry is None:
                continue
            original = entry[0]
            if original != article.id:
                self._remember(exact_keys, original, ts)
                return self._mark(article, original, "exact", 1.0)
        f = self._from_fingerprint(fingerprint) if fingerprint else self.features(article)
        if f is None:
            return article
        found = self._best(article.id, f)
        if found is not None:
            orig, kind, sim = found
            self._remember(exact_keys, orig, ts)
            return self._mark(article, orig, kind, sim)
        self._index(article.id, f, exact_keys, ts)
        return article

    def expire(self, now: datetime | None = None) -> int:
        """Forget originals (and exact keys) older than the TTL; returns the
        number of documents dropped. Cost is one pass over the stores."""
        cutoff = int((_utc(now) - self.config.ttl).timestamp())
        dropped = 0
        bands, known = self.bands, self.exact_index
        for doc_id, doc in list(self.docs.items()):
            if _doc_ts(doc) >= cutoff:
                continue
            _, _, sig, paras = _doc_fields(doc)
            bands.remove(doc_id, self._index_keys(sig, paras))
            for key in _doc_claims(doc):
                known.pop(key, None)
            del self.docs[doc_id]
            dropped += 1
        for entry_key, value in list(self.exact.items()):
            _, ts, keys = _claim_fields(entry_key, value)
            if ts < cutoff:
                for key in keys:
                    known.pop(key, None)
                del self.exact[entry_key]
        return dropped

    # -- writes -------------------------------------------------------------

    def _index(self, article_id: str, f: _Features, exact_keys: list[str], ts: int) -> None:
        claimed = self._claim(exact_keys, article_id, ts)
        self.docs[article_id] = _doc_value(ts, f, claimed)  # an original's claims: no record of their own
        self.bands.add(article_id, self._index_keys(f.sig, f.paras))

    def _claim(self, keys: list[str], original: str, ts: int) -> list[str]:
        """Point the exact keys not yet known at `original` (first writer
        wins); returns them."""
        known = self.exact_index
        claimed = [k for k in dict.fromkeys(keys) if k not in known]
        for key in claimed:
            known[key] = (original, ts)
        return claimed

    def _remember(self, keys: list[str], original: str, ts: int) -> None:
        """A copy's exact keys point at its `original`, so a re-delivery of
        the copy also resolves to the original: one record for all of them."""
        claimed = self._claim(keys, original, ts)
        if claimed:
            self.exact["c" + claimed[0]] = [_exact_value(original, ts), claimed]

    @staticmethod
    def _mark(article: Article, original: str, kind: str, sim: float) -> Article:
        return article.model_copy(
            update={"duplicate_of": original, "dup_kind": kind, "similarity": round(sim, 4)}
        )
