"""Feed parsing, mapping, configuration and the poller's bookkeeping (no Kafka).

The feeds here are small invented documents; each test says which property
of the watcher it pins down."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
import tracemalloc
from datetime import datetime, timezone

import pytest
from aiohttp import web

from monitor.watch import feeds
from monitor.watch.feeds import common
from monitor.watch.feeds import (
    FeedConfig,
    FeedConfigError,
    FeedHealth,
    FeedPoller,
    FeedState,
    entries_to_raw,
    import_opml,
    is_feed,
    load_feeds,
    parse_feed_bytes,
    parse_retry_after,
    read_feed_file,
    strip_doctype,
)
from tests.http_server import LocalServer

FEED = FeedConfig(url="https://news.example.org/feed.xml", name="Example Wire", tags=["wire", "world"])
UTC = timezone.utc


def articles(data: bytes, feed: FeedConfig = FEED, headers=None):
    return entries_to_raw(parse_feed_bytes(data, headers, name=feed.name), feed)


# ---------------------------------------------------------------- mapping

RSS20 = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Example</title><link>https://news.example.org/</link><language>en-GB</language>
<item>
  <title>Quake hits  coast</title>
  <link>https://news.example.org/a/quake</link>
  <guid isPermaLink="false">urn:ex:1001</guid>
  <description>Short &lt;b&gt;summary&lt;/b&gt;</description>
  <content:encoded><![CDATA[<p>Full <b>body</b> of the story.</p>]]></content:encoded>
  <pubDate>Tue, 02 May 2023 10:00:00 +0200</pubDate>
  <category>World</category><category>Asia</category><category>world</category><category>wire</category>
  <dc:creator>Jane Roe</dc:creator>
</item>
<item>
  <title>No guid here</title>
  <link>/a/relative</link>
  <description>plain summary</description>
</item>
<item>
  <title>Nothing but words</title>
  <description>a lone summary</description>
</item>
<item>
  <title>Numeric guid</title>
  <guid>12345</guid>
</item>
</channel></rss>"""


def test_rss20_mapping():
    a, b, c, d = articles(RSS20)
    assert a.source == "Example Wire" and a.source_kind == "feed"
    assert a.guid == "urn:ex:1001" and a.url == "https://news.example.org/a/quake"
    assert a.title == "Quake hits  coast"
    assert a.summary == "Short <b>summary</b>"
    assert a.content == "<p>Full <b>body</b> of the story.</p>" and a.content_type == "html"
    assert a.published == datetime(2023, 5, 2, 8, 0, tzinfo=UTC)
    assert a.published.utcoffset().total_seconds() == 0
    assert a.author == "Jane Roe"
    assert a.language == "en-GB"  # from the channel
    assert a.tags == ["wire", "world", "World", "Asia"]  # feed tags first, no exact repeats

    assert b.guid is None and b.url == "https://news.example.org/a/relative"  # resolved against the feed
    assert b.content == "plain summary" and b.summary == "plain summary"  # summary stands in for content
    assert c.url is None and c.guid is None and c.content == "a lone summary"
    assert d.guid == "12345" and d.url is None  # a permalink guid that is not a URL is not a link

    assert len({x.id for x in (a, b, c, d)}) == 4


def test_ids_are_stable_and_follow_guid_then_link_then_hash():
    first, again = articles(RSS20), articles(RSS20)
    assert [x.id for x in first] == [x.id for x in again]
    # guid wins over link: changing the link keeps the id
    moved = RSS20.replace(b"https://news.example.org/a/quake", b"https://news.example.org/a/quake-v2")
    assert articles(moved)[0].id == first[0].id
    # no guid: the link decides
    retitled = RSS20.replace(b"No guid here", b"No guid here (updated)")
    assert articles(retitled)[1].id == first[1].id
    # neither: title + summary decide
    assert articles(RSS20.replace(b"a lone summary", b"another summary"))[2].id != first[2].id
    # ids are per feed: another feed carrying the same guid is another item
    other = FeedConfig(url="https://other.example.net/rss", name="Other")
    assert articles(RSS20, other)[0].id != first[0].id


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">
  <title>Atom Example</title><id>urn:feed</id><updated>2023-05-02T10:00:00Z</updated>
  <entry>
    <title type="html">Paris &lt;i&gt;vote&lt;/i&gt; &amp;amp; results</title>
    <id>tag:example.org,2023:e1</id>
    <link rel="alternate" href="https://atom.example.org/e1"/>
    <published>2023-05-01T12:00:00+01:00</published>
    <updated>2023-05-02T12:00:00-05:00</updated>
    <author><name>Bob Doe</name></author>
    <category term="politics"/>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Le <b>vote</b>.</p></div></content>
  </entry>
  <entry xml:lang="de">
    <title>Text only</title><id>tag:example.org,2023:e2</id>
    <updated>2023-05-03T00:00:00Z</updated>
    <content type="text">just text</content>
  </entry>
  <entry>
    <title>Summary only</title><id>tag:example.org,2023:e3</id>
    <link href="https://atom.example.org/e3"/>
    <summary type="html">&lt;p&gt;the summary&lt;/p&gt;</summary>
  </entry>
