"""The story as subscribers see it, built from the story state by pure functions.

``story_record(profile, reports)`` is all the faust layer needs to publish a
``StoryRecord`` on the compacted ``news.stories`` topic: it reads nothing
else and changes nothing, so a record can be rebuilt from the tables at any
time and is the same on every worker.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from monitor.enrich.normalize import lead_title
from monitor.models import Article, StoryRecord, StoryReport
from monitor.stories.features import main_event, timestamp

EVIDENCE_CHARS = 300
MAIN_NAMES = 10


def outlet(article: Article) -> str:
    """The source a report counts for: the agency named in its dateline if
    any (a wire story on a feed counts for the wire), as alert groups count it."""
    return article.agency or article.source


def report_state(article: Article, seen: float) -> dict[str, Any]:
    """One report as JSON-plain state (times as epoch seconds, Nones left out)."""
    ev = main_event(article)
    state: dict[str, Any] = {"article_id": article.id, "source": outlet(article), "seen_at": round(seen, 3)}
    optional = {
        "title": article.title, "url": article.url, "published": timestamp(article.published),
        "modality": ev.modality if ev else None,
        "event_types": sorted({e.type for e in article.events}) or None,
        "evidence": ev.evidence.sentence[:EVIDENCE_CHARS] if ev else None,
        "duplicate_of": article.duplicate_of,
    }
    state.update({k: v for k, v in optional.items() if v is not None})
    return state


def story_title(article: Article) -> str:
    """The title of the story's first report: its headline, or the lead
    sentence that normalize derives when the source gave none."""
    return article.title or lead_title(article.text)


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def story_report(state: dict[str, Any]) -> StoryReport:
    data = dict(state)
    data["seen_at"] = _dt(data["seen_at"])
    if data.get("published") is not None:
        data["published"] = _dt(data["published"])
    return StoryReport.model_validate(data)


def story_record(profile: dict[str, Any], reports: list[dict[str, Any]], status: str = "active") -> StoryRecord:
    """A ``StoryRecord`` from a story profile and its latest reports (oldest first)."""
    keys = profile.get("keys", {})
    labels = profile.get("labels", {})
    ranked = sorted(keys, key=lambda k: (-keys[k], k))
    names = [labels[k] for k in ranked if k in labels]
    entities = [k[2:] for k in ranked if k.startswith("e:")]
    latest = reports[-1] if reports else profile["first_report"]
    return StoryRecord(
        id=profile["id"], title=profile.get("title") or "", status=status,  # type: ignore[arg-type]
        first_report=story_report(profile["first_report"]), latest_report=story_report(latest),
        reports=[story_report(r) for r in reports], report_count=profile["article_count"],
        sources=list(profile.get("sources", [])), names=list(dict.fromkeys(names))[:MAIN_NAMES],
        entities=entities[:MAIN_NAMES], event_types=list(profile.get("event_types", [])),
        first_seen=_dt(profile["first_seen"]), updated=_dt(profile["updated"]),
    )
