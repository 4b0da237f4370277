"""The text view of an alert (`alerts tail`, `newsmon run`): it says when it
shows only some of the reports, and marks titles derived from the text."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.alerts.tail import format_alert
from monitor.models import Alert, ArticleRef, RawArticle
from monitor.pipeline import Pipeline
from monitor.settings import REPO_ROOT


def ref(n: int, derived: bool = False) -> ArticleRef:
    return ArticleRef(id=f"a{n}", source=f"wire-{n}", title=f"Report {n}", title_derived=derived)


def alert(refs: list[ArticleRef], reports: int) -> Alert:
    return Alert(id="x1", rule_id="r1", rule_version="1", severity="high", title="Leaders meet",
                 articles=refs, corroboration=reports)


def test_a_view_of_three_of_four_reports_says_one_more_exists():
    text = format_alert(alert([ref(1), ref(2), ref(3), ref(4)], reports=4))
    assert "reports 4" in text
    assert [line.split()[1] for line in text.splitlines() if line.strip().startswith("article")] == ["a2", "a3", "a4"]
    assert text.splitlines()[-1] == "  … and 1 more"
    assert "more" not in format_alert(alert([ref(1), ref(2)], reports=2))


def test_a_derived_title_is_marked():
    text = format_alert(alert([ref(1, derived=True), ref(2)], reports=2))
    assert "wire-1: Report 1 (from the text)" in text
    assert "wire-2: Report 2\n" in text + "\n"


def test_the_engine_passes_the_mark_on():
    pipeline = Pipeline.from_rules_dir(REPO_ROOT / "rules")
    raw = RawArticle(id="untitled-1", source="inbox", content=(
        "North Korean leader Kim Jong Un crossed into Russia by armoured train early on Thursday, "
        "state media said, for talks with President Vladimir Putin."))
    result = pipeline.process(raw, datetime(2026, 3, 1, tzinfo=UTC))
    assert result.article.title_derived, result.article.title
    assert result.alerts, "a shipped rule fires on a leader's border crossing"
    assert all(a.articles[-1].title_derived for a in result.alerts)