</feed>"""


def test_atom10_mapping():
    a, b, c = articles(ATOM)
    assert a.title == "Paris vote & results"  # html title reduced to text
    assert a.guid == "tag:example.org,2023:e1" and a.url == "https://atom.example.org/e1"
    assert a.content == "<p>Le <b>vote</b>.</p>" and a.content_type == "html"
    assert a.summary is None  # feedparser's copy of the content is not a summary
    assert a.published == datetime(2023, 5, 1, 11, 0, tzinfo=UTC)
    assert a.updated == datetime(2023, 5, 2, 17, 0, tzinfo=UTC)
    assert a.author == "Bob Doe" and a.language == "fr"
    assert a.tags == ["wire", "world", "politics"]

    assert b.content == "just text" and b.content_type == "text" and b.language == "de"
    assert b.url is None  # the tag: id is not a link
    assert b.published == b.updated == datetime(2023, 5, 3, tzinfo=UTC)  # updated stands in

    assert c.summary == "<p>the summary</p>" and c.content == c.summary and c.content_type == "html"


RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://rdf.example.org/"><title>RDF</title><link>https://rdf.example.org/</link>
    <description>d</description></channel>
  <item rdf:about="https://rdf.example.org/r1">
    <title>Rates held</title><link>https://rdf.example.org/r1</link><description>The bank held rates.</description>
    <dc:date>2023-05-02T10:00:00+02:00</dc:date><dc:subject>Economy</dc:subject><dc:language>de</dc:language>
    <dc:creator>Desk</dc:creator>
  </item>
</rdf:RDF>"""


def test_rdf_mapping():
    (a,) = articles(RDF)
    assert a.guid == "https://rdf.example.org/r1" and a.url == "https://rdf.example.org/r1"
    assert a.title == "Rates held" and a.content == "The bank held rates."
    assert a.published == a.updated == datetime(2023, 5, 2, 8, 0, tzinfo=UTC)
    assert a.tags == ["wire", "world", "Economy"] and a.language == "de" and a.author == "Desk"


@pytest.mark.parametrize("date, expected", [
    ("Tue, 02 May 2023 10:00:00 GMT", datetime(2023, 5, 2, 10, tzinfo=UTC)),
    ("Tue, 02 May 2023 10:00:00 EST", datetime(2023, 5, 2, 15, tzinfo=UTC)),
    ("2023-05-02T10:00:00", datetime(2023, 5, 2, 10, tzinfo=UTC)),  # no zone: taken as UTC, still aware
    ("not a date at all", None),
    ("", None),
])
def test_dates_are_utc_aware_or_none(date, expected):
    doc = f'<rss version="2.0"><channel><item><title>t</title><guid>g</guid><pubDate>{date}</pubDate></item></channel></rss>'
    (a,) = articles(doc.encode())
    assert a.published == expected
    assert a.published is None or a.published.tzinfo is not None


