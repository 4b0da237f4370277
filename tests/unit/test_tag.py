"""Entity tagging: aliases, boundaries, context-gated short forms, offsets."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.enrich.tag import Tagger
from monitor.enrich.watchlist import EntitySpec, Watchlist, WatchlistError
from monitor.models import Article
from tests.seeds import seed_text

RULES = Path(__file__).resolve().parents[2] / "rules"


@lru_cache(maxsize=1)
def default_tagger() -> Tagger:
    return Tagger.from_rules_dir(RULES)


def make_article(*paragraphs: str, title: str | None = None, aid: str = "a1",
                 source: str = "test") -> Article:
    return Article(id=aid, source=source, title=title, paragraphs=list(paragraphs),
                   text="\n\n".join(paragraphs))


def seed_article(prefix: str) -> Article:
    """A seed as an Article: one paragraph per non-empty line (junk included)."""
    paras = [line.strip() for line in seed_text(prefix).splitlines() if line.strip()]
    return make_article(*paras, aid=f"seed-{prefix}", source=f"seed-source-{prefix}")


def tag(*paragraphs: str, title: str | None = None) -> Article:
    return default_tagger().tag(make_article(*paragraphs, title=title))


def ids(article: Article) -> set[str]:
    return {e.id for e in article.entities}


def mentions(article: Article, entity_id: str) -> list[str]:
    ent = next((e for e in article.entities if e.id == entity_id), None)
    return [m.surface for m in ent.mentions] if ent else []


def assert_offsets(article: Article) -> None:
    for e in article.entities:
        for m in e.mentions:
            assert article.text[m.start:m.end] == m.surface
            assert article.paragraphs[m.paragraph] in article.text
            start = sum(len(p) + 2 for p in article.paragraphs[:m.paragraph])
            assert start <= m.start and m.end <= start + len(article.paragraphs[m.paragraph])


KIM = "person:kim-jong-un"


@pytest.mark.parametrize("surface", [
    "Kim Jong-un", "Kim Jong Un", "KIM JONG UN", "Kim Jongun", "kim jong un",
    "Kim Jong\u2010un", "Kim\u00a0Jong Un", "Kim  Jong Un",
])
def test_alias_variants(surface: str) -> None:
    a = tag(f"Leader {surface} inspected a factory on Friday.")
    assert mentions(a, KIM) == [surface]
    assert_offsets(a)


def test_possessives_and_short_forms_with_context() -> None:
    a = tag("Kim Jong Un\u2019s train left on Sunday.", "Kim's aides said Mr. Kim and Mr Kim\u2019s sister waved.")
    assert mentions(a, KIM) == ["Kim Jong Un", "Kim", "Mr. Kim", "Mr Kim"]
    assert_offsets(a)


def test_lone_short_form_without_full_name_is_not_tagged() -> None:
    a = tag("Kim scored twice for the visitors.", "Coach Lee said Kim was the best player.")
    assert KIM not in ids(a)


def test_full_name_in_title_enables_short_forms_in_body() -> None:
    a = tag("Kim waved from the train.", title="Kim Jong Un heads north")
    tagged = next(e for e in a.entities if e.id == KIM)
    assert tagged.in_headline and [m.surface for m in tagged.mentions] == ["Kim"]


def test_exclude_phrases_block_short_forms() -> None:
    a = tag("Kim Jong Un met officials.", "Kim Yo Jong issued a statement.")
    assert mentions(a, KIM) == ["Kim Jong Un"]


def test_token_boundaries_and_demonyms() -> None:
    a = tag("Iranian officials met a woman from Oman.", "The Iranair flight was late.")
    assert mentions(a, "country:IR") == ["Iranian"]
    assert mentions(a, "country:OM") == ["Oman"]
    b = tag("Iran said Iranians would vote.")
    assert mentions(b, "country:IR") == ["Iran", "Iranians"]


def test_country_forms_resolve_to_one_id() -> None:
    a = tag("North Korean media said Pyongyang and the DPRK rejected it.", "North Korea agreed.")
    assert mentions(a, "country:KP") == ["North Korean", "Pyongyang", "DPRK", "North Korea"]
    assert_offsets(a)


def test_korea_alone_is_ambiguous_and_not_tagged() -> None:
    a = tag("Korea is divided; the Korean Peninsula is tense.")
    assert not {"country:KP", "country:KR"} & ids(a)


def test_case_sensitive_codes() -> None:
    a = tag("Let us see what the US and the U.S. Navy do.", "The UK said it would wait.")
    assert mentions(a, "country:US") == ["US", "U.S."]
    assert mentions(a, "country:GB") == ["UK"]
    assert "country:US" not in ids(tag("Tell us more about it."))


def test_ambiguous_country_names_need_context() -> None:
    assert "country:GE" not in ids(tag("Voters in Atlanta, Georgia went to the polls."))
    a = tag("Protesters filled Tbilisi.", "Georgia recalled its ambassador.")
    assert mentions(a, "country:GE") == ["Tbilisi", "Georgia"]
    assert "country:US" not in ids(tag("Latin America and South America traded."))


def test_no_match_across_paragraphs() -> None:
    a = tag("He greeted Kim", "Jong Un later left.")
    assert KIM not in ids(a)


def test_offsets_survive_length_changing_casefold() -> None:
    a = tag("Die Straße \u00df\u00df f\u00fcr Kim Jong Un und Russland.", "Then North Korea replied.")
    assert mentions(a, KIM) == ["Kim Jong Un"]
    assert mentions(a, "country:KP") == ["North Korea"]
    assert_offsets(a)


def test_in_headline_uses_title_or_lead_paragraph() -> None:
    a = tag("Vladimir Putin spoke.", "North Korea listened.", title="Putin speaks")
    heads = {e.id for e in a.entities if e.in_headline}
    assert heads == {"person:vladimir-putin"}
    b = tag("Vladimir Putin spoke.", "North Korea listened.")
    assert {e.id for e in b.entities if e.in_headline} == {"person:vladimir-putin"}


def test_places_and_organizations() -> None:
    a = tag("The Korean Central News Agency said the train reached Khasan and the UNSC met.")
    assert {"org:kcna", "place:khasan", "org:un-security-council"} <= ids(a)


def test_seed_entities() -> None:
    a = default_tagger().tag(seed_article("000"))
    assert {KIM, "person:vladimir-putin", "country:KP", "country:RU", "org:kcna"} <= ids(a)
    assert_offsets(a)


# ------------------------------------------------------------ watchlist files


def write(tmp_path: Path, text: str) -> Path:
    d = tmp_path / "watchlists"
    d.mkdir(exist_ok=True)
    (d / "w.yaml").write_text(text, encoding="utf-8")
    return d


def test_unknown_key_error_names_file_line_id_and_suggests(tmp_path: Path) -> None:
    d = write(tmp_path, "entities:\n  - id: person:x\n    type: person\n    name: X Y\n    alias: [Z]\n")
    with pytest.raises(WatchlistError) as err:
        Watchlist.load([d])
    msg = str(err.value)
    assert "w.yaml:5" in msg and "'person:x'" in msg and "did you mean 'aliases'" in msg


@pytest.mark.parametrize("body, expected", [
    ("    type: persn\n    name: X\n", "w.yaml:3"),
    ("    type: person\n    name: X\n    country: Atlantis\n", "unknown country"),
    ("    type: person\n    name: X\n  - id: person:x\n    type: person\n    name: Y\n", "duplicate id"),
    ("    type: person\n    name: X\n    aliases: [a, '']\n", "empty"),
])
def test_invalid_entities(tmp_path: Path, body: str, expected: str) -> None:
    d = write(tmp_path, "entities:\n  - id: person:x\n" + body)
    with pytest.raises(WatchlistError, match=expected):
        Watchlist.load([d])


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    d = write(tmp_path, "entities:\n  - id: [unclosed\n")
    with pytest.raises(WatchlistError, match=r"w.yaml:\d+"):
        Watchlist.load([d])


def test_user_entry_extends_builtin_country_and_links_country(tmp_path: Path) -> None:
    d = write(tmp_path, "entities:\n"
                        "  - {id: 'country:KP', type: country, name: Hermit Kingdom}\n"
                        "  - {id: place:sinuiju, type: place, name: Sinuiju, country: north korea, tags: [border]}\n")
    wl = Watchlist.load([d])
    assert "Hermit Kingdom" in wl.get("country:KP").aliases
    assert "Pyongyang" in wl.get("country:KP").aliases
    assert wl.get("place:sinuiju").country == "country:KP"


# ---------------------------------------------------------------- scale


def test_ten_thousand_entities_each_still_found_by_its_own_context() -> None:
    """Correctness at watchlist scale; its cost is measured in bench/ (tagging), not here."""
    synthetic = [EntitySpec(id=f"person:p{i}", type="person", name=f"Zorbel{i} Quantix{i}",
                            requires_context=[f"Quantix{i}"]) for i in range(10_000)]
    big = Tagger(Watchlist([*default_tagger().watchlist.entities, *synthetic]))
    art = seed_article("003")
    art = art.model_copy(update={"paragraphs": [*art.paragraphs, "Zorbel42 Quantix42 met Quantix42."],
                                 "text": art.text + "\n\nZorbel42 Quantix42 met Quantix42."})
    tagged = big.tag(art)
    assert mentions(tagged, "person:p42") == ["Zorbel42 Quantix42", "Quantix42"]
    assert mentions(tagged, "person:p43") == []
    assert {e.id for e in tagged.entities} - {f"person:p{i}" for i in range(10_000)} == \
        {e.id for e in default_tagger().tag(seed_article("003")).entities}


# ------------------------------------------------------------ property test

_PIECES = st.sampled_from(["Kim Jong-un", "Kim", "KIM", "\u2019s", "Iran", "ian", "US", "u.s.", " ",
                           "\n", "\n\n", "-", "\u00df", "\u0130", "North Korea", "Pyongyang", ".",
                           "crossed into Russia", "may supply weapons", "if", "\u2014", "Mr. Kim"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=12), _PIECES), max_size=30), st.one_of(st.none(), st.text(max_size=20)))
def test_arbitrary_text_never_raises_and_offsets_hold(parts: list[str], title: str | None) -> None:
    text = "".join(parts)
    art = Article(id="h", source="h", title=title, text=text, paragraphs=text.split("\n\n"))
    out = default_tagger().tag(art)
    for e in out.entities:
        for m in e.mentions:
            assert 0 <= m.start < m.end <= len(text)
            assert text[m.start:m.end] == m.surface
    for ev in out.events:
        assert 0 <= ev.evidence.start < ev.evidence.end <= len(text)
        assert text[ev.evidence.start:ev.evidence.end] == ev.evidence.sentence
