"""What escaping alone does not stop: non-http links and invisible Unicode."""

from __future__ import annotations

import pytest

from monitor.dashboard.display import clean_text, safe_url


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "file:///etc/passwd", "//evil.example/x",
    "http://", "https://exa mple.org/", "https://example.org/\u202egpj.exe", "https://exa\u200bmple.org/", "",
    None, "/relative/path", "mailto:a@b.c",
])
def test_only_absolute_http_links_are_made(url):
    assert safe_url(url) is None


@pytest.mark.parametrize("url", ["https://example.org/a?b=1&c=<x>", "http://127.0.0.1:8080/", "HTTPS://EXAMPLE.ORG"])
def test_http_links_are_kept(url):
    assert safe_url(url) == url


def test_bidi_controls_are_made_visible_and_zero_width_characters_dropped():
    assert clean_text("invoice \u202egpj.exe") == "invoice [U+202E]gpj.exe"
    assert clean_text("\u2067x\u2069 \u200eltr") == "[U+2067]x[U+2069] [U+200E]ltr"
    assert clean_text("Ki\u200bm Jong\ufeff Un\u2060") == "Kim Jong Un"
    assert clean_text("bell\x07 and nul\x00") == "bell and nul"


def test_joiners_that_scripts_need_are_kept():
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # ZWNJ inside a Persian word
    assert clean_text(persian) == persian
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert clean_text(family) == family


def test_long_text_is_cut_with_an_ellipsis():
    assert clean_text("a" * 500, 10) == "a" * 9 + "\u2026"
    assert clean_text(None) == "" and clean_text("short", 10) == "short"