def test_edge_cases_without_items_or_fields():
    assert articles(b'<rss version="2.0"><channel><title>empty</title></channel></rss>') == []
    # an item with nothing identifiable in it is dropped, its neighbours kept
    doc = b"""<rss version="2.0"><channel><item></item><item><author>x@y</author></item>
      <item><title>  Spaced\n title </title><guid>g1</guid></item>
      <item><guid>   </guid><link>javascript:alert(1)</link><title>js link</title></item></channel></rss>"""
    got = articles(doc)
    assert [a.title for a in got] == ["Spaced\n title", "js link"]
    assert got[1].url is None and got[1].guid is None  # non-http links are not URLs
    # CDATA and entities in titles
    doc = b'<rss version="2.0"><channel><item><title><![CDATA[A & B <tag>]]></title><guid>c</guid></item>' \
          b'<item><title>Caf&#233; &amp; bar</title><guid>d</guid></item></channel></rss>'
    assert [a.title for a in articles(doc)] == ["A & B <tag>", "Café & bar"]


def test_saved_feed_file_uses_the_same_mapping(tmp_path):
    path = tmp_path / "saved.xml"
    path.write_bytes(RSS20)
    assert [a.model_dump(exclude={"ingested_at"}) for a in read_feed_file(path, FEED)] == \
           [a.model_dump(exclude={"ingested_at"}) for a in articles(RSS20)]


# ---------------------------------------------------------------- malformed input

MALFORMED = {
    "truncated": (b'<rss version="2.0"><channel><title>x</title><item><title>First</title><guid>1</guid></item>'
                  b'<item><title>Second</title><guid>2</guid></item><item><title>Thi', ["First", "Second"]),
    "unclosed_p_in_description": (
        b'<rss version="2.0"><channel><item><title>First</title><guid>1</guid><description><p>open</description>'
        b'</item><item><title>Second</title><guid>2</guid></item></channel></rss>', ["First", "Second"]),
    "unescaped_ampersand": (b'<rss version="2.0"><channel><item><title>Tom & Jerry</title><guid>1</guid></item>'
                            b'</channel></rss>', ["Tom & Jerry"]),
    "undefined_entities": (b'<rss version="2.0"><channel><item><title>Caf&eacute; &nbsp;&foo; news</title>'
                           b'<guid>1</guid></item></channel></rss>', None),
    "bad_encoding_declaration": (b'<?xml version="1.0" encoding="klingon"?><rss version="2.0"><channel><item>'
                                 b'<title>caf\xe9</title><guid>1</guid></item></channel></rss>', ["caf\xe9"]),
    "latin1_declared_utf8": (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><item>'
                             b'<title>caf\xe9 cr\xe8me</title><guid>1</guid></item></channel></rss>', ["caf\xe9 cr\xe8me"]),
    "missing_closing_root": (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>e1</id><title>Only</title>'
                             b'</entry>', ["Only"]),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_feeds_still_yield_entries(name):
    data, titles = MALFORMED[name]
    parsed = parse_feed_bytes(data, name=name)
    got = entries_to_raw(parsed, FEED)
    if titles is None:
        assert len(got) == 1 and got[0].title.startswith("Caf") and got[0].title.endswith("news")
    else:
        assert [a.title for a in got] == titles
    assert all(a.id for a in got)


@pytest.mark.parametrize("data", [
    b"", b"   ", b"\x00\x01\x02\xff\xfe garbage", b"<html><head><title>Sign in</title></head><body>x</body></html>",
    b"{\"not\": \"xml\"}", b"<rss", b"<?xml version='1.0'?>", "<rss>\u2603</rss>".encode("utf-16"),
])
def test_non_feeds_give_nothing_and_never_raise(data):
    parsed = parse_feed_bytes(data, headers={"Content-Type": "text/html"})
    assert entries_to_raw(parsed, FEED) == []
    assert not is_feed(parsed) or not parsed.entries


def test_http_charset_is_honoured():
    doc = '<rss version="2.0"><channel><item><title>Приве́т</title><guid>1</guid></item></channel></rss>'
    (a,) = articles(doc.encode("koi8-r", "replace"), headers={"Content-Type": "application/rss+xml; charset=koi8-r"})
    assert a.title.startswith("Приве")


def test_utf16_feed():
    doc = '<?xml version="1.0" encoding="utf-16"?><rss version="2.0"><channel><item><title>Grüße</title><guid>1</guid></item></channel></rss>'
    assert [a.title for a in articles(doc.encode("utf-16"))] == ["Grüße"]


def test_bytes_are_never_opened_as_a_path():
    # feedparser.parse(b"/etc/passwd") would read the file; we only parse what we are given
    parsed = parse_feed_bytes(b"/etc/passwd")
    assert "root:" not in repr(parsed)


def test_size_bound():
    big = b'<rss version="2.0"><channel>' + b"<item><title>x</title></item>" * 1000 + b"</channel></rss>"
    parsed = parse_feed_bytes(big, max_bytes=1000)
    assert parsed.bozo and isinstance(parsed.bozo_exception, feeds.FeedTooLarge) and parsed.entries == []


# ---------------------------------------------------------------- hostile XML


def _xxe_docs(target: str) -> dict[str, bytes]:
    ent = f'<!ENTITY xxe SYSTEM "{target}">'
    item = "<item><title>leak &xxe; end</title><guid>g1</guid><description>&xxe;</description></item>"
    return {
        "one_line": f'<?xml version="1.0"?><!DOCTYPE rss [{ent}]><rss version="2.0"><channel>{item}</channel></rss>',
        "multi_line": f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n  {ent}\n]>\n<rss version="2.0"><channel>{item}</channel></rss>',
        "parameter_entity": f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY % p SYSTEM "{target}">\n%p;\n]>\n'
                            f'<rss version="2.0"><channel><item><title>pe</title><guid>g</guid></item></channel></rss>',
        "atom": f'<?xml version="1.0"?>\n<!DOCTYPE feed [\n{ent}\n]>\n<feed xmlns="http://www.w3.org/2005/Atom">'
                f'<entry><id>e</id><title>&xxe;</title><content type="html">&xxe;</content></entry></feed>',
        "quoted_gt": f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "]>">\n{ent}\n]>\n'
                     f'<rss version="2.0"><channel>{item}</channel></rss>',
        "utf16": None,
    }


