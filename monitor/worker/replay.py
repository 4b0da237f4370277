"""No alert twice, none lost, across a crash of the worker.

Delivery is at-least-once: after a crash (or a rebalance) the `decide` agent
replays news.prepared from its last committed offset. Its state (faust
tables) and its alerts are separate Kafka writes, so a crash can keep either
without the other:

* the alert landed but the state did not: the replay recounts the report and
  emits the same alert id and revision again (a second `new`);
* the state landed but the alert did not: the replay finds the report
  counted, and the rule engine repeats that group's latest emission
  (RuleEngine._replayed), which is the only one that can be missing, since
  an alert's revisions share one partition and land in order. A resolve
  notice is rebuilt from the closed state (RuleEngine.resolved_since).

So whenever news.prepared is assigned, before any message is handed out,
the worker reads what the alert topics received since the first message it
will replay was produced, and drops any alert whose (topic, id, revision) is
already there, or that it sent itself a little earlier (a rebalance replays
the worker's own uncommitted messages). Articles get the same treatment by
id on news.articles / news.duplicates: without it every start re-sent what
arrived before the first commit (3 copies each) and a crash 6 to 9. Faust's exactly_once would make the
writes one transaction, but has open bugs (README, Delivery guarantees).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable

from aiokafka import TopicPartition

from monitor.kafka.consumer import new_consumer, stop_consumer
from monitor.kafka.history import read_history
from monitor.kafka.security import PLAINTEXT, ClientOptions
from monitor.log import get_logger
from monitor.models import Alert

log = get_logger(__name__)

CLOCK_MARGIN_MS = 5 * 60 * 1000  # producers' clocks may differ by this much
KEEP_OWN_MS = 10 * 60 * 1000  # own sends stay known this long: far more than a commit interval

Sent = tuple[str, str, int]  # topic, alert id, revision


async def replay_start_ms(bootstrap: str, group: str, topic: str, *,
                          security: ClientOptions = PLAINTEXT) -> int | None:
    """When the first message the group will replay on `topic` (one partition)
    was produced: the one at its committed offset, or the earliest if none is
    committed. None if there is nothing to replay."""
    tp = TopicPartition(topic, 0)
    consumer = new_consumer(bootstrap, group_id=group, security=security,
                            # committed offset gone with retention: faust restarts at the earliest too
                            auto_offset_reset="earliest")
    await consumer.start()
    try:
        if topic not in await consumer.topics():
            return None
        committed = await consumer.committed(tp)
        start = committed if committed is not None else (await consumer.beginning_offsets([tp]))[tp]
        if start >= (await consumer.end_offsets([tp]))[tp]:
            return None
        consumer.assign([tp])
        consumer.seek(tp, start)
        batch = await consumer.getmany(tp, timeout_ms=10_000, max_records=1)
        records = batch.get(tp) or []
        return records[0].timestamp if records else 0  # unreadable: assume the worst, read everything
    finally:
        await stop_consumer(consumer)


async def articles_sent_since(bootstrap: str, topics: Iterable[str], since_ms: int, *,
                              security: ClientOptions = PLAINTEXT) -> set[str]:
    """Ids of the articles the output topics received since `since_ms` (the record keys)."""
    ids: set[str] = set()
    for topic in sorted(set(topics)):
        async for record in read_history(bootstrap, topic, since_ms=since_ms, missing_ok=True, security=security):
            if record.key:
                ids.add(record.key.decode("utf-8", "replace"))
    return ids


async def alerts_sent_since(bootstrap: str, topics: Iterable[str], since_ms: int, *,
                            security: ClientOptions = PLAINTEXT) -> set[Sent]:
    """(topic, id, revision) of every alert the topics received since `since_ms`."""
    sent: set[Sent] = set()
    for topic in sorted(set(topics)):
        async for record in read_history(bootstrap, topic, since_ms=since_ms, missing_ok=True, security=security):
            try:
                value = json.loads(record.value or b"")
                sent.add((topic, value["id"], int(value["revision"])))
            except (ValueError, TypeError, KeyError):
                continue  # not an alert: it cannot collide with one
    return sent


def _now_ms() -> int:
    return int(time.time() * 1000)


class ReplayFence:
    """Alerts and articles that may be produced again by a replay but are
    already out: those found on the topics when news.prepared was assigned,
    kept until a message produced after that comes by (the replay is then
    over), and those this worker sent in the last KEEP_OWN_MS."""

    def __init__(self) -> None:
        self._found: set[Sent] = set()
        self._found_articles: set[str] = set()
        self._found_at_ms: int | None = None
        self._own: dict[Sent, int] = {}  # insertion order = send order
        self._own_articles: dict[str, int] = {}
        self._replay_from_ms: int | None = None

    def load(self, found: set[Sent], replay_from_ms: int | None, articles: set[str] | None = None) -> None:
        """`found` on the alert topics and `articles` (ids) on the article
        topics since `replay_from_ms` (None: nothing to replay)."""
        self._found, self._found_articles, self._found_at_ms = found, articles or set(), _now_ms()
        self._replay_from_ms = replay_from_ms
        log.info("replay_fence_loaded", alerts=len(found), articles=len(self._found_articles))

    def take_replay_start(self) -> int | None:
        """Once per take-over: where the alert topics were read from, if a
        replay follows; the worker then re-sends resolve notices the crash may
        have lost (RuleEngine.resolved_since), through this fence."""
        start, self._replay_from_ms = self._replay_from_ms, None
        return start

    def passed(self, produced_ms: int) -> None:
        """Note the production time of the message being handled."""
        if self._found_at_ms is not None and produced_ms > self._found_at_ms + CLOCK_MARGIN_MS:
            self._found, self._found_articles, self._found_at_ms = set(), set(), None

    def already_sent(self, topic: str, alert: Alert) -> bool:
        key = (topic, alert.id, alert.revision)
        if key in self._found or key in self._own:
            log.info("alert_already_sent", topic=topic, alert_id=alert.id, revision=alert.revision)
            return True
        return False

    def sent(self, topic: str, alert: Alert) -> None:
        _remember(self._own, (topic, alert.id, alert.revision))

    def article_already_sent(self, article_id: str) -> bool:
        """On news.articles or news.duplicates already (an article's verdict never changes)."""
        if article_id in self._found_articles or article_id in self._own_articles:
            log.info("article_already_sent", article_id=article_id)
            return True
        return False

    def article_sent(self, article_id: str) -> None:
        _remember(self._own_articles, article_id)


def _remember(own: dict, key: object) -> None:
    """Note `key` as sent now; forget what was sent more than KEEP_OWN_MS ago."""
    now = _now_ms()
    own.pop(key, None)  # re-inserted at the end: insertion order = send order
    own[key] = now
    while own:
        oldest, at = next(iter(own.items()))
        if now - at <= KEEP_OWN_MS:
            break
        del own[oldest]
