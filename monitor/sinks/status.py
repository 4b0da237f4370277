"""Where each sink stands: its consumer group's state and lag (monitor/kafka/groups.py).

Sinks export no metrics of their own; their consumer group already says what
an operator needs, also for a sink running in another process or container
(`newsmon sink status --check` is the compose health check).
"""

from __future__ import annotations

from monitor.kafka.groups import GroupStatus, group_statuses
from monitor.kafka.security import aiokafka_options
from monitor.settings import Settings
from monitor.sinks.runner import group_id


async def sink_statuses(settings: Settings, names: list[str], topic: str | None = None) -> list[GroupStatus]:
    """Status of each named sink; a sink not in the settings reads `topic` (default news.alerts)."""
    configured = {s.name: s for s in settings.sinks}
    wanted = []
    for name in names:
        sink_topic = configured[name].topic if name in configured else topic
        wanted.append((name, group_id(settings, name), sink_topic or settings.topics.alerts))
    return await group_statuses(settings.resolved_bootstrap(), wanted, security=aiokafka_options(settings))
