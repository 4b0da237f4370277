"""Create newsmon's topics up front.

faust only creates the topics it consumes, and only after joining; a send to
a topic that does not exist yet goes through broker auto-creation with the
broker's default partition count. Creating every topic before anything runs
gives them the configured partition count and keeps start-up quiet.
"""

from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from monitor.config import Settings
from monitor.log import get_logger
from monitor.watch.publish import backoff_delays

log = get_logger(__name__)


def topic_names(settings: Settings) -> list[str]:
    t = settings.topics
    return [t.raw, t.articles, t.duplicates, t.alerts, t.deadletter]


async def ensure_topics(settings: Settings, names: list[str] | None = None, attempts: int | None = None) -> None:
    """Create missing topics. While the broker is unreachable, wait with backoff
    (forever by default: a daemon started before its broker just waits)."""
    names = names or topic_names(settings)
    delays = backoff_delays(cap=5.0)
    attempt = 0
    while attempts is None or attempt < attempts:
        attempt += 1
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.resolved_bootstrap())
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [n for n in names if n not in existing]
            if missing:
                try:
                    await admin.create_topics([NewTopic(n, settings.partitions, 1) for n in missing])
                except TopicAlreadyExistsError:
                    pass  # another worker won the race
                log.info("topics_created", topics=missing, partitions=settings.partitions)
            return
        except KafkaError as exc:
            delay = next(delays)
            log.warning("broker_unreachable", error=str(exc), attempt=attempt, retry_in=round(delay, 2))
            await asyncio.sleep(delay)
        finally:
            await admin.close()
    raise RuntimeError(f"Kafka at {settings.resolved_bootstrap()} did not answer after {attempts} attempts")
