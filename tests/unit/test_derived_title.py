"""An article without a headline gets a readable title from its lead sentence,
marked as derived, so alerts never look empty (issue 14, item 7)."""

from __future__ import annotations

from monitor.enrich.normalize import DERIVED_TITLE_MAX_CHARS, normalize
from monitor.enrich.tag import Tagger
from monitor.models import RawArticle

LONG_LEAD = (
    "ULAANBAATAR, March 3 (Steppe Wire) -- The governor of the northern province said on Monday that "
    "flood barriers along the river would be raised by two metres before the spring thaw, after last "
    "year's floods reached the provincial capital. Work starts next week.\n\n"
    "Engineers from three districts will join the crews."
)


def _plain(text: str, title: str | None = None) -> RawArticle:
    return RawArticle(id="a1", source="wire", content=text, title=title)


def test_untitled_text_gets_its_lead_sentence_cut_at_a_word_boundary():
    article = normalize(_plain(LONG_LEAD))
    assert article.title_derived is True
    assert article.title.startswith("The governor of the northern province said on Monday")
    assert article.title.endswith("\u2026")
    assert len(article.title) <= DERIVED_TITLE_MAX_CHARS + 1
    words = article.title[:-1].split()
    assert all(w in article.text for w in words), "cut inside a word"
    assert "Work starts" not in article.title  # only the first sentence


def test_short_lead_sentence_is_the_whole_title():
    article = normalize(_plain("Rescuers reached the village at dawn.\n\nMore crews followed."))
    assert (article.title, article.title_derived) == ("Rescuers reached the village at dawn.", True)


def test_a_headline_line_is_a_real_title_not_derived():
    text = "Flood barriers to rise before the thaw\n\n" + LONG_LEAD
    article = normalize(_plain(text))
    assert (article.title, article.title_derived) == ("Flood barriers to rise before the thaw", False)
    assert article.headline == article.title


def test_a_given_title_is_kept():
    article = normalize(_plain(LONG_LEAD, title="Province raises flood barriers"))
    assert (article.title, article.title_derived) == ("Province raises flood barriers", False)


def test_empty_text_has_no_title():
    article = normalize(_plain("   "))
    assert article.title is None and article.title_derived is False


def test_a_derived_title_is_not_weighted_as_a_headline(tmp_path):
    """Tagging treats the lead paragraph as the headline when there is none: a
    derived title must not change which entities count as in the headline."""
    (tmp_path / "watchlists").mkdir()
    (tmp_path / "watchlists" / "people.yaml").write_text(
        "entities:\n"
        "  - id: person:oyun\n    type: person\n    name: Oyun Batbold\n"
        "  - id: person:tseren\n    type: person\n    name: Tseren Dorj\n",
        encoding="utf-8",
    )
    tagger = Tagger.from_rules_dir(tmp_path)
    text = ("Governor Oyun Batbold said barriers would rise. Crews start next week.\n\n"
            "Tseren Dorj, the engineer, agreed.")
    article = tagger.tag(normalize(_plain(text)))
    assert article.title_derived
    in_headline = {e.id: e.in_headline for e in article.entities}
    assert in_headline == {"person:oyun": True, "person:tseren": False}
    assert article.headline is None
