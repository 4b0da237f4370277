"""Follow an alert topic and print each alert.

Uses no consumer group: partitions are assigned by hand, so a tail never
takes messages away from other subscribers and commits nothing.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterable
from typing import TextIO

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from monitor.durations import SEVERITIES
from monitor.kafka_security import PLAINTEXT, ClientOptions
from monitor.log import get_logger
from monitor.models import Alert

log = get_logger(__name__)

_COLOURS = {"critical": "\033[1;31m", "high": "\033[31m", "medium": "\033[33m", "low": "\033[36m", "info": "\033[37m"}
_RESET = "\033[0m"


def format_alert(alert: Alert, colour: bool = False) -> str:
    sev = alert.severity.upper()
    if colour:
        sev = f"{_COLOURS.get(alert.severity, '')}{sev}{_RESET}"
    lines = [
        f"[{sev}] {alert.title}  ({alert.action}, rev {alert.revision})",
        f"  rule {alert.rule_id}  alert {alert.id}  story {alert.story_id or '-'}"
        f"  reports {alert.corroboration}  sources: {', '.join(alert.sources)}",
    ]
    for ref in alert.articles[-3:]:
        lines.append(f"  article {ref.id} {ref.source}: {ref.title or ref.url or ''}")
    for event in alert.events[:3]:
        lines.append(f"  {event.type} ({event.modality}): \"{event.evidence.sentence.strip()[:240]}\"")
    return "\n".join(lines)


async def assign_all(consumer: AIOKafkaConsumer, topic: str, stop: asyncio.Event) -> list[TopicPartition]:
    """Wait for the topic to exist, then take every partition of it."""
    while not stop.is_set():
        partitions = consumer.partitions_for_topic(topic)
        if partitions:
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            consumer.assign(tps)
            return tps
        await consumer._client.force_metadata_update()
        await asyncio.sleep(0.5)
    return []


async def seek_to_time(consumer: AIOKafkaConsumer, tps: list[TopicPartition], ms: int) -> None:
    """Start at the first alert published since `ms`, even if the topic
    only appeared after we started waiting for it."""
    # End offsets first: anything appended after this snapshot is newer than
    # `ms`, so seeking to the snapshot (never to a lazily resolved "end")
    # cannot skip an alert that arrives while we look.
    ends = await consumer.end_offsets(tps)
    found = await consumer.offsets_for_times({tp: ms for tp in tps})
    for tp in tps:
        consumer.seek(tp, ends[tp] if found.get(tp) is None else found[tp].offset)


def alert_filter(rules: Iterable[str] = (), min_severity: str | None = None,
                 entities: Iterable[str] = ()) -> Callable[[Alert], bool]:
    """Which alerts a subscriber wants: any of the rules, at least the severity,
    mentioning any of the entities (each filter applies only when given)."""
    rules, entities = set(rules), set(entities)
    floor = SEVERITIES.index(min_severity) if min_severity else 0

    def wanted(alert: Alert) -> bool:
        return (
            (not rules or alert.rule_id in rules)
            and SEVERITIES.index(alert.severity) >= floor
            and (not entities or any(e.id in entities for e in alert.entities))
        )
    return wanted


async def tail(
    bootstrap: str, topic: str, *, from_beginning: bool = False, as_json: bool = False,
    out: TextIO = sys.stdout, stop: asyncio.Event | None = None, limit: int | None = None,
    since_seconds: float | None = None, wanted: Callable[[Alert], bool] | None = None,
    security: ClientOptions = PLAINTEXT,
) -> int:
    """Print alerts from `topic` until `stop` is set (or `limit` are printed):
    from the beginning, from `since_seconds` ago, or from now. `security`:
    monitor/kafka_security.py's aiokafka_options(settings)."""
    stop = stop or asyncio.Event()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, **security)
    await consumer.start()
    printed = 0
    colour = out.isatty() if hasattr(out, "isatty") else False
    try:
        started_ms = int((time.time() - (since_seconds or 0)) * 1000)
        tps = await assign_all(consumer, topic, stop)
        if tps and from_beginning:
            await consumer.seek_to_beginning(*tps)
        elif tps:
            await seek_to_time(consumer, tps, started_ms)
        while not stop.is_set() and (limit is None or printed < limit):
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    try:
                        alert = Alert.model_validate_json(record.value)
                    except ValidationError:
                        log.warning("tail_unreadable_alert", offset=record.offset)
                        continue
                    if wanted is not None and not wanted(alert):
                        continue
                    if as_json:
                        out.write(record.value.decode("utf-8", "replace") + "\n")
                    else:
                        out.write(format_alert(alert, colour) + "\n\n")
                    out.flush()
                    printed += 1
    finally:
        await consumer.stop()
    return printed
