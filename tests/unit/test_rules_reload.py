"""Hot reload through `Pipeline.reload`: unchanged rules keep their alert
state and their resolution schedule, and silences stay in force."""

from __future__ import annotations

import shutil
from datetime import timedelta

from monitor.settings import REPO_ROOT
from monitor.models import RawArticle
from monitor.pipeline import Pipeline
from monitor.state import JsonStore, StateStores
from tests.unit.test_rules_engine import T0
from tests.unit.test_rules_silences_hook import Mute, Silences

RULES = """\
rules:
  - id: kim-travel
    title: Kim Jong Un travels
    severity: high
    match: {entity: {any: [person:kim-jong-un]}}
    resolve_after: 48h
  - id: putin-mentioned
    title: Putin mentioned
    severity: low
    match: {entity: {any: [person:vladimir-putin]}}
    resolve_after: 48h
"""
TEXT = "SEOUL, May 3 (Wire) -- North Korean leader Kim Jong Un met Vladimir Putin, officials said."


def rules_dir(tmp_path, text: str):
    rules = tmp_path / "rules"
    if not rules.exists():
        shutil.copytree(REPO_ROOT / "rules" / "watchlists", rules / "watchlists")
    (rules / "pack.yaml").write_text(text, encoding="utf-8")
    return rules


def raw(aid: str, text: str = TEXT) -> RawArticle:
    return RawArticle(id=aid, source="wire", content=text)


def test_reload_keeps_state_of_unchanged_rules_and_the_silences(tmp_path):
    stores = StateStores(**{name: JsonStore() for name in ("dedup_exact", "dedup_docs", "stories", "rules")})
    pipeline = Pipeline.from_rules_dir(rules_dir(tmp_path, RULES), stores)
    pipeline.engine.silences = Silences(Mute("putin-mentioned", T0 + timedelta(days=30)))
    first = pipeline.process(raw("a1"), T0)
    assert [(a.rule_id, a.action) for a in first.alerts] == [("kim-travel", "new")]

    edited = RULES.replace("title: Putin mentioned", "title: Putin named")
    diff = pipeline.reload(rules_dir(tmp_path, edited))
    assert diff == {"added": [], "removed": [], "changed": ["putin-mentioned"]}
    assert isinstance(pipeline.engine.silences, Silences) and pipeline.engine.silenced == {"putin-mentioned": 1}

    second = pipeline.process(raw("a2", TEXT.replace("met", "later met")), T0 + timedelta(hours=1))
    assert [(a.rule_id, a.action, a.revision) for a in second.alerts] == [("kim-travel", "update", 2)]
    assert pipeline.engine.silenced == {"putin-mentioned": 2}  # still muted after the reload

    resolved = pipeline.sweep(T0 + timedelta(hours=49))
    assert [(a.rule_id, a.action, a.revision) for a in resolved] == [("kim-travel", "resolved", 3)]
    assert pipeline.sweep(T0 + timedelta(hours=49)) == []
    assert pipeline.engine.silenced == {"putin-mentioned": 3}  # its resolution was muted too
