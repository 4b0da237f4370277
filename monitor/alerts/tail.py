"""Follow an alert topic and print each alert.

Uses no consumer group: partitions are assigned by hand, so a tail never
takes messages away from other subscribers and commits nothing.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable
from typing import TextIO

from aiokafka.errors import KafkaConnectionError
from pydantic import ValidationError

from monitor.kafka.consumer import assign_all, new_consumer, seek_to_time, stop_consumer
from monitor.kafka.security import PLAINTEXT, ClientOptions
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
        (f"  rule {alert.rule_id}  alert {alert.id}  story {alert.story_id or '-'}"
         f"  reports {alert.corroboration}  sources: {', '.join(alert.sources)}"),
    ]
    shown = alert.articles[-3:]
    for ref in shown:
        title = f"{ref.title} (from the text)" if ref.title and ref.title_derived else ref.title
        lines.append(f"  article {ref.id} {ref.source}: {title or ref.url or ''}")
    more = max(alert.corroboration, len(alert.articles)) - len(shown)
    if shown and more > 0:
        lines.append(f"  … and {more} more")
    for event in alert.events[:3]:
        lines.append(f"  {event.type} ({event.modality}): \"{event.evidence.sentence.strip()[:240]}\"")
    return "\n".join(lines)


async def tail(
    bootstrap: str, topic: str, *, from_beginning: bool = False, as_json: bool = False,
    out: TextIO = sys.stdout, stop: asyncio.Event | None = None, limit: int | None = None,
    since_seconds: float | None = None, wanted: Callable[[Alert], bool] | None = None,
    security: ClientOptions = PLAINTEXT, wait_seconds: float | None = None,
    waiting: Callable[[], None] | None = None,
) -> int:
    """Print alerts from `topic` until `stop` is set (or exactly `limit` are
    printed): from the beginning, from `since_seconds` ago, or from now.
    `security`: monitor/kafka/security.py's aiokafka_options(settings).
    A broker that does not answer yet is waited for (`waiting()` called
    once), for `wait_seconds` at most (None: until `stop`)."""
    stop = stop or asyncio.Event()
    quiet_kafka_client_logs()
    consumer = await start_when_reachable(bootstrap, security, stop, wait_seconds, waiting or (lambda: None))
    if consumer is None:
        return 0
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
                    if limit is not None and printed >= limit:
                        return printed  # exact: the rest of the batch stays unprinted
    finally:
        await stop_consumer(consumer)
    return printed


class BrokerUnreachable(ConnectionError):
    """No broker answered within the wait allowed."""


def quiet_kafka_client_logs() -> None:
    """aiokafka logs every failed reconnect (about 40 lines a second while the
    broker is down); a tail has nothing to say about that but one line."""
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


async def start_when_reachable(bootstrap: str, security: ClientOptions, stop: asyncio.Event,
                               wait_seconds: float | None, waiting: Callable[[], None]):
    """A started consumer, once the broker answers; `waiting()` is called once
    if it does not at first. None if `stop` is set first; BrokerUnreachable
    after `wait_seconds` (None: wait for ever)."""
    deadline = None if wait_seconds is None else time.monotonic() + wait_seconds
    told = False
    while not stop.is_set():
        consumer = new_consumer(bootstrap, security=security)
        try:
            await consumer.start()
            return consumer
        except KafkaConnectionError:
            await stop_consumer(consumer)
        if not told:
            waiting()
            told = True
        if deadline is not None and time.monotonic() >= deadline:
            raise BrokerUnreachable(f"no Kafka broker answered at {bootstrap} within {wait_seconds:g} s")
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except TimeoutError:
            pass
    return None
