"""The story as subscribers see it, built from the story state by pure functions.

``story_record(profile, reports, first_report=..., title=...)`` (or
``profile_record`` over the stored report buckets) is all the faust layer
needs to publish a ``StoryRecord`` on the compacted ``news.stories`` topic:
it reads nothing else and changes nothing, so a record can be rebuilt from
the tables at any time and is the same on every worker.

A report is stored as a list in ``REPORT_FIELDS`` order, trailing empty
fields left out: a story keeps every report, so field names repeated in
each would be a fifth of its JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from monitor.enrich.normalize import lead_title
from monitor.models import Article, StoryRecord, StoryReport
from monitor.stories.features import main_event, timestamp
from monitor.stories.profile import KEY_SEP, ranked_keys, split_labels

EVIDENCE_CHARS = 300
MAIN_NAMES = 10
REPORT_BUCKET = 25  # reports per story_reports entry ("sid/n")


def outlet(article: Article) -> str:
    """The source a report counts for: the agency named in its dateline if
    any (a wire story on a feed counts for the wire), as alert groups count it."""
    return article.agency or article.source


REPORT_FIELDS = ("article_id", "source", "seen_at", "title", "url", "published", "modality", "event_types",
                 "evidence", "duplicate_of")


def report_state(article: Article, seen: float) -> list[Any]:
    """One report as JSON-plain state: ``REPORT_FIELDS`` in order, times as
    epoch seconds (to the millisecond), trailing Nones left out."""
    ev = main_event(article)
    published = timestamp(article.published)
    state = [article.id, outlet(article), round(seen, 3), article.title, article.url,
             None if published is None else round(published, 3), ev.modality if ev else None,
             sorted({e.type for e in article.events}) or None,
             ev.evidence.sentence[:EVIDENCE_CHARS] if ev else None, article.duplicate_of]
    end = len(state)
    while state[end - 1] is None:
        end -= 1
    return state[:end]  # a list of its own size


def report_fields(state: list[Any] | dict[str, Any]) -> dict[str, Any]:
    """A stored report as a dict of its set fields (a dict is a report stored before lists)."""
    if isinstance(state, dict):
        return state
    return {k: v for k, v in zip(REPORT_FIELDS, state, strict=False) if v is not None}


def report_article(state: list[Any] | dict[str, Any]) -> str:
    return state["article_id"] if isinstance(state, dict) else state[0]


def story_title(article: Article) -> str:
    """The title of the story's first report: its headline, or the lead
    sentence that normalize derives when the source gave none."""
    return article.title or lead_title(article.text)


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def story_report(state: list[Any] | dict[str, Any]) -> StoryReport:
    data = dict(state) if isinstance(state, dict) else report_fields(state)
    data["seen_at"] = _dt(data["seen_at"])
    if data.get("published") is not None:
        data["published"] = _dt(data["published"])
    return StoryReport.model_validate(data)


def story_record(profile: dict[str, Any], reports: list[Any], status: str = "active", *,
                 first_report: list[Any] | dict[str, Any] | None = None, title: str | None = None) -> StoryRecord:
    """A ``StoryRecord`` from a story profile, its latest reports (oldest
    first), its first report and its title (the profile's own when it holds
    them: one that does not repeat its reports takes them as arguments)."""
    ranked = ranked_keys(profile.get("keys", {}), KEY_SEP)
    if "names" in profile:
        names = split_labels(profile["names"])
    else:  # a profile written before packing: labels by key
        labels = profile.get("labels", {})
        names = [labels[k] for k in ranked if k in labels]
    entities = [k[2:] for k in ranked if k.startswith("e:")]
    first = first_report if first_report is not None else profile["first_report"]
    latest = reports[-1] if reports else first
    return StoryRecord(
        id=profile["id"], title=title or profile.get("title") or "", status=status,  # type: ignore[arg-type]
        first_report=story_report(first), latest_report=story_report(latest),
        reports=[story_report(r) for r in reports], report_count=profile["article_count"],
        sources=list(profile.get("sources", [])), names=list(dict.fromkeys(names))[:MAIN_NAMES],
        entities=entities[:MAIN_NAMES], event_types=sorted(profile.get("events", {})),
        first_seen=_dt(profile["first_seen"]), updated=_dt(profile["updated"]),
    )


def latest_reports(profile: dict[str, Any], reports: Mapping[str, Any], cap: int) -> list[Any]:
    """The story's last ``cap`` reports, oldest first, from its buckets in ``reports``."""
    count = profile["article_count"]
    first = max(0, count - cap)
    out: list[Any] = []
    for b in range(first // REPORT_BUCKET, (count - 1) // REPORT_BUCKET + 1):
        out.extend(reports.get(f"{profile['id']}/{b}") or [])
    return out[-cap:] if count else []


def _report_at(profile: dict[str, Any], reports: Mapping[str, Any], i: int, latest: list[Any]) -> Any:
    """Report number ``i`` of a story (``latest``: its latest reports, read already)."""
    offset = i - (profile["article_count"] - len(latest))
    if 0 <= offset < len(latest):
        return latest[offset]
    bucket = reports.get(f"{profile['id']}/{i // REPORT_BUCKET}") or []
    return bucket[i % REPORT_BUCKET] if i % REPORT_BUCKET < len(bucket) else (latest or [None])[0]


def profile_record(profile: dict[str, Any], reports: Mapping[str, Any], cap: int,
                   status: str = "active") -> StoryRecord:
    """The ``StoryRecord`` of a stored story profile, its reports read from ``reports``."""
    latest = latest_reports(profile, reports, cap)
    if "first_report" in profile:  # written before packing: holds it all
        return story_record(profile, latest, status)
    first = _report_at(profile, reports, profile.get("first", 0), latest)
    title = profile.get("title") or report_fields(_report_at(profile, reports, 0, latest)).get("title")
    return story_record(profile, latest, status, first_report=first, title=title)
