"""Kafka producers: `Publisher` waits for the broker instead of dropping messages.

Watchers only mark an item done after `publish` returns, which means the
broker acknowledged it (acks=all, idempotent producer), so a crash or a
broker outage never loses an item: it is retried, or redone after restart.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic import BaseModel

from monitor.kafka.backoff import backoff_delays, wait_for_broker
from monitor.kafka.patch import install as install_kafka_backoff
from monitor.kafka.security import PLAINTEXT, ClientOptions
from monitor.log import get_logger

log = get_logger(__name__)


class Publisher:
    def __init__(self, bootstrap_servers: str, client_id: str = "newsmon-watcher", *,
                 security: ClientOptions = PLAINTEXT):
        self.bootstrap_servers = bootstrap_servers
        self.client_id = client_id
        self.security = security  # monitor/kafka/security.py: aiokafka_options(settings)
        self._producer: AIOKafkaProducer | None = None
        self.published = 0

    def _new_producer(self) -> AIOKafkaProducer:
        install_kafka_backoff()  # no busy loop while the broker is down (monitor/kafka/patch.py)
        return AIOKafkaProducer(
            bootstrap_servers=self.bootstrap_servers,
            client_id=self.client_id,
            acks="all",
            enable_idempotence=True,
            # as large as news.raw takes (RAW_MAX_MESSAGE_BYTES in monitor/kafka/admin.py): an inbox
            # file under NEWSMON_MAX_FILE_BYTES must never be refused here, or publish retries forever
            max_request_size=64 * 1024 * 1024,
            max_batch_size=1024 * 1024,  # an inbox burst goes out in a few requests, not one per 16 KB
            request_timeout_ms=30_000,
            **self.security,
        )

    async def start(self) -> None:
        """Connect, retrying with backoff while the broker is unreachable."""
        delays = backoff_delays()
        while self._producer is None:
            producer = self._new_producer()
            try:
                await producer.start()
                self._producer = producer
                log.info("producer_connected", bootstrap=self.bootstrap_servers)
            except KafkaError as exc:
                await producer.stop()
                await wait_for_broker(delays, exc, log)

    async def publish(self, topic: str, key: str, message: BaseModel | bytes) -> None:
        """Send and wait for the broker's acknowledgement, retrying until it comes."""
        value = message if isinstance(message, bytes) else message.model_dump_json().encode()
        delays = backoff_delays()
        while True:
            if self._producer is None:
                await self.start()
            try:
                await self._producer.send_and_wait(topic, value=value, key=key.encode())
                self.published += 1
                return
            except KafkaError as exc:
                delay = next(delays)
                log.warning("publish_retry", topic=topic, key=key, error=str(exc), retry_in=round(delay, 2))
                await asyncio.sleep(delay)

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()  # flushes pending sends
            self._producer = None


async def send_one(bootstrap: str, topic: str, key: str, value: bytes | None, *,
                   security: ClientOptions = PLAINTEXT) -> None:
    """Send one record and wait for the broker's acknowledgement; no retries
    (a command reports an unreachable broker instead of waiting for it)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **security)
    await producer.start()
    try:
        await producer.send_and_wait(topic, key=key.encode(), value=value)
    finally:
        await producer.stop()
