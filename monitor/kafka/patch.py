"""aiokafka: back off after a failed metadata update (a busy loop while the broker is down).

With the broker down, a connection attempt fails at once (ECONNREFUSED). In
aiokafka 0.14 the producer's sender routine (and the consumer's fetcher) ask
for a new metadata update as soon as the previous one has failed, with no
backoff in between (`Sender._sender_routine`: "try to update cluster metadata
and wait backoff time" waits only for the update itself). Measured on a worker
whose broker was stopped mid-stream: 100 % of a core, and about 3,000 log lines
a second ("Unable connect to node with id 1: [Errno 111] Connect call failed",
"Unable to update metadata from [1]"), 242,000 lines in 80 s, for as long as
the outage lasts. The worker did recover once the broker was back.

`install()` wraps `AIOKafkaClient._metadata_update` so that a failed update
returns only after a capped exponential backoff (the client's
`retry_backoff_ms`, doubling per consecutive failure, at most
`MAX_BACKOFF` seconds). Every caller awaits the same update future, so all of
them slow down together; a successful update is never delayed. Installed by
the worker (monitor/worker/app.py) and the watchers' producer
(monitor/kafka/producer.py); idempotent. tests/reliability/test_broker_restart_worker.py
checks the log rate during an outage.
"""

from __future__ import annotations

import asyncio
import functools

MAX_BACKOFF = 2.0  # seconds; the delay before the worker notices the broker is back


def install() -> None:
    from aiokafka.client import AIOKafkaClient

    original = AIOKafkaClient._metadata_update
    if getattr(original, "_newsmon_backoff", False):
        return

    @functools.wraps(original)
    async def _metadata_update(self, cluster_metadata, topics):
        ok = await original(self, cluster_metadata, topics)
        failures = getattr(self, "_newsmon_md_failures", 0)
        if ok:
            self._newsmon_md_failures = 0
        else:
            self._newsmon_md_failures = failures + 1
            await asyncio.sleep(min(MAX_BACKOFF, self._retry_backoff * 2 ** min(failures, 16)))
        return ok

    _metadata_update._newsmon_backoff = True  # type: ignore[attr-defined]
    AIOKafkaClient._metadata_update = _metadata_update
