"""What a watcher needs of monitor.kafka.producer.Publisher: watchers take
this protocol, so reading files and feeds needs no Kafka (offline scans, tests);
watch/runner.py hands them the real producer."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel


class Publishes(Protocol):
    async def publish(self, topic: str, key: str, message: BaseModel | bytes) -> None: ...
