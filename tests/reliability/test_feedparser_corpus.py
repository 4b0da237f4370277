"""feedparser's own test corpus through newsmon's feed-to-RawArticle path.

Test setup downloads the sdist of the installed feedparser version from PyPI
(`pip download --no-binary :all: --no-deps`), once: it is cached, extracted, in
the git-ignored `.cache/feedparser-corpus/<version>/`. Without network and
without a cache the test is skipped with the reason. Every sample (well-formed,
ill-formed, entities, encodings, HTTP fixtures, compressed bodies) goes through
`parse_feed_bytes` and `entries_to_raw` exactly as the poller runs them, with
the HTTP headers a sample declares (`Header:` lines). Asserts: no exception
escapes, and no sample makes the parser open a network connection."""

from __future__ import annotations

import gzip
import importlib.metadata
import io
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import zlib
from collections import Counter
from pathlib import Path

import feedparser
import pytest

from monitor.watch.feeds import FeedConfig, entries_to_raw, parse_feed_bytes
from tests.daemon import REPO

pytestmark = pytest.mark.timeout(900)

VERSION = importlib.metadata.version("feedparser")
CACHE = REPO / ".cache" / "feedparser-corpus" / VERSION
HEADER = re.compile(rb"^Header:\s+([^:]+):(.+)$", re.MULTILINE)
FEED = FeedConfig(url="https://corpus.example.org/feed.xml", name="feedparser-corpus")


def corpus_dir() -> Path:
    """feedparser's tests/ directory for the installed version, fetched once."""
    tests = CACHE / "tests"
    if tests.is_dir():
        return tests
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
               "--disable-pip-version-check", f"feedparser=={VERSION}", "-d", tmp]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        except subprocess.TimeoutExpired:
            pytest.skip(f"feedparser {VERSION} sdist: download timed out (no network?)")
        sdists = list(Path(tmp).glob("feedparser-*.tar.gz"))
        if proc.returncode != 0 or not sdists:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            pytest.skip(f"feedparser {VERSION} sdist could not be downloaded from PyPI: {last}")
        staging = Path(tmp) / "x"
        with tarfile.open(sdists[0]) as tar:
            members = [m for m in tar.getmembers() if m.name.split("/")[1:2] == ["tests"] and (m.isfile() or m.isdir())]
            tar.extractall(staging, members=members, filter="data")
        extracted = next(staging.glob("*/tests"), None)
        if extracted is None:
            pytest.skip(f"feedparser {VERSION} sdist has no tests/ directory")
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = CACHE / "tests.partial"
        shutil.rmtree(partial, ignore_errors=True)
        shutil.move(str(extracted), partial)
        partial.rename(tests)  # whole or not at all: a later run never sees half a corpus
    return tests


def sample_headers(data: bytes) -> dict[str, str]:
    return {k.strip().decode("latin-1"): v.strip().decode("latin-1") for k, v in HEADER.findall(data[:4096])}


def body_of(path: Path, data: bytes) -> bytes:
    """Compressed fixtures as the HTTP client would hand them over (undecodable ones as they are)."""
    try:
        if path.suffix == ".gz":
            return gzip.decompress(data)
        if path.suffix == ".z":
            try:
                return zlib.decompress(data)
            except zlib.error:
                return zlib.decompress(data, -zlib.MAX_WBITS)
    except (OSError, EOFError, zlib.error):
        return data
    return data


def test_feedparser_corpus_never_raises(monkeypatch):
    tests = corpus_dir()
    samples = sorted(p for p in tests.rglob("*") if p.is_file() and p.suffix in (".xml", ".gz", ".z", ".json", ".rdf"))
    assert len(samples) > 1000, f"expected feedparser's corpus under {tests}"

    connections: list[object] = []

    def no_network(self, address, *args, **kwargs):
        connections.append(address)
        raise OSError(f"network access refused in this test: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)

    per_dir: Counter = Counter()
    with_entries: Counter = Counter()
    articles = bozo = plain_yield = 0
    escaped: list[str] = []
    by_name: dict[str, list] = {}
    for path in samples:
        rel = str(path.relative_to(tests))
        group = path.relative_to(tests).parts[0]
        per_dir[group] += 1
        data = path.read_bytes()
        body, headers = body_of(path, data), sample_headers(data)
        try:
            parsed = parse_feed_bytes(body, headers, name=path.name)
            raws = entries_to_raw(parsed, FEED)
        except Exception as exc:  # noqa: BLE001 -- what the test is about
            escaped.append(f"{rel}: {type(exc).__name__}: {exc}")
            continue
        by_name[rel] = raws
        bozo += bool(parsed.get("bozo"))
        if raws:
            with_entries[group] += 1
            articles += len(raws)
            assert all(r.source == FEED.name and r.id for r in raws)
        # for the report: feedparser alone, on the same bytes (entries with no
        # id, link, title or text, e.g. only an author or a date, are not articles)
        plain_yield += bool(feedparser.parse(io.BytesIO(body), response_headers={
            k.lower(): v for k, v in headers.items()}).entries)

    assert escaped == []
    assert connections == []
    # a "<!DOCTYPE" inside an item's CDATA is text, not a DTD to strip (it used to eat the "]]>")
    [doctype_text] = by_name["wellformed/rss/item_description_not_a_doctype2.xml"]
    assert doctype_text.content.strip() == "<!DOCTYPE"
    total = sum(per_dir.values())
    yielding = sum(with_entries.values())
    print(f"\nfeedparser {VERSION} corpus: {total} samples, {yielding} yield entries "
          f"({articles} RawArticles; feedparser alone finds entries in {plain_yield}), {bozo} flagged bozo, "
          f"0 exceptions; by directory: "
          + ", ".join(f"{d} {with_entries[d]}/{n}" for d, n in sorted(per_dir.items())))
