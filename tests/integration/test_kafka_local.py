"""The local Kafka broker manager (monitor.kafka.local) against a real JVM broker.

Most tests use their OWN LocalKafka (another port, own tmp data dir), not the session broker.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from monitor.kafka.local import processes as kafka_local
from monitor.kafka.local import LocalKafka, LocalKafkaError, bootstrap_servers, pick_port

pytestmark = pytest.mark.kafka


def _gone(pid: int) -> bool:
    """The pid no longer exists (or is at most an unreaped zombie that is not ours)."""
    return not kafka_local._pid_alive(pid)


def _our_jvms(data_dir: Path) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            args = kafka_local._cmdline(int(entry.name))
            if "kafka.Kafka" in args and any(str(data_dir) in a for a in args):
                if kafka_local._pid_alive(int(entry.name)):
                    out.append(int(entry.name))
    return out


@pytest.fixture(scope="module")
def own_kafka(tmp_path_factory: pytest.TempPathFactory):
    port = pick_port(19192, env="NEWSMON_TEST_KAFKA_PORT2")
    kafka = LocalKafka(port=port, data_dir=tmp_path_factory.mktemp("kafka-own"))
    try:
        yield kafka
    finally:
        kafka.down(grace=10)
        assert _our_jvms(kafka.data_dir) == []


async def _produce(bootstrap: str, topic: str, *values: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for v in values:
            await producer.send_and_wait(topic, v)
    finally:
        await producer.stop()


async def _consume(bootstrap: str, topic: str, n: int, timeout: float = 30.0) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
    )
    await consumer.start()
    got: list[bytes] = []
    try:
        deadline = time.monotonic() + timeout
        while len(got) < n and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for msgs in batch.values():
                got.extend(m.value for m in msgs)
    finally:
        await consumer.stop()
    return got


def test_up_is_idempotent_and_status_is_truthful(own_kafka: LocalKafka) -> None:
    first = own_kafka.up(timeout=180)
    assert first.running and first.answering
    assert first.bootstrap == f"127.0.0.1:{own_kafka.port}"
    assert first.pid and own_kafka.pid_file.read_text().strip() == str(first.pid)

    t0 = time.monotonic()
    second = own_kafka.up(timeout=180)
    assert second.pid == first.pid
    assert time.monotonic() - t0 < 15  # no new JVM was started

    st = own_kafka.status()
    assert st.running and st.answering and st.pid == first.pid
    assert st.data_dir == str(own_kafka.data_dir)
    props = own_kafka.props_file.read_text()
    assert f"controller.quorum.voters=1@127.0.0.1:{own_kafka.port + 1}" in props
    assert "offsets.topic.replication.factor=1" in props
    assert (own_kafka.log_dir / "server.log").stat().st_size > 0  # SLF4J binding works


async def test_data_survives_down_then_up(own_kafka: LocalKafka, unique_name) -> None:
    own_kafka.up(timeout=180)
    cluster_id = own_kafka.cluster_id()
    topic = unique_name("persist")
    await _produce(own_kafka.bootstrap, topic, b"before-restart")

    pid = own_kafka.pid()
    assert own_kafka.down() is True
    assert pid is not None and _gone(pid)
    assert not own_kafka.status().running

    st = own_kafka.up(timeout=180)  # called inside a running loop: the probe uses a thread
    assert st.running and st.answering and st.pid != pid
    assert own_kafka.cluster_id() == cluster_id
    assert await _consume(own_kafka.bootstrap, topic, 1) == [b"before-restart"]


def test_down_leaves_no_jvm_and_is_idempotent(own_kafka: LocalKafka) -> None:
    pid = own_kafka.up(timeout=180).pid
    assert pid is not None
    assert own_kafka.down(grace=20) is True
    assert _gone(pid)
    assert not Path(f"/proc/{pid}/cmdline").exists() or _gone(pid)
    assert _our_jvms(own_kafka.data_dir) == []
    assert not own_kafka.pid_file.exists()
    assert own_kafka.down() is False  # second down: nothing to do

    st = own_kafka.status()
    assert not st.running and not st.answering and st.pid is None


def test_stale_pid_file_is_ignored_and_never_kills_strangers(own_kafka: LocalKafka) -> None:
    own_kafka.down()
    own_kafka.data_dir.mkdir(parents=True, exist_ok=True)

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    own_kafka.pid_file.write_text(f"{dead.pid}\n")
    st = own_kafka.status()
    assert not st.running and st.pid is None

    # A live pid that is not our JVM (this very test process) must not be touched.
    own_kafka.pid_file.write_text(f"{os.getpid()}\n")
    assert not own_kafka.status().running
    assert own_kafka.down() is False
    assert not own_kafka.pid_file.exists()

    # ...and `up` over a stale pid file starts a fresh broker.
    own_kafka.pid_file.write_text("999999\n")
    st = own_kafka.up(timeout=180)
    assert st.running and st.answering and st.pid != 999999
    own_kafka.down()


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        kafka = LocalKafka(port=port, controller_port=port + 1 if port < 65535 else port - 1,
                           data_dir=tmp_path / "k")
        with pytest.raises(LocalKafkaError, match="already in use"):
            kafka.up(timeout=30)
    assert _our_jvms(kafka.data_dir) == []


def test_failed_start_raises_with_log_tail_and_leaves_no_jvm(tmp_path: Path) -> None:
    port = pick_port(19292, env="NEWSMON_TEST_KAFKA_PORT3")
    kafka = LocalKafka(port=port, data_dir=tmp_path / "bad", heap="1k")  # JVM refuses to start
    with pytest.raises(LocalKafkaError) as err:
        kafka.up(timeout=60)
    assert "exited during start-up" in str(err.value)
    assert "heap" in str(err.value).lower()  # the log tail is in the error
    assert _our_jvms(kafka.data_dir) == []
    assert not kafka.pid_file.exists()


def test_bootstrap_servers_prefers_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker:9092")
    assert bootstrap_servers() == "broker:9092"
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS")
    monkeypatch.setenv("NEWSMON_KAFKA_PORT", "12345")
    assert bootstrap_servers() == "127.0.0.1:12345"


async def test_session_broker_roundtrip(kafka_bootstrap: str, unique_name) -> None:
    topic = unique_name("session")
    await _produce(kafka_bootstrap, topic, b"hello")
    assert await _consume(kafka_bootstrap, topic, 1) == [b"hello"]
