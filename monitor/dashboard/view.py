"""The dashboard's materialised view: what the topics hold, shaped for pages.

Pure (no Kafka, no web): `topics.py` feeds it records in topic order and the
server asks it questions. It is rebuilt from the topics on every start (the
compacted ones from the beginning, `news.alerts` over a bounded window), so
the dashboard owns no database and shows the same after a restart.

Memory is bounded: the latest `max_alerts` alerts (by last change) and
`max_stories` stories are kept, each alert with its last few revisions, and
the stories together keep at most `max_story_reports` reports (a story record
carries up to 200, about 1.5 KB each in memory: 5,000 large stories would
hold over a gigabyte). The list payload is a small summary; details are read
on demand.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monitor.dashboard.display import aware, clean_text, iso, safe_url
from monitor.dashboard.filters import AlertFilter
from monitor.log import get_logger
from monitor.models import Alert, StoryRecord, StoryReport, utcnow
from monitor.rules.silences import SilenceSet

log = get_logger(__name__)

MAX_REVISIONS = 20
MAX_STORY_REPORTS = 50_000  # over all stories kept: about 75 MB at most


class Ack(BaseModel):
    """An acknowledgement: someone is handling this alert. Value of a
    `news.acks` record (compacted, key = alert id); a tombstone withdraws it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    alert_id: str
    by: str = Field(min_length=1, max_length=120)
    at: datetime
    note: str = Field(default="", max_length=2000)


@dataclass
class Revision:
    revision: int
    action: str
    severity: str
    at: datetime
    corroboration: int
    sources: int
    title: str


@dataclass
class AlertEntry:
    alert: Alert  # the latest revision seen
    revisions: list[Revision] = field(default_factory=list)  # oldest first, capped


@dataclass
class Change:
    """What one applied record changed, for live pages."""

    kind: str  # "alert", "ack", "story", "silence"
    id: str


def _decode(key: bytes | str | None) -> str | None:
    return key.decode("utf-8", "replace") if isinstance(key, bytes) else key