@pytest.mark.parametrize("variant", list(_xxe_docs("x")))
def test_xxe_never_reads_local_files(variant, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-8d1f")
    for target, marker in ((secret.as_uri(), "TOP-SECRET-8d1f"), ("file:///etc/passwd", "root:")):
        docs = _xxe_docs(target)
        data = docs[variant].encode() if variant != "utf16" else docs["multi_line"].replace(
            '<?xml version="1.0"?>', '<?xml version="1.0" encoding="utf-16"?>').encode("utf-16")
        parsed = parse_feed_bytes(data)
        got = entries_to_raw(parsed, FEED)
        assert marker not in repr(parsed)
        assert all(marker not in a.model_dump_json() for a in got)


def test_billion_laughs_is_quick_and_small():
    ents = ['<!ENTITY lol "lol">'] + [f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1) if i > 1 else "&lol;") * 10}">'
                                      for i in range(1, 10)]
    doc = ('<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + "\n".join(ents) + "\n]>\n"
           '<rss version="2.0"><channel><item><title>&lol9;</title><guid>g</guid>'
           '<description>&lol9;&lol9;</description></item></channel></rss>').encode()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        parsed = parse_feed_bytes(doc)
        got = entries_to_raw(parsed, FEED)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 2.0
    assert peak < 20 * 1024 * 1024
    assert len(repr(parsed)) < 10_000 and all(len(a.model_dump_json()) < 10_000 for a in got)


def test_quadratic_blowup_is_not_expanded():
    doc = ('<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "' + "x" * 50_000 + '">]>\n'
           '<rss version="2.0"><channel><item><title>t</title><guid>g</guid><description>'
           + "&a;" * 20_000 + "</description></item></channel></rss>").encode()
    started = time.perf_counter()
    got = articles(doc)
    assert time.perf_counter() - started < 5.0
    assert all(len(a.content) < 200_000 for a in got)


def test_strip_doctype():
    assert strip_doctype(b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "]>x"><!-- > -->]><rss/>') == \
        b'<?xml version="1.0"?><rss/>'
    assert strip_doctype(b'<!doctype rss PUBLIC "-//Netscape//DTD RSS 0.91//EN" "http://x/rss.dtd">\n<rss/>') == b"\n<rss/>"
    assert strip_doctype(b'<!DOCTYPE rss [<!ENTITY a "unbalanced>]><rss/>') == b"<rss/>"
    assert strip_doctype(b"<rss><title>no doctype</title></rss>") == b"<rss><title>no doctype</title></rss>"


# ---------------------------------------------------------------- configuration


