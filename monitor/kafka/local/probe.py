"""Is the broker answering? A real metadata request (aiokafka), run from sync code."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from typing import Any


def _run_coro_sync(coro_factory, timeout: float) -> Any:
    """Run ``coro_factory()`` to completion from sync code, even inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_factory())
    box: dict[str, Any] = {}

    def runner() -> None:
        try:
            box["value"] = asyncio.run(coro_factory())
        except BaseException as exc:  # noqa: BLE001 -- re-raised in the caller's thread
            box["error"] = exc

    t = threading.Thread(target=runner, name="kafka-local-probe", daemon=True)
    t.start()
    t.join(timeout + 5)
    if "error" in box:
        raise box["error"]
    return box.get("value")


async def _metadata_probe(bootstrap: str, timeout: float, options: dict[str, Any] | None = None) -> bool:
    """A real Kafka Metadata request; True when the cluster lists at least one broker.
    ``options``: TLS / SASL client options (monitor/kafka/security.py) for a secured cluster."""
    from aiokafka.client import AIOKafkaClient

    request_ms = max(1000, int(timeout * 1000))
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=request_ms, **(options or {}))
    try:
        await asyncio.wait_for(client.bootstrap(), timeout)
        return len(client.cluster.brokers()) > 0
    except Exception:  # noqa: BLE001 -- any failure means "not answering (yet)"
        return False
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.close(), 5)


async def _warm_group_coordinator(bootstrap: str, timeout: float) -> bool:
    """Ask for a group coordinator until one is found (best effort).

    The first FindCoordinator request makes the broker create ``__consumer_offsets``;
    until that is done, clients see GroupCoordinatorNotAvailable. Doing it here means
    the first consumer group / faust worker does not have to wait and retry."""
    from aiokafka.client import AIOKafkaClient

    deadline = time.monotonic() + timeout
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await asyncio.wait_for(client.bootstrap(), max(1.0, timeout))
        while True:
            try:
                await asyncio.wait_for(client.coordinator_lookup(0, "newsmon-kafka-local-warmup"), 5)
                return True
            except Exception:  # noqa: BLE001 -- not available yet
                if time.monotonic() >= deadline:
                    return False
                await asyncio.sleep(0.2)
    except Exception:  # noqa: BLE001
        return False
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.close(), 5)


def probe_metadata(bootstrap: str, timeout: float = 5.0, options: dict[str, Any] | None = None) -> bool:
    """Sync wrapper of the metadata probe (usable inside or outside an event loop)."""
    try:
        return bool(_run_coro_sync(lambda: _metadata_probe(bootstrap, timeout, options), timeout))
    except Exception:  # noqa: BLE001
        return False
