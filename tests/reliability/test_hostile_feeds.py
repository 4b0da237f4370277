"""DOCTYPE stripping is limited to the prolog, and still catches every DTD an XML parser would read.

tests/unit/test_feeds.py covers XXE, billion laughs and quadratic blow-up in
plain documents; these are the tricks aimed at the prolog scanner itself, and
the text that must survive it."""

from __future__ import annotations

import pytest

from monitor.watch.feeds import (
    FeedConfig,
    entries_to_raw,
    parse_feed_bytes,
    strip_doctype,
)

FEED = FeedConfig(url="https://news.example.org/feed.xml", name="wire")
ITEM = "<item><title>leak &xxe; end</title><guid>g1</guid><description>x &xxe; y</description></item>"


def hostile(ent: str) -> dict[str, str]:
    dtd = f"<!DOCTYPE rss [{ent}]>"
    body = f'<rss version="2.0"><channel>{ITEM}</channel></rss>'
    return {
        "element_name_in_comment": f"<?xml version='1.0'?><!-- <rss> --> {dtd}{body}",
        "element_name_in_pi": f"<?xml version='1.0'?><?style <rss>?>{dtd}{body}",
        "element_name_in_cdata": f"<![CDATA[<rss>]]>{dtd}{body}",
        "junk_text_first": f"junk text &amp; more {dtd}{body}",
        "stray_lt_first": f"< {dtd}{body}",
        "two_doctypes": f"<!DOCTYPE rss>{dtd}{body}",
        "lowercase": f"{dtd.replace('DOCTYPE', 'doctype')}{body}",
        "bom": f"\ufeff{dtd}{body}",
        "unterminated_comment": f"<!-- {dtd}{body}",
    }


@pytest.mark.parametrize("variant", list(hostile("")))
def test_prolog_tricks_never_read_a_local_file(variant, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-51c2")
    for target, marker in ((secret.as_uri(), "TOP-SECRET-51c2"), ("file:///etc/passwd", "root:")):
        doc = hostile(f'<!ENTITY xxe SYSTEM "{target}">')[variant].encode()
        parsed = parse_feed_bytes(doc)
        got = entries_to_raw(parsed, FEED)
        assert marker not in repr(parsed)
        assert all(marker not in a.model_dump_json() for a in got)
        assert b"<!ENTITY" not in strip_doctype(doc) or variant == "unterminated_comment"


def test_billion_laughs_behind_a_comment_is_not_expanded():
    ents = "".join(['<!ENTITY a "aaaaaaaaaa">'] + [f'<!ENTITY {c} "{("&" + p + ";") * 10}">'
                                                  for p, c in zip("abcdefgh", "bcdefghi")])
    doc = hostile(ents)["element_name_in_comment"].replace("&xxe;", "&i;").encode()
    got = entries_to_raw(parse_feed_bytes(doc), FEED)
    assert all(len(a.model_dump_json()) < 10_000 for a in got)


@pytest.mark.parametrize(("text", "kept"), [("<!DOCTYPE html", "DOCTYPE html"), ("<!DOCTYPE ]]", "DOCTYPE ]]"),
                                            ("<!doctype html><p>body</p>", "<p>body</p>")])
def test_doctype_inside_item_text_is_kept(text, kept):
    doc = (f'<?xml version="1.0"?><!DOCTYPE rss><rss version="2.0"><channel>'
           f'<item><guid>a</guid><description><![CDATA[{text}]]></description></item>'
           f'<item><guid>b</guid><title>The item after it</title></item></channel></rss>').encode()
    got = entries_to_raw(parse_feed_bytes(doc), FEED)
    assert [a.guid for a in got] == ["a", "b"]
    # (feedparser's sanitizer escapes a lone "<!DOCTYPE" and drops it from HTML: both are fine)
    assert kept in got[0].content
