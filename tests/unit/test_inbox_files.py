"""Turning inbox files into raw articles, without a broker."""

from __future__ import annotations

import json
import os

import pytest

from monitor.watch.files import RejectedFile, is_candidate, read_articles

STORY = "GENEVA, March 3 (Wire) -- Negotiators met for a second day on Tuesday.\n\nTalks resume on Friday.\n"


def test_text_file_becomes_one_article_with_stable_id(tmp_path):
    path = tmp_path / "story.txt"
    path.write_text(STORY, encoding="utf-8")
    (raw,) = read_articles(path, 1_000_000)
    assert raw.content == STORY and raw.content_type == "text" and raw.path == "story.txt"
    copy = tmp_path / "other-name.txt"
    copy.write_text(STORY, encoding="utf-8")
    assert read_articles(copy, 1_000_000)[0].id == raw.id  # id follows content, not file name


def test_html_and_markdown_keep_their_content_type(tmp_path):
    (tmp_path / "a.html").write_text("<html><body><p>Hello</p></body></html>")
    (tmp_path / "b.md").write_text("# Title\n\nBody")
    assert read_articles(tmp_path / "a.html", 10_000)[0].content_type == "html"
    assert read_articles(tmp_path / "b.md", 10_000)[0].content_type == "markdown"


def test_legacy_encoding_is_detected(tmp_path):
    path = tmp_path / "latin.txt"
    text = "Le président a déclaré que les négociations étaient très avancées à Genève. " * 5
    path.write_bytes(text.encode("cp1252"))
    assert "négociations" in read_articles(path, 10_000)[0].content


def test_jsonl_gives_one_article_per_line(tmp_path):
    path = tmp_path / "batch.jsonl"
    rows = [{"title": "One", "text": "first body", "url": "https://example.org/1"},
            {"title": "Two", "content": "second body", "source": "wire", "published": "2026-01-02T03:04:05Z"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    one, two = read_articles(path, 10_000)
    assert (one.title, one.content, one.source) == ("One", "first body", "inbox")
    assert (two.source, two.published.year) == ("wire", 2026)
    assert one.id != two.id


@pytest.mark.parametrize("name,data,reason", [
    ("bin.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
    ("empty.txt", b"", "empty"),
    ("bad.json", b"{not json", "invalid JSON"),
    ("list.json", b"[1, 2]", "expected a JSON object"),
    ("typed.json", b'{"content": "x", "published": "not a date"}', "published"),
])
def test_unreadable_files_are_rejected_with_a_reason(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(RejectedFile, match=reason):
        read_articles(path, 10_000)


def test_oversized_file_is_rejected(tmp_path):
    path = tmp_path / "huge.txt"
    path.write_bytes(b"a" * 2048)
    with pytest.raises(RejectedFile, match="over the limit"):
        read_articles(path, 1024)


def test_candidates_skip_hidden_temp_state_dirs_and_symlinks(tmp_path):
    (tmp_path / "processed").mkdir()
    names = ["ok.txt", ".hidden.txt", "draft.txt.tmp", "x.txt.part", "notes.pdf", "processed/old.txt"]
    for name in names:
        (tmp_path / name).write_text("text")
    link = tmp_path / "passwd.txt"
    os.symlink("/etc/passwd", link)
    accepted = [n for n in names + ["passwd.txt"] if is_candidate(tmp_path / n, tmp_path)]
    assert accepted == ["ok.txt"]
