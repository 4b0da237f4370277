"""Create newsmon's topics up front.

faust only creates the topics it consumes, and only after joining; a send to
a topic that does not exist yet goes through broker auto-creation with the
broker's default partition count. Creating every topic before anything runs
gives them the configured partition count and keeps start-up quiet.

Some topics need more than the broker's defaults (`topic_configs`): the
silences, stories and acks topics must be compacted, or records older than
the retention period would vanish. Such settings only take effect at creation, so an
existing topic that lacks them is reported (`topic_config_differs`), not
silently altered.
"""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from monitor.kafka.backoff import backoff_delays, wait_for_broker
from monitor.kafka.security import aiokafka_options
from monitor.log import get_logger
from monitor.settings import Settings

log = get_logger(__name__)


def topic_names(settings: Settings) -> list[str]:
    t = settings.topics
    return [t.raw, t.prepared, t.articles, t.duplicates, t.alerts, t.deadletter, t.silences, t.stories, t.acks]


def partitions_of(settings: Settings, name: str) -> int:
    """news.prepared has one partition: it is where all articles meet (README, Scaling)."""
    return 1 if name == settings.topics.prepared else settings.partitions


# news.raw takes messages up to this size (the broker default is about 1 MB):
# an oversized article must reach the worker, which dead-letters anything
# above NEWSMON_MAX_RAW_BYTES with the reason, rather than be refused by the
# broker, where a watcher's retry loop would stall on it (README, Reliability).
# The article's way on (news.prepared, news.articles, news.duplicates) takes
# the same: a cleaned and tagged article of 300,000 CJK characters is over
# 1 MB, and faust only logs a refused send, so the article would be lost.
RAW_MAX_MESSAGE_BYTES = 64 * 1024 * 1024


def topic_configs(settings: Settings) -> dict[str, dict[str, str]]:
    """Per-topic settings beyond the broker's defaults."""
    t = settings.topics
    large = {"max.message.bytes": str(RAW_MAX_MESSAGE_BYTES)}
    compact = {"cleanup.policy": "compact"}
    return {
        t.silences: compact, t.stories: compact, t.acks: compact,
        t.raw: large, t.prepared: large, t.articles: large, t.duplicates: large,
    }


async def describe_topic_configs(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, dict[str, str]]:
    """The current settings of existing topics, name -> {config: value}."""
    if not names:
        return {}
    responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in names])
    found: dict[str, dict[str, str]] = {}
    for response in responses:
        for _code, _message, _type, name, entries in response.resources:
            found[name] = {entry[0]: entry[1] for entry in entries}
    return found


async def ensure_topics(settings: Settings, names: list[str] | None = None, attempts: int | None = None) -> None:
    """Create missing topics. While the broker is unreachable, wait with backoff
    (forever by default: a daemon started before its broker just waits)."""
    names = names or topic_names(settings)
    delays = backoff_delays(cap=5.0)
    attempt = 0
    while attempts is None or attempt < attempts:
        attempt += 1
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.resolved_bootstrap(), **aiokafka_options(settings))
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [n for n in names if n not in existing]
            configs = topic_configs(settings)
            if missing:
                try:
                    await admin.create_topics([NewTopic(n, partitions_of(settings, n), 1, topic_configs=configs.get(n, {}))
                                               for n in missing])
                except TopicAlreadyExistsError:
                    pass  # another worker won the race
                log.info("topics_created", topics={n: partitions_of(settings, n) for n in missing})
            await _report_config_differences(admin, [n for n in names if n in existing and n in configs], configs)
            return
        except KafkaError as exc:
            await wait_for_broker(delays, exc, log, attempt=attempt)
        finally:
            await admin.close()
    raise RuntimeError(f"Kafka at {settings.resolved_bootstrap()} did not answer after {attempts} attempts")


async def _report_config_differences(admin: AIOKafkaAdminClient, names: list[str],
                                     wanted: dict[str, dict[str, str]]) -> None:
    for name, actual in (await describe_topic_configs(admin, names)).items():
        differs = {k: v for k, v in wanted.get(name, {}).items() if actual.get(k) != v}
        if differs:
            log.warning("topic_config_differs", topic=name, wanted=differs,
                        actual={k: actual.get(k) for k in differs},
                        fix=f"kafka-configs --alter --entity-type topics --entity-name {name} --add-config "
                            + ",".join(f"{k}={v}" for k, v in differs.items()))
