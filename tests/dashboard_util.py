"""Alert and story records as the worker and the stories stage write them, for
the dashboard's tests (the view is built from exactly these JSON values)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from monitor.models import (
    Alert,
    ArticleRef,
    EntityTag,
    EventTag,
    Evidence,
    StoryRecord,
    StoryReport,
)

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)

HOSTILE_TITLE = "<script>alert(1)</script><img src=x onerror=alert(2)> Kim \u202eexe.txt\u200b crosses"


def event(type_: str = "border_crossing", modality: str = "asserted",
          sentence: str = "Kim Jong Un crossed the border on Tuesday.") -> EventTag:
    return EventTag(type=type_, modality=modality, trigger="crossed",
                    evidence=Evidence(sentence=sentence, start=0, end=len(sentence), paragraph=0))


def alert(id_: str = "a1", *, rule: str = "kim-crossing", severity: str = "high", action: str = "new",
          revision: int = 1, title: str = "Kim Jong Un crossed a border", story: str | None = "s1",
          at: datetime = T0, sources: tuple[str, ...] = ("Reuters",), entities: tuple[str, ...] = ("person:kim-jong-un",),
          events: tuple[EventTag, ...] | None = None, url: str | None = "https://example.org/a",
          group_key: str | None = None) -> Alert:
    return Alert(
        id=id_, rule_id=rule, rule_version="abc", severity=severity, action=action, revision=revision, title=title,
        group_key=group_key if group_key is not None else (story or ""), story_id=story,
        articles=[ArticleRef(id=f"art-{id_}-{revision}", url=url, source=sources[0], title=title, published=at)],
        entities=[EntityTag(id=e, type="person", name=e.split(":")[-1].replace("-", " ").title()) for e in entities],
        events=list(events if events is not None else [event()]), corroboration=revision,
        sources=list(sources), created_at=at - timedelta(minutes=5 * (revision - 1)), updated_at=at,
    )


def report(article_id: str, source: str, at: datetime, *, duplicate_of: str | None = None,
           url: str | None = None, evidence: str = "Kim Jong Un crossed the border.",
           modality: str = "asserted", title: str | None = None) -> StoryReport:
    return StoryReport(article_id=article_id, source=source, title=title or f"Report {article_id}",
                       url=url if url is not None else f"https://{source.lower()}.example/{article_id}",
                       published=at, seen_at=at, modality=modality, event_types=["border_crossing"],
                       evidence=evidence, duplicate_of=duplicate_of)


def story(id_: str = "s1", reports: list[StoryReport] | None = None, *, title: str = "Kim Jong Un crosses into Russia",
          status: str = "active") -> StoryRecord:
    reports = reports or [report("r1", "Reuters", T0), report("r2", "AP", T0 + timedelta(minutes=10)),
                          report("r3", "Yonhap", T0 + timedelta(minutes=20), duplicate_of="r1")]
    return StoryRecord(id=id_, title=title, status=status, first_report=reports[0], latest_report=reports[-1],
                       reports=reports, report_count=len(reports),
                       sources=list(dict.fromkeys(r.source for r in reports)),
                       names=["Kim Jong Un", "Vladimir Putin"], entities=["person:kim-jong-un"],
                       event_types=["border_crossing"], first_seen=reports[0].seen_at, updated=reports[-1].seen_at)


def record(model) -> bytes:
    return model.model_dump_json().encode()


async def create_topics(bootstrap: str, names: list[str]) -> None:
    """Topics made up front, compacted as news.stories is (alerts read the same either way)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, 1, 1, topic_configs={"cleanup.policy": "compact"}) for n in names])
    finally:
        await admin.close()


async def publish(bootstrap: str, topic: str, key: str, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, key=key.encode(), value=value)
    finally:
        await producer.stop()