def test_feed_config_validation(monkeypatch):
    ok = FeedConfig(url=" https://x.example/rss ", name=" X ", tags=["a", " a", "", "b"])
    assert (ok.url, ok.name, ok.tags, ok.interval, ok.enabled, ok.fetch_full_text) == \
        ("https://x.example/rss", "X", ["a", "b"], 300, True, False)
    for url in ("ftp://x.example/rss", "file:///etc/passwd", "javascript:alert(1)", "x.example/rss", "https://"):
        with pytest.raises(ValueError):
            FeedConfig(url=url, name="x")
    with pytest.raises(ValueError, match="at least 30"):
        FeedConfig(url="https://x.example/", name="x", interval=5)
    with pytest.raises(ValueError, match="Extra inputs"):
        FeedConfig(url="https://x.example/", name="x", intervall=60)
    monkeypatch.setattr(common, "MIN_INTERVAL", 0.1)
    assert FeedConfig(url="https://x.example/", name="x", interval=0.2).interval == 0.2
    assert FeedConfig.model_validate({"url": "https://x.example/", "name": "x", "interval": 1},
                                     context={"min_interval": 0.5}).interval == 1


FEEDS_YAML = """\
feeds:
  - name: Example Wire
    url: https://news.example.org/feed.xml
    interval: 600
    tags: [wire, world]
  - name: Slow blog
    url: http://blog.example.net/atom
    enabled: false
    fetch_full_text: true
    timeout: 10
"""