class DashboardState:
    def __init__(self, max_alerts: int = 10_000, max_stories: int = 5_000,
                 clock: Callable[[], datetime] = utcnow, max_story_reports: int = MAX_STORY_REPORTS) -> None:
        self.max_alerts, self.max_stories, self.clock = max_alerts, max_stories, clock
        self.max_story_reports = max_story_reports
        self._story_reports = 0  # reports held by the kept stories
        self.alerts: OrderedDict[str, AlertEntry] = OrderedDict()  # least recently changed first
        self.stories: OrderedDict[str, StoryRecord] = OrderedDict()
        self.acks: OrderedDict[str, Ack] = OrderedDict()
        self.silences = SilenceSet()
        self._by_story: dict[str, set[str]] = {}
        self.unreadable = 0

    # ------------------------------------------------------------ applying records

    def apply_alert(self, alert: Alert) -> Change | None:
        """Upsert by id: a revision older than the one kept is ignored (a replay
        or an out-of-order partition), the same revision again changes nothing."""
        entry = self.alerts.get(alert.id)
        if entry is not None and alert.revision <= entry.alert.revision:
            return None
        if entry is None:
            entry = AlertEntry(alert)
            self.alerts[alert.id] = entry
        entry.alert = alert
        entry.revisions.append(Revision(alert.revision, alert.action, alert.severity, aware(alert.updated_at),
                                        alert.corroboration, len(alert.sources), clean_text(alert.title, 300)))
        del entry.revisions[:-MAX_REVISIONS]
        self.alerts.move_to_end(alert.id)
        if alert.story_id:
            self._by_story.setdefault(alert.story_id, set()).add(alert.id)
        while len(self.alerts) > self.max_alerts:
            _, old = self.alerts.popitem(last=False)
            self._forget_story_link(old.alert)
        return Change("alert", alert.id)

    def _forget_story_link(self, alert: Alert) -> None:
        ids = self._by_story.get(alert.story_id or "")
        if ids is not None:
            ids.discard(alert.id)
            if not ids:
                del self._by_story[alert.story_id]

    def apply_story(self, story: StoryRecord) -> Change:
        self.forget_story(story.id)
        self.stories[story.id] = story  # last, as the most recently changed
        self._story_reports += len(story.reports)
        while len(self.stories) > self.max_stories or (
                self._story_reports > self.max_story_reports and len(self.stories) > 1):
            self.forget_story(next(iter(self.stories)))
        return Change("story", story.id)

    def forget_story(self, story_id: str) -> bool:
        story = self.stories.pop(story_id, None)
        if story is None:
            return False
        self._story_reports -= len(story.reports)
        return True

    def apply_ack(self, alert_id: str, ack: Ack | None) -> Change:
        if ack is None:
            self.acks.pop(alert_id, None)
        else:
            self.acks[alert_id] = ack
            self.acks.move_to_end(alert_id)
            while len(self.acks) > 2 * self.max_alerts:
                self.acks.popitem(last=False)
        return Change("ack", alert_id)

    def apply_record(self, kind: str, key: bytes | str | None, value: bytes | None) -> Change | None:
        """One record of a topic (`kind`: alerts, stories, silences, acks). An
        unreadable record is counted and skipped: it never stops the view."""
        ident = _decode(key)
        try:
            if kind == "alerts":
                return self.apply_alert(Alert.model_validate_json(value or b""))
            if kind == "stories":
                if value is None:  # a tombstone: the story is gone
                    return Change("story", ident) if ident and self.forget_story(ident) else None
                return self.apply_story(StoryRecord.model_validate_json(value))
            if kind == "acks":
                if ident is None:
                    raise ValueError("an acknowledgement without a key")
                return self.apply_ack(ident, None if value is None else Ack.model_validate_json(value))
            if kind == "silences":
                self.silences.apply_record(key, value)
                return Change("silence", ident or "")
        except (ValidationError, ValueError) as exc:
            self.unreadable += 1
            log.warning("dashboard_record_unreadable", topic_kind=kind, key=ident, error=str(exc)[:200])
            return None
        raise ValueError(f"unknown record kind {kind!r}")

    # ------------------------------------------------------------ questions

    def query(self, wanted: AlertFilter, limit: int = 200) -> tuple[list[AlertEntry], int]:
        """Matching alerts, most recently changed first: up to `limit`, and how many match."""
        now = self.clock()
        found: list[AlertEntry] = []
        total = 0
        for entry in reversed(self.alerts.values()):
            if wanted.matches(entry.alert, now):
                total += 1
                if len(found) < limit:
                    found.append(entry)
        return found, total

    def summary(self, entry: AlertEntry) -> dict:
        """The small, display-safe payload of one row of the alert list."""
        a = entry.alert
        ack = self.acks.get(a.id)
        return {
            "id": a.id, "rule_id": clean_text(a.rule_id, 120), "severity": a.severity, "action": a.action,
            "revision": a.revision, "title": clean_text(a.title, 300), "story_id": a.story_id,
            "story_title": clean_text(self.stories[a.story_id].title, 120) if a.story_id in self.stories else None,
            "sources": [clean_text(s, 60) for s in a.sources[:4]], "more_sources": max(0, len(a.sources) - 4),
            "corroboration": a.corroboration, "updated_at": iso(a.updated_at), "created_at": iso(a.created_at),
            "ack": {"by": clean_text(ack.by, 120), "at": iso(ack.at)} if ack else None,
        }

    def alert_detail(self, alert_id: str) -> dict | None:
        entry = self.alerts.get(alert_id)
        if entry is None:
            return None
        a = entry.alert
        return {
            "row": self.summary(entry),
            "summary": clean_text(a.summary, 4000), "group_key": clean_text(a.group_key, 300),
            "rule_version": clean_text(a.rule_version, 40),
            "articles": [_article_link(ref.id, ref.source, ref.title, ref.url, ref.published) for ref in a.articles],
            "entities": [{"id": clean_text(e.id, 120), "name": clean_text(e.name, 120), "type": e.type,
                          "count": e.count} for e in a.entities],
            "events": [{"type": clean_text(e.type, 80), "modality": e.modality, "trigger": clean_text(e.trigger, 80),
                        "evidence": clean_text(e.evidence.sentence.strip(), 600),
                        "reported_by": clean_text(e.reported_by, 120)} for e in a.events],
            "revisions": list(reversed(entry.revisions)),
            "ack": self.acks.get(a.id),
            "silenced_by": self.silences.match(a.rule_id, a.group_key, self.clock()),
        }

    def story_page(self, story_id: str) -> dict | None:
        """First report, the timeline (copies linked to their originals), distinct
        sources, main names and entities, and every alert the story raised with
        its revisions. A story known only from alerts still gets a page."""
        story = self.stories.get(story_id)
        alert_ids = self._by_story.get(story_id, set())
        alerts = sorted((self.alerts[i] for i in alert_ids if i in self.alerts),
                        key=lambda e: aware(e.alert.created_at))
        if story is None and not alerts:
            return None
        alert_rows = [{"row": self.summary(e), "revisions": list(reversed(e.revisions))} for e in alerts]
        if story is None:
            refs = {ref.id: ref for e in alerts for ref in e.alert.articles}
            return {"id": story_id, "known": False, "title": clean_text(alerts[-1].alert.title, 300),
                    "alerts": alert_rows, "timeline": [], "sources": sorted({s for e in alerts for s in e.alert.sources}),
                    "articles": [_article_link(r.id, r.source, r.title, r.url, r.published) for r in refs.values()]}
        timeline_ids = {r.article_id for r in story.reports}
        timeline = [_report_row(r, timeline_ids) for r in story.reports]
        return {
            "id": story.id, "known": True, "title": clean_text(story.title, 300), "status": story.status,
            "first_report": _report_row(story.first_report, timeline_ids),
            "latest_report": _report_row(story.latest_report, timeline_ids),
            "timeline": timeline, "report_count": story.report_count,
            "shown_reports": len(story.reports),
            "copies": sum(1 for r in story.reports if r.duplicate_of),
            "sources": [clean_text(s, 80) for s in story.sources],
            "names": [clean_text(n, 120) for n in story.names],
            "entities": [clean_text(e, 120) for e in story.entities],
            "event_types": [clean_text(t, 80) for t in story.event_types],
            "first_seen": aware(story.first_seen), "updated": aware(story.updated),
            "alerts": alert_rows,
        }

    def recent_stories(self, limit: int = 100) -> list[StoryRecord]:
        return list(reversed(self.stories.values()))[:limit]

    def rule_ids(self) -> list[str]:
        return sorted({e.alert.rule_id for e in self.alerts.values()})

    def facets(self) -> dict[str, list[str]]:
        """Values seen, to offer in the filter form."""
        sources, events = set(), set()
        for entry in self.alerts.values():
            sources.update(entry.alert.sources)
            events.update(e.type for e in entry.alert.events)
        return {"rule": self.rule_ids(), "source": sorted(sources)[:300], "event": sorted(events)[:300]}

    def entries(self) -> Iterator[AlertEntry]:
        return iter(self.alerts.values())


def _article_link(article_id: str, source: str, title: str | None, url: str | None,
                  published: datetime | None) -> dict:
    return {"id": article_id, "source": clean_text(source, 80), "title": clean_text(title, 300) or article_id,
            "url": safe_url(url), "published": aware(published) if published else None}


def _report_row(report: StoryReport, timeline_ids: set[str]) -> dict:
    original = report.duplicate_of
    return {
        "article_id": report.article_id, "source": clean_text(report.source, 80),
        "title": clean_text(report.title, 300) or report.article_id, "url": safe_url(report.url),
        "published": aware(report.published) if report.published else None, "seen_at": aware(report.seen_at),
        "modality": report.modality, "event_types": [clean_text(t, 80) for t in report.event_types],
        "evidence": clean_text(report.evidence, 600), "duplicate_of": original,
        "original_in_timeline": bool(original and original in timeline_ids),
    }
