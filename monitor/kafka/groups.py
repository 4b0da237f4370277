"""Consumer groups from the broker's point of view: is a group alive (members),
and how many records of its topic has it not committed yet (lag)? Used by
`newsmon sink status` (monitor/sinks/status.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from monitor.kafka.consumer import new_consumer
from monitor.kafka.security import PLAINTEXT, ClientOptions


@dataclass
class GroupStatus:
    name: str  # who the group belongs to, e.g. a sink's name
    group_id: str
    topic: str
    state: str = "unknown"
    members: int = 0
    lag: dict[int, int | None] = field(default_factory=dict)  # partition -> lag, None = nothing committed yet

    @property
    def alive(self) -> bool:
        return self.members > 0

    def line(self) -> str:
        lag = ", ".join(f"p{p} {'-' if n is None else n}" for p, n in sorted(self.lag.items())) or "-"
        total = sum(n for n in self.lag.values() if n is not None)
        return (f"{self.name}  group {self.group_id}  {self.state}, {self.members} member(s)  "
                f"topic {self.topic}  lag {total} ({lag})")


async def group_statuses(bootstrap: str, wanted: list[tuple[str, str, str]], *,
                         security: ClientOptions = PLAINTEXT) -> list[GroupStatus]:
    """Status of each (name, group id, topic)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security)
    consumer = new_consumer(bootstrap, security=security)
    await admin.start()
    await consumer.start()
    try:
        statuses = [GroupStatus(name, group, topic) for name, group, topic in wanted]
        for response in await admin.describe_consumer_groups([s.group_id for s in statuses]):
            for group in response.groups:  # (error, group_id, state, protocol_type, protocol, members)
                for status in statuses:
                    if group[1] == status.group_id:
                        status.state, status.members = group[2] or "Empty", len(group[5])
        for status in statuses:
            partitions = sorted(consumer.partitions_for_topic(status.topic) or [])
            if not partitions:
                await consumer._client.force_metadata_update()
                partitions = sorted(consumer.partitions_for_topic(status.topic) or [])
            tps = [TopicPartition(status.topic, p) for p in partitions]
            if not tps:
                continue
            ends = await consumer.end_offsets(tps)
            committed = await admin.list_consumer_group_offsets(status.group_id, partitions=tps)
            for tp in tps:
                done = committed.get(tp)
                status.lag[tp.partition] = ends[tp] - done.offset if done is not None and done.offset >= 0 else None
        return statuses
    finally:
        await consumer.stop()
        await admin.close()