def test_load_feeds(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text(FEEDS_YAML)
    a, b = load_feeds(path)
    assert (a.name, a.interval, a.tags, a.enabled) == ("Example Wire", 600, ["wire", "world"], True)
    assert (b.enabled, b.fetch_full_text, b.timeout, b.interval) == (False, True, 10, 300)


@pytest.mark.parametrize("text, line, pattern", [
    (FEEDS_YAML.replace("    tags:", "    tagz:"), 5, r"feeds.yaml:5: 'Example Wire': unknown key 'tagz' \(did you mean 'tags'\?\)"),
    (FEEDS_YAML.replace("http://blog", "ftp://blog"), 7, r":7: 'Slow blog': url: must be an http:// or https:// URL"),
    (FEEDS_YAML.replace("interval: 600", "interval: 10"), 4, r":4: 'Example Wire': interval: must be at least 30"),
    (FEEDS_YAML.replace("Slow blog", "Example Wire"), 6, r"duplicate feed name \(first defined at line 2\)"),
    (FEEDS_YAML.replace("http://blog.example.net/atom", "https://news.example.org/feed.xml"), 7, "duplicate url"),
    (FEEDS_YAML.replace("  - name: Slow blog\n", "  - tags: [blogs]\n"), 6, r"'http://blog.example.net/atom': name: Field required"),
    (FEEDS_YAML.replace("feeds:", "feedz:"), 1, r"unknown top-level key 'feedz' \(did you mean 'feeds'\?\)"),
    (FEEDS_YAML.replace("[wire, world]", "[wire, world"), None, "YAML syntax error"),
    (FEEDS_YAML.replace("    enabled: false", "    enabled: maybe"), 8, r"'Slow blog': enabled: Input should be a valid boolean"),
    ("feeds: {a: 1}\n", 1, "'feeds' must be a list"),
    ("- just a list\n", 1, "expected a mapping with a 'feeds:' list"),
    ("feeds:\n  - https://x.example/rss\n", 2, "each feed must be a mapping"),
])
def test_load_feeds_errors_name_file_line_and_feed(tmp_path, text, line, pattern):
    path = tmp_path / "feeds.yaml"
    path.write_text(text)
    with pytest.raises(FeedConfigError, match=pattern) as info:
        load_feeds(path)
    assert info.value.file == str(path)
    if line is not None:
        assert info.value.line == line


def test_load_feeds_typo_in_top_level_key_is_suggested(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds: []\nfeds: []\n")
    with pytest.raises(FeedConfigError, match=r":2: unknown top-level key 'feds' \(did you mean 'feeds'\?\)"):
        load_feeds(path)


def test_load_feeds_min_interval_override(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - {name: fast, url: 'https://x.example/', interval: 0.2}\n")
    with pytest.raises(FeedConfigError):
        load_feeds(path)
    assert load_feeds(path, min_interval=0.1)[0].interval == 0.2
    assert load_feeds(tmp_path / "feeds.yaml", min_interval=0.1)
    with pytest.raises(FeedConfigError, match="file not found"):
        load_feeds(tmp_path / "missing.yaml")


OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>My subscriptions</title></head>
  <body>
    <outline text="World">
      <outline type="rss" text="Example Wire" title="Example Wire" xmlUrl="https://news.example.org/feed.xml"
               htmlUrl="https://news.example.org/"/>
      <outline text="Asia">
        <outline type="rss" text="Asia Desk" xmlUrl="https://asia.example.org/rss" category="/markets,energy"/>
      </outline>
    </outline>
    <outline type="rss" text="Example Wire" xmlUrl="https://mirror.example.org/feed.xml"/>
    <outline type="rss" text="Dup" xmlUrl="https://asia.example.org/rss"/>
    <outline type="rss" text="Local" xmlUrl="file:///etc/passwd"/>
    <outline type="rss" xmlUrl="https://untitled.example.com/feed"/>
  </body>
</opml>"""


def test_import_opml(tmp_path):
    path = tmp_path / "subs.opml"
    path.write_text(OPML)
    got = import_opml(path)
    assert [(f.name, f.url, f.tags) for f in got] == [
        ("Example Wire", "https://news.example.org/feed.xml", ["World"]),
        ("Asia Desk", "https://asia.example.org/rss", ["World", "Asia", "markets", "energy"]),
        ("Example Wire (2)", "https://mirror.example.org/feed.xml", []),
        ("untitled.example.com", "https://untitled.example.com/feed", []),
    ]


@pytest.mark.parametrize("text, pattern", [
    ('<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     '<opml><body><outline text="&x;" xmlUrl="https://a.example/"/></body></opml>', "unsafe OPML refused"),
    ('<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
     '<opml><body><outline text="&b;" xmlUrl="https://a.example/"/></body></opml>', "unsafe OPML refused"),
    ('<opml><body><outline text="x"', "invalid OPML"),
    ('<rss version="2.0"><channel/></rss>', "not an OPML document"),
])
def test_import_opml_refuses_unsafe_or_invalid(tmp_path, text, pattern):
    path = tmp_path / "subs.opml"
    path.write_text(text)
    with pytest.raises(FeedConfigError, match=pattern):
        import_opml(path)


# ---------------------------------------------------------------- poller bookkeeping


def test_retry_after_parsing():
    assert parse_retry_after("120") == 120
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    later = datetime.now(timezone.utc).timestamp() + 90
    http_date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(later))
    assert 80 <= parse_retry_after(http_date) <= 91
    assert parse_retry_after("Tue, 01 Jan 2000 00:00:00 GMT") == 0


def test_backoff_grows_with_jitter_and_is_capped(tmp_path):
    feed = FeedConfig(url="https://x.example/", name="x", interval=60)
    poller = FeedPoller([feed], publisher=None, topic="t", state_path=tmp_path, max_backoff=3600)
    delays = [poller.backoff(feed, n) for n in range(1, 12)]
    assert 96 <= delays[0] <= 120 and 192 <= delays[1] <= 240
    assert all(2880 <= d <= 3600 for d in delays[6:])  # days of failure: retried at the cap
    assert poller.backoff(feed, 1, retry_after=900) == 900
    assert poller.backoff(feed, 1, retry_after=86400) == 3600  # Retry-After honoured up to the cap


def test_seen_set_is_bounded_but_keeps_what_is_still_in_the_feed():
    st = FeedState(url="u", health=FeedHealth())
    st.touch([f"old{i}" for i in range(10)], limit=5)
    assert list(st.seen) == [f"old{i}" for i in range(5, 10)]
    st.touch(["old5"], limit=5)  # still in the feed: becomes most recent
    st.touch(["n1", "n2", "n3", "n4"], limit=5)
    assert list(st.seen) == ["old5", "n1", "n2", "n3", "n4"]


def test_corrupt_state_file_is_moved_aside(tmp_path):
    state = tmp_path / "feeds-state.json"
    state.write_text("{not json")
    poller = FeedPoller([FEED], publisher=None, topic="t", state_path=state)
    assert poller.health["Example Wire"].consecutive_failures == 0
    assert not state.exists() and list(tmp_path.glob("feeds-state.json.corrupt-*"))


class FakePublisher:
    """Records what was published; can fail on a given call, like a broker outage."""

    def __init__(self, fail_on: int | None = None):
        self.sent: list[tuple[str, str, dict]] = []
        self.calls = 0
        self.fail_on = fail_on

    async def publish(self, topic, key, message):
        self.calls += 1
        if self.calls == self.fail_on:
            raise ConnectionError("broker went away")
        self.sent.append((topic, key, json.loads(message.model_dump_json())))


def rss(items: list[tuple[str, str]], link_base: str = "https://news.example.org/a/") -> bytes:
    body = "".join(f"<item><title>{t}</title><guid>{g}</guid><link>{link_base}{g}</link>"
                   f"<description>About {t}</description></item>" for g, t in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{body}</channel></rss>'.encode()


@pytest.fixture
def fast(monkeypatch):
    monkeypatch.setattr(common, "MIN_INTERVAL", 0.05)


async def test_items_are_seen_only_after_the_publish_returned(tmp_path, fast):
    items = [("g3", "Three"), ("g2", "Two"), ("g1", "One")]  # newest first, as feeds list them

    async def handler(request):
        return web.Response(body=rss(items), content_type="application/rss+xml")

    async with LocalServer() as srv:
        srv.handler = handler
        feed = FeedConfig(url=srv.url(), name="wire", interval=0.1, timeout=2)
        broken = FakePublisher(fail_on=2)
        poller = FeedPoller([feed], broken, "raw", tmp_path)
        result = await poller.poll_once(feed)
        await poller.close()
        assert result.outcome == "error" and "broker went away" in result.error
        assert [m["guid"] for _, _, m in broken.sent] == ["g1"]  # oldest first; g2 failed

        healthy = FakePublisher()
        poller = FeedPoller([feed], healthy, "raw", tmp_path)  # a restart
        result = await poller.poll_once(feed)
        again = await poller.poll_once(feed)
        await poller.close()
    assert (result.outcome, result.new, again.new) == ("ok", 2, 0)
    assert [m["guid"] for _, _, m in healthy.sent] == ["g2", "g3"]
    assert all(topic == "raw" and key == m["id"] for topic, key, m in healthy.sent)
    state = json.loads((tmp_path / "feeds-state.json").read_text())
    assert state["version"] == 1 and len(state["feeds"]["wire"]["seen"]) == 3


async def test_gzip_retry_after_oversize_and_not_a_feed(tmp_path, fast):
    mode = {"v": "gzip"}

    async def handler(request):
        if mode["v"] == "gzip":
            return web.Response(body=gzip.compress(rss([("g1", "One")])),
                                headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"})
        if mode["v"] == "429":
            return web.Response(status=429, headers={"Retry-After": "7"})
        if mode["v"] == "huge":
            return web.Response(body=gzip.compress(b"<rss>" + b" " * 3_000_000 + b"</rss>"),
                                headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"})
        return web.Response(text="<html><body>Please sign in</body></html>", content_type="text/html")

    async with LocalServer() as srv:
        srv.handler = handler
        feed = FeedConfig(url=srv.url(), name="wire", interval=0.1, timeout=2)
        pub = FakePublisher()
        poller = FeedPoller([feed], pub, "raw", tmp_path, max_backoff=60, max_bytes=1_000_000)
        assert (await poller.poll_once(feed)).new == 1
        assert "gzip" in srv.requests[-1].headers["Accept-Encoding"]
        assert srv.requests[-1].headers["User-Agent"].startswith("newsmon/")

        mode["v"] = "429"
        before = datetime.now(timezone.utc)
        result = await poller.poll_once(feed)
        assert result.status == 429 and result.retry_in >= 7
        assert (poller.health["wire"].next_poll - before).total_seconds() >= 7

        mode["v"] = "huge"  # a gzip bomb: 3 MB inflated from a few KB
        result = await poller.poll_once(feed)
        assert "over the limit" in result.error

        mode["v"] = "html"
        result = await poller.poll_once(feed)
        assert result.outcome == "error" and "not a feed" in result.error
        assert poller.health["wire"].consecutive_failures == 3 and not poller.health["wire"].healthy
        await poller.close()


async def test_redirects_are_bounded(tmp_path, fast):
    async def handler(request):
        n = int(request.query.get("n", "0"))
        raise web.HTTPFound(f"/feed.xml?n={n + 1}")

    async with LocalServer() as srv:
        srv.handler = handler
        feed = FeedConfig(url=srv.url(), name="loop", interval=0.1, timeout=2)
        poller = FeedPoller([feed], FakePublisher(), "raw", tmp_path)
        result = await poller.poll_once(feed)
        await poller.close()
    assert result.outcome == "error" and "too many redirects" in result.error
    assert len(srv.requests) <= feeds.MAX_REDIRECTS + 1


ARTICLE_PAGE = """<html><head><title>Quake</title></head><body><nav>Home | World | Sport</nav>
<article><h1>Quake hits coast</h1>
<p>A strong earthquake struck the northern coast early on Tuesday, damaging dozens of buildings and cutting power to
thousands of homes, officials said.</p>
<p>Rescue teams worked through the night to reach villages cut off by landslides, and the regional government
declared a state of emergency in three districts.</p>
</article><footer>Copyright Example</footer></body></html>"""


async def test_full_text_is_fetched_for_summary_only_entries(tmp_path, fast):
    async def handler(request):
        if request.path == "/feed.xml":
            return web.Response(body=rss([("ok", "Quake"), ("missing", "Gone")], link_base=srv.url("/a/")),
                                content_type="application/rss+xml")
        if request.path == "/a/ok":
            return web.Response(text=ARTICLE_PAGE, content_type="text/html")
        return web.Response(status=404)

    async with LocalServer() as srv:
        srv.handler = handler
        feed = FeedConfig(url=srv.url(), name="wire", interval=0.1, timeout=2, fetch_full_text=True,
                          deny_private_pages=False)  # the test server is on 127.0.0.1
        pub = FakePublisher()
        poller = FeedPoller([feed], pub, "raw", tmp_path)
        result = await poller.poll_once(feed)
        await poller.close()
    assert result.new == 2
    by_guid = {m["guid"]: m for _, _, m in pub.sent}
    assert "Rescue teams worked through the night" in by_guid["ok"]["content"]
    assert "Copyright" not in by_guid["ok"]["content"] and by_guid["ok"]["content_type"] == "text"
    assert by_guid["missing"]["content"] == "About Gone"  # page failed: the summary is kept


async def test_changed_url_drops_old_validators(tmp_path, fast):
    state = tmp_path / "s.json"
    old = FeedConfig(url="https://old.example/rss", name="wire", interval=0.1)
    poller = FeedPoller([old], FakePublisher(), "raw", state)
    poller._states["wire"].etag = '"abc"'
    poller._states["wire"].seen = {"id1": None}
    poller.save()
    new = FeedConfig(url="https://new.example/rss", name="wire", interval=0.1)
    st = FeedPoller([new], FakePublisher(), "raw", state)._states["wire"]
    assert st.etag is None and list(st.seen) == ["id1"]


async def test_run_polls_on_schedule_and_stops(tmp_path, fast):
    async def handler(request):
        return web.Response(body=rss([("g1", "One")]), content_type="application/rss+xml")

    async with LocalServer() as srv:
        srv.handler = handler
        on = FeedConfig(url=srv.url(), name="on", interval=0.1, timeout=2)
        off = FeedConfig(url=srv.url("/off.xml"), name="off", interval=0.1, enabled=False)
        pub = FakePublisher()
        poller = FeedPoller([on, off], pub, "raw", tmp_path)
        task = asyncio.create_task(poller.run())
        for _ in range(100):
            if len(srv.requests) >= 3:
                break
            await asyncio.sleep(0.05)
        poller.stop()
        await asyncio.wait_for(task, 5)
    assert len(srv.requests) >= 3 and all(r.path == "/feed.xml" for r in srv.requests)
    assert len(pub.sent) == 1
    report = poller.health_report()
    assert report["on"]["healthy"] and report["on"]["items_seen"] == 1 and report["off"]["last_success"] is None
    assert json.loads((tmp_path / "feeds-state.json").read_text())["feeds"]["on"]["health"]["items_seen"] == 1


def test_duplicate_names_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unique"):
        FeedPoller([FEED, FEED], FakePublisher(), "raw", tmp_path)
