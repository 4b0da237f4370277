"""Shared pytest fixtures.

``kafka_bootstrap`` (session): the address of a real Kafka broker. ``$KAFKA_BOOTSTRAP_SERVERS``
if set (nothing is started then); otherwise one local single-node KRaft broker
(monitor.kafka.local.LocalKafka) on ``$NEWSMON_TEST_KAFKA_PORT`` (default 19092, or a free
port if that one is taken), with a fresh data dir under pytest's tmp dir, started once per
session and stopped at the end (also at interpreter exit, on Ctrl-C and on SIGTERM).

``unique_name``: a function giving unique, Kafka-legal topic / app / group ids per test.
"""

from __future__ import annotations

import atexit
import os
import re
import signal
import uuid
from typing import Callable, Iterator

import pytest

from monitor.kafka.local import LocalKafka, external_bootstrap, pick_port


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = external_bootstrap()
    if external:
        yield external
        return

    port = pick_port(19092, env="NEWSMON_TEST_KAFKA_PORT")
    kafka = LocalKafka(port=port, data_dir=tmp_path_factory.mktemp("kafka-session"))

    def stop() -> None:
        try:
            kafka.down(grace=10)
        except Exception:  # noqa: BLE001 -- best effort at exit
            pass

    atexit.register(stop)
    previous = signal.getsignal(signal.SIGTERM)
    if previous in (signal.SIG_DFL, None):
        def on_sigterm(signum, frame):  # turn SIGTERM into a clean teardown
            raise KeyboardInterrupt(f"signal {signum}")
        signal.signal(signal.SIGTERM, on_sigterm)
    try:
        kafka.up(timeout=180)
        yield kafka.bootstrap
    finally:
        stop()
        atexit.unregister(stop)
        if previous in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.fixture
def own_broker(tmp_path) -> Iterator[LocalKafka]:
    """A broker of the test's own, for tests that stop and restart it."""
    kafka = LocalKafka(port=pick_port(19392), data_dir=tmp_path / "kafka")
    kafka.up(timeout=180)
    yield kafka
    kafka.down(grace=10)


@pytest.fixture
def clean_settings_env(monkeypatch, tmp_path) -> None:
    """Settings built in the test see no NEWSMON_* or KAFKA_BOOTSTRAP_SERVERS of the
    developer's, and no newsmon.yaml (the working directory is the test's own)."""
    for name in list(os.environ):
        if name.startswith("NEWSMON_") or name == "KAFKA_BOOTSTRAP_SERVERS":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


_UNSAFE = re.compile(r"[^a-zA-Z0-9._-]+")


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> Callable[..., str]:
    """``unique_name("topic")`` -> e.g. ``topic-test_roundtrip-3f9a1c2b`` (unique per call)."""
    base = _UNSAFE.sub("-", request.node.name)[:80].strip("-.") or "test"

    def make(prefix: str = "t") -> str:
        return f"{_UNSAFE.sub('-', prefix)}-{base}-{uuid.uuid4().hex[:8]}"

    return make
