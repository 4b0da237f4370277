"""Property-based tests (hypothesis) for the normalizer, the tagger and the rule parser.

* normalize: any Unicode content, title and content type is cleaned without
  raising, and `text == "\\n\\n".join(paragraphs)`;
* tagger: on arbitrary text salted with watched names (odd case, dashes,
  curly quotes, possessives, Turkish dotted I and German sharp s around them),
  every mention satisfies `text[start:end] == surface`, lies in its paragraph,
  and its surface folds to one of the entity's names; event evidence likewise;
* rules: a rule built from the pydantic model, dumped to YAML, loads back
  through the YAML loader equal to itself.

Example counts are modest (CI time); raise HYPOTHESIS_PROFILE=thorough locally."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from ruamel.yaml import YAML

from monitor.settings import REPO_ROOT
from monitor.enrich.normalize import normalize
from monitor.enrich.sentences import paragraph_spans
from monitor.enrich.tag import Tagger, fold, surface_form
from monitor.models import RawArticle
from monitor.rules.loader import load_ruleset
from monitor.rules.schema import MODALITIES, SEVERITIES, Rule

settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("thorough", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# any code point except surrogates (which cannot be encoded), including controls, NUL, BOM, RTL marks
UNICODE = st.text(st.characters(blacklist_categories=("Cs",)), max_size=400)
NEWSY = st.text(st.characters(blacklist_categories=("Cs",)) | st.sampled_from(list(" \n\n.,'’-–\u00a0")),
                max_size=300)


# ---------------------------------------------------------------- normalizer


@given(content=UNICODE, title=st.none() | UNICODE, ctype=st.sampled_from(["text", "html", "markdown"]))
def test_normalize_never_raises_and_paragraphs_join_to_text(content, title, ctype):
    article = normalize(RawArticle(id="p", source="prop", content=content, title=title, content_type=ctype))
    assert article.text == "\n\n".join(article.paragraphs)
    assert all(p and p == p.strip() for p in article.paragraphs)


@given(paras=st.lists(NEWSY, min_size=1, max_size=8), sep=st.sampled_from(["\n\n", "\r\n\r\n", "\n \n", "\n\n\n"]))
def test_normalize_keeps_paragraph_structure(paras, sep):
    article = normalize(RawArticle(id="p", source="prop", content=sep.join(paras)))
    assert article.text == "\n\n".join(article.paragraphs)


# ---------------------------------------------------------------- tagger

TAGGER = Tagger.from_rules_dir(REPO_ROOT / "rules")
NAMES = ["Kim Jong Un", "Kim Jong-un", "KIM JONG UN", "Kim\u2011Jong\u2011un", "Kim's", "Mr Kim", "Mr. Kim",
         "Vladimir Putin", "Putin’s", "President Putin", "Xi Jinping", "North Korean", "Pyongyang", "DPRK",
         "Russia", "Russian", "Moscow", "Iran", "Iranian", "China", "Beijing", "Ukraine", "Kyiv"]
NOISE = ["İstanbul", "straße", "ﬁnal", "ǅ", "\u0130", "ß", "\u200b", "\u202e", "\u00a0", "\t", "  ", "\n", "\n\n",
         " crossed into ", " arrived in ", " delivered artillery shells to ", " met ", " denied that ", "“", "”"]


EVENTS = ["{a} crossed into {b} by train on Tuesday.", "{a} is expected to visit {b} next week.",
          "{a} delivered artillery shells to {b}, officials said.", "{a} denied that troops entered {b}.",
          "Officials said {a} met {b} in Vladivostok."]
PIECE = st.one_of(
    st.sampled_from(NAMES), st.sampled_from(NAMES), st.sampled_from(NOISE),
    st.builds(lambda t, a, b: t.format(a=a, b=b), st.sampled_from(EVENTS), st.sampled_from(NAMES),
              st.sampled_from(NAMES)),
    NEWSY.map(lambda s: s[:40]),
)


@st.composite
def salted_text(draw) -> str:
    pieces = draw(st.lists(st.tuples(PIECE, st.sampled_from(["", " ", " ", "\n\n", "-", "\u0301", "’s "])),
                           min_size=1, max_size=30))
    return "".join(piece + sep for piece, sep in pieces)


def _forms(entity) -> set[str]:
    forms = {entity.name, *entity.aliases, *entity.requires_context, *entity.case_sensitive_aliases}
    return {fold(f) for f in forms} | {fold(f).replace(". ", " ") for f in forms}


@given(content=salted_text(), title=st.none() | salted_text())
def test_tag_offsets_always_point_into_the_text(content, title):
    article = TAGGER.tag(normalize(RawArticle(id="t", source="prop", content=content, title=title)))
    text = article.text
    spans = paragraph_spans(text, article.paragraphs)
    for tag in article.entities:
        entity = TAGGER.watchlist.get(tag.id)
        for m in tag.mentions:
            assert 0 <= m.start < m.end <= len(text)
            assert text[m.start:m.end] == m.surface
            start, end = spans[m.paragraph]
            assert start <= m.start and m.end <= end, (m, spans)
            if entity is not None:  # the surface names the entity
                key = fold(m.surface).replace(". ", " ")
                assert key in _forms(entity) or key.removesuffix("'s") in _forms(entity), (m.surface, tag.id)
    for event in article.events:
        ev = event.evidence
        assert text[ev.start:ev.end] == ev.sentence
        start, end = spans[ev.paragraph]
        assert start <= ev.start and ev.end <= end


def test_surface_form_is_idempotent_on_names():
    for name in NAMES:
        assert surface_form(surface_form(name)) == surface_form(name)


# ---------------------------------------------------------------- rule parser

IDS = st.sampled_from(["person:kim-jong-un", "person:vladimir-putin", "country:KP", "country:RU", "org:x"])
PHRASE = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(str.strip)
SAFE_REGEX = st.sampled_from([r"\bshells?\b", r"(?i)missile", r"[0-9]{2,4} troops", r"^breaking", "a|b"])
EVENT_TYPES = st.sampled_from(["border_crossing", "arms_transfer", "summit", "missile_launch"])


def leaf_conditions():
    entity = st.fixed_dictionaries({}, optional={
        "any": st.lists(IDS, min_size=1, max_size=3), "all": st.lists(IDS, min_size=1, max_size=2),
        "none": st.lists(IDS, min_size=1, max_size=2), "min_mentions": st.integers(1, 5),
        "in_headline": st.booleans()}).filter(lambda d: "any" in d or "all" in d)
    text = st.fixed_dictionaries({}, optional={
        "phrases": st.lists(PHRASE, min_size=1, max_size=3), "all_phrases": st.lists(PHRASE, min_size=1, max_size=2),
        "regex": st.lists(SAFE_REGEX, min_size=1, max_size=2), "case_sensitive": st.booleans()}
    ).filter(lambda d: {"phrases", "all_phrases", "regex"} & d.keys())
    event = st.fixed_dictionaries({"type": st.lists(EVENT_TYPES, min_size=1, max_size=2, unique=True)}, optional={
        "modality": st.lists(st.sampled_from(MODALITIES), min_size=1, max_size=3, unique=True),
        "min_confidence": st.floats(0, 1, allow_nan=False).map(lambda x: round(x, 3)),
        "actor": st.lists(IDS, min_size=1, max_size=2), "destination": st.fixed_dictionaries(
            {"type": st.just(["country"])})})
    return st.one_of(
        entity.map(lambda d: {"entity": d}), text.map(lambda d: {"text": d}), event.map(lambda d: {"event": d}),
        st.lists(PHRASE, min_size=1, max_size=3).map(lambda s: {"source": s}),
        st.booleans().map(lambda b: {"duplicate": b}),
    )


CONDITIONS = st.recursive(
    leaf_conditions(),
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=3).map(lambda c: {"all": c}),
        st.lists(children, min_size=1, max_size=3).map(lambda c: {"any": c}),
        children.map(lambda c: {"not": c})),
    max_leaves=6,
)
DURATION = st.builds(lambda n, u: f"{n}{u}", st.integers(1, 90), st.sampled_from("smhd"))


@st.composite
def rules(draw) -> Rule:
    severity = draw(st.sampled_from(SEVERITIES[:-1]))
    doc = {
        "id": draw(st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,20}", fullmatch=True)),
        "title": draw(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60)),
        "description": draw(UNICODE.map(lambda s: s[:80])),
        "severity": severity,
        "enabled": draw(st.booleans()),
        "version": draw(st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,2})?", fullmatch=True)),
        "tags": draw(st.lists(PHRASE, max_size=3)),
        "match": draw(CONDITIONS),
    }
    if draw(st.booleans()):
        doc["exceptions"] = [{"name": draw(PHRASE), "reason": draw(PHRASE), "match": draw(CONDITIONS),
                              **({"until": "2031-01-31"} if draw(st.booleans()) else {})}]
    if draw(st.booleans()):
        doc["template"] = {"title": draw(st.sampled_from(["{rule_title}: {actors}", "{source} {story_id}"]))}
    if draw(st.booleans()):
        doc["group_by"] = draw(st.sampled_from([["story"], ["rule"], ["source", "event.destination"], ["entity"]]))
    stateful = draw(st.sampled_from(["none", "threshold", "spike", "new_term"]))
    if stateful == "threshold":
        doc["threshold"] = {"count": draw(st.integers(1, 9)), "distinct_sources": draw(st.integers(1, 3)),
                            "within": draw(DURATION)}
    elif stateful == "spike":
        doc["spike"] = {"window": "1h", "baseline": "24h", "ratio": draw(st.integers(1, 9)),
                        "min_count": draw(st.integers(1, 9))}
    elif stateful == "new_term":
        doc["new_term"] = {"field": draw(st.sampled_from(["source", "event.destination", "entity"])),
                           "within": draw(DURATION)}
    if draw(st.booleans()):
        doc["throttle"] = {"period": draw(DURATION), "digest": draw(st.booleans())}
    if draw(st.booleans()):
        doc["escalate"] = {"at_corroboration": draw(st.integers(2, 50)),
                           "to": SEVERITIES[SEVERITIES.index(severity) + 1]}
    try:
        return Rule.model_validate(doc)
    except ValidationError:
        assume(False)  # the generator strays outside the schema now and then; not the property under test
        raise


def round_trip(rule: Rule, directory, **dump) -> dict[str, Rule]:
    # Block style, escaped non-ASCII, no line folding: ruamel.yaml 0.19.1's emitter does not
    # round-trip a flow-style item "?0" (written `[?0]`, read back as the mapping {0: None}),
    # with allow_unicode a NEL (U+0085, written raw in single quotes, read back as a space),
    # nor a long double-quoted string folded next to an escape (a space is lost). None of
    # them is the rule loader's doing (it reads what was written).
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_unicode = False
    yaml.default_flow_style = False
    yaml.width = 1_000_000
    buf = io.StringIO()
    yaml.dump({"rules": [rule.model_dump(mode="json", by_alias=True, **dump)]}, buf)
    (directory / "rule.yaml").write_text(buf.getvalue(), encoding="utf-8")
    return load_ruleset(directory).by_id()


@given(rule=rules())
def test_rule_dumped_from_the_model_round_trips_through_the_yaml_loader(rule, tmp_path_factory):
    """As the schema exports a rule (`exclude_defaults`): what a tool writing rules would emit."""
    assert round_trip(rule, tmp_path_factory.mktemp("rules"), exclude_defaults=True) == {rule.id: rule}


def test_full_dump_of_a_rule_with_group_by_round_trips(tmp_path):
    """Found by the property test above with every field dumped: the default
    novelty came out beside group_by, which the loader refuses."""
    rule = Rule.model_validate({"id": "r", "title": "t", "group_by": ["story"],
                                "match": {"entity": {"any": ["person:kim-jong-un"]}}})
    assert round_trip(rule, tmp_path) == {rule.id: rule}


@pytest.mark.parametrize("text", ["", "\x00", "\ufeff", "\u2028\u2029", "\x85", "a\rb", "é" * 10_000])
def test_normalize_edge_cases(text):
    article = normalize(RawArticle(id="e", source="prop", content=text))
    assert article.text == "\n\n".join(article.paragraphs)
