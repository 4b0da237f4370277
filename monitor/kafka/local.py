"""A real single-node Apache Kafka broker (KRaft), run locally from Maven Central jars.

No Docker: ``deploy/kafka/pom.xml`` pins the Kafka release; ``mvn`` copies the broker and
its runtime dependencies into a git-ignored cache (``<repo>/.cache/kafka/libs`` by default,
or ``$NEWSMON_KAFKA_HOME/libs``), and :class:`LocalKafka` runs
``java -cp '<libs>/*' kafka.Kafka server.properties`` as a detached process whose pid is
kept in the data dir.

Command line::

    python -m monitor.kafka.local up|down|status|jars [--port N] [--data-dir D]

Environment:

* ``KAFKA_BOOTSTRAP_SERVERS``: use that (external) cluster; nothing local is ever started.
* ``NEWSMON_KAFKA_PORT``: broker port (default 9092; the controller uses port + 1).
* ``NEWSMON_KAFKA_DATA_DIR``: data dir (default ``<repo>/.cache/kafka/data``).
* ``NEWSMON_KAFKA_HOME``: jar cache (default ``<repo>/.cache/kafka``).

Pure stdlib, plus aiokafka for the readiness probe (a real metadata request).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

__all__ = [
    "DEFAULT_PORT",
    "KafkaStatus",
    "LocalKafka",
    "LocalKafkaError",
    "SecureListeners",
    "bootstrap_servers",
    "default_data_dir",
    "default_home",
    "default_port",
    "main",
    "pick_port",
    "probe_metadata",
    "repo_root",
]

DEFAULT_PORT = 9092
HOST = "127.0.0.1"
MAIN_CLASS = "kafka.Kafka"
PID_FILE = "kafka.pid"
PROPS_FILE = "server.properties"
CLUSTER_ID_FILE = "cluster.id"
LOG_SUBDIR = "logs"
KRAFT_SUBDIR = "kraft"
STDOUT_LOG = "kafka.out"
SERVER_LOG = "server.log"
STAMP_FILE = ".pom.sha256"


class LocalKafkaError(RuntimeError):
    """Anything that stops the local broker from being fetched, started or stopped."""


# --------------------------------------------------------------------------- paths / env


def repo_root() -> Path:
    """The checkout this module lives in (the folder holding ``deploy/kafka/pom.xml``)."""
    return Path(__file__).resolve().parents[2]


def pom_path() -> Path:
    return repo_root() / "deploy" / "kafka" / "pom.xml"


def log4j_config_path() -> Path:
    return repo_root() / "deploy" / "kafka" / "log4j2.yaml"


def default_home() -> Path:
    env = os.environ.get("NEWSMON_KAFKA_HOME")
    return Path(env).expanduser() if env else repo_root() / ".cache" / "kafka"


def default_data_dir() -> Path:
    env = os.environ.get("NEWSMON_KAFKA_DATA_DIR")
    return Path(env).expanduser() if env else default_home() / "data"


def default_port() -> int:
    env = os.environ.get("NEWSMON_KAFKA_PORT")
    if env:
        try:
            return int(env)
        except ValueError:
            raise LocalKafkaError(f"NEWSMON_KAFKA_PORT is not a port number: {env!r}") from None
    return DEFAULT_PORT


def bootstrap_servers(port: Optional[int] = None) -> str:
    """``$KAFKA_BOOTSTRAP_SERVERS`` if set (then nothing local is ever started),
    else the local broker's address ``127.0.0.1:<port>``."""
    env = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if env:
        return env
    return f"{HOST}:{port if port is not None else default_port()}"


def external_bootstrap() -> Optional[str]:
    """``$KAFKA_BOOTSTRAP_SERVERS`` if set, else None."""
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip() or None


# --------------------------------------------------------------------------- helpers


def _tail(path: Path, n: int = 40) -> list[str]:
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as fh:
            return list(deque(fh, maxlen=n))
    except OSError:
        return []


def _proc_state(pid: int) -> Optional[str]:
    """Single-letter state from /proc/<pid>/stat, or None if no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    # "pid (comm) S ..." -- comm may contain spaces/parens, state follows the last ')'.
    try:
        return raw[raw.rindex(")") + 2]
    except (ValueError, IndexError):
        return None


def _pid_alive(pid: int) -> bool:
    state = _proc_state(pid)
    return state is not None and state not in ("Z", "X")


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return True
    return False


def _ports_free(port: int) -> bool:
    """``port`` and ``port + 1`` (broker + controller) are both free on 127.0.0.1."""
    if port + 1 > 65535:
        return False
    return not _port_in_use(port) and not _port_in_use(port + 1)


def pick_port(default: int, env: Optional[str] = None) -> int:
    """``$env`` if set (used as is); else ``default`` if it and default+1 are free;
    else some free pair (p, p+1) chosen by the OS. For tests and side-by-side brokers."""
    if env and os.environ.get(env):
        return int(os.environ[env])
    if _ports_free(default):
        return default
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if _ports_free(port):
            return port
    raise LocalKafkaError("no free pair of ports on 127.0.0.1")


def _tcp_open(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def _new_cluster_id() -> str:
    """Same shape as Kafka's ``Uuid.randomUuid().toString()``: 22 chars of url-safe base64."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


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


async def _metadata_probe(bootstrap: str, timeout: float, options: Optional[dict[str, Any]] = None) -> bool:
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


def probe_metadata(bootstrap: str, timeout: float = 5.0, options: Optional[dict[str, Any]] = None) -> bool:
    """Sync wrapper of the metadata probe (usable inside or outside an event loop)."""
    try:
        return bool(_run_coro_sync(lambda: _metadata_probe(bootstrap, timeout, options), timeout))
    except Exception:  # noqa: BLE001
        return False


# --------------------------------------------------------------------------- status


@dataclasses.dataclass(frozen=True)
class KafkaStatus:
    running: bool
    answering: bool
    bootstrap: str
    pid: Optional[int]
    data_dir: str
    port: int

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def line(self) -> str:
        if self.running:
            state = "running and answering" if self.answering else "running but NOT answering"
            return f"kafka: {state} at {self.bootstrap} (pid {self.pid}, data {self.data_dir})"
        return f"kafka: not running (would be {self.bootstrap}, data {self.data_dir})"


# --------------------------------------------------------------------------- secured listeners


SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclasses.dataclass(frozen=True)
class SecureListeners:
    """Optional SSL / SASL_SSL / SASL_PLAINTEXT listeners beside the PLAINTEXT one,
    to test newsmon against a secured broker (tests/integration/test_secure_kafka.py).

    The PLAINTEXT listener stays: inter-broker traffic and the readiness probe
    use it. Every SASL listener takes PLAIN and SCRAM-SHA-256/512 for ``users``
    (PLAIN from the JAAS config; SCRAM credentials written into the metadata
    log when the storage is formatted, ``kafka-storage format --add-scram``, so
    they exist only on a fresh data dir). With a ``truststore``, the SSL
    listener requires a client certificate signed by a CA in it (mutual TLS)."""

    keystore: Path  # PKCS12: the broker's key and certificate chain
    keystore_password: str
    ssl_port: Optional[int] = None
    sasl_ssl_port: Optional[int] = None
    sasl_plaintext_port: Optional[int] = None
    users: tuple[tuple[str, str], ...] = ()  # (name, password) for SASL
    truststore: Optional[Path] = None  # PKCS12 of trusted CAs for client certificates
    truststore_password: Optional[str] = None

    def listeners(self) -> dict[str, int]:
        """Listener name (= its security protocol) -> port."""
        ports = {"SSL": self.ssl_port, "SASL_SSL": self.sasl_ssl_port, "SASL_PLAINTEXT": self.sasl_plaintext_port}
        return {name: port for name, port in ports.items() if port is not None}

    def properties(self) -> dict[str, Any]:
        props: dict[str, Any] = {
            "ssl.keystore.type": "PKCS12",
            "ssl.keystore.location": str(self.keystore),
            "ssl.keystore.password": self.keystore_password,
        }
        if self.truststore is not None:
            props.update({
                "ssl.truststore.type": "PKCS12",
                "ssl.truststore.location": str(self.truststore),
                "ssl.truststore.password": self.truststore_password or "",
                "listener.name.ssl.ssl.client.auth": "required",
            })
        sasl = [name for name in self.listeners() if name.startswith("SASL_")]
        if sasl:
            props["sasl.enabled.mechanisms"] = ",".join(SASL_MECHANISMS)
            plain_users = " ".join(f'user_{name}="{password}"' for name, password in self.users)
            for listener in sasl:
                prefix = f"listener.name.{listener.lower()}"
                props[f"{prefix}.plain.sasl.jaas.config"] = (
                    f"org.apache.kafka.common.security.plain.PlainLoginModule required {plain_users};")
                for mechanism in SASL_MECHANISMS[1:]:
                    props[f"{prefix}.{mechanism.lower()}.sasl.jaas.config"] = (
                        "org.apache.kafka.common.security.scram.ScramLoginModule required;")
        return props

    def format_args(self) -> list[str]:
        """``kafka-storage format`` arguments creating the SCRAM users."""
        return [arg for name, password in self.users for mechanism in SASL_MECHANISMS[1:]
                for arg in ("--add-scram", f"{mechanism}=[name={name},password={password}]")]


# --------------------------------------------------------------------------- LocalKafka


class LocalKafka:
    """One local single-node KRaft broker (combined broker + controller) on 127.0.0.1."""

    def __init__(
        self,
        port: Optional[int] = None,
        controller_port: Optional[int] = None,
        data_dir: Optional[os.PathLike | str] = None,
        home: Optional[os.PathLike | str] = None,
        *,
        num_partitions: int = 1,
        heap: str = "768m",
        java: Optional[str] = None,
        mvn: Optional[str] = None,
        extra_properties: Optional[dict[str, Any]] = None,
        secure: Optional[SecureListeners] = None,
    ) -> None:
        self.port = int(port) if port is not None else default_port()
        self.controller_port = int(controller_port) if controller_port else self.port + 1
        if self.controller_port == self.port:
            raise LocalKafkaError("controller_port must differ from port")
        self.data_dir = Path(data_dir).expanduser().resolve() if data_dir else default_data_dir()
        self.home = Path(home).expanduser().resolve() if home else default_home()
        self.num_partitions = int(num_partitions)
        self.heap = heap
        self.java = java or os.environ.get("NEWSMON_JAVA") or "java"
        self.mvn = mvn or "mvn"
        self.extra_properties = dict(extra_properties or {})
        self.secure = secure
        self._proc: Optional[subprocess.Popen] = None

    def __repr__(self) -> str:
        return f"LocalKafka(port={self.port}, data_dir={str(self.data_dir)!r})"

    # ---- paths
    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def libs_dir(self) -> Path:
        return self.home / "libs"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / PID_FILE

    @property
    def props_file(self) -> Path:
        return self.data_dir / PROPS_FILE

    @property
    def log_dir(self) -> Path:
        return self.data_dir / LOG_SUBDIR

    @property
    def kraft_dir(self) -> Path:
        return self.data_dir / KRAFT_SUBDIR

    @property
    def stdout_log(self) -> Path:
        return self.log_dir / STDOUT_LOG

    @property
    def server_log(self) -> Path:
        return self.log_dir / SERVER_LOG

    # ---- jars
    def jars_present(self) -> bool:
        libs = self.libs_dir
        if not libs.is_dir():
            return False
        names = [p.name for p in libs.glob("*.jar")]
        have_kafka = any(n.startswith("kafka_2.13-") for n in names)
        have_binding = any(n.startswith(("log4j-slf4j-impl-", "log4j-slf4j2-impl-", "slf4j-reload4j-")) for n in names)
        if not (have_kafka and have_binding):
            return False
        stamp = self.home / STAMP_FILE
        pom = pom_path()
        if pom.is_file() and stamp.is_file():
            return stamp.read_text().strip() == hashlib.sha256(pom.read_bytes()).hexdigest()
        return not pom.is_file()  # no pom to compare against: trust what is there

    def ensure_jars(self) -> Path:
        """Fetch the broker jars with Maven unless already cached; returns the libs dir."""
        if self.jars_present():
            return self.libs_dir
        pom = pom_path()
        if not pom.is_file():
            raise LocalKafkaError(f"cannot fetch Kafka jars: {pom} is missing")
        mvn = shutil.which(self.mvn)
        if mvn is None:
            raise LocalKafkaError(
                "cannot fetch Kafka jars: 'mvn' (Apache Maven) not found on PATH; "
                "install it (e.g. apt-get install maven) or set KAFKA_BOOTSTRAP_SERVERS "
                "to use an existing broker"
            )
        self.home.mkdir(parents=True, exist_ok=True)
        with self._flock(self.home / ".fetch.lock"):
            if self.jars_present():  # someone else fetched while we waited
                return self.libs_dir
            tmp = self.home / "libs.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            cmd = [
                mvn, "-q", "-B", "-Dstyle.color=never", "-f", str(pom),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={tmp}",
            ]
            proc = subprocess.run(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, errors="replace",
            )
            if proc.returncode != 0 or not any(tmp.glob("kafka_2.13-*.jar")):
                tail = "\n".join(proc.stdout.splitlines()[-40:])
                shutil.rmtree(tmp, ignore_errors=True)
                raise LocalKafkaError(
                    f"fetching Kafka jars failed (exit {proc.returncode}): {' '.join(cmd)}\n"
                    f"--- mvn output (tail) ---\n{tail}"
                )
            shutil.rmtree(self.libs_dir, ignore_errors=True)
            tmp.rename(self.libs_dir)
            (self.home / STAMP_FILE).write_text(hashlib.sha256(pom.read_bytes()).hexdigest() + "\n")
        return self.libs_dir

    # ---- process bookkeeping
    def _is_ours(self, pid: int) -> bool:
        if not _pid_alive(pid):
            return False
        args = _cmdline(pid)
        return MAIN_CLASS in args and str(self.props_file) in args

    def _read_pid(self) -> Optional[int]:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def _scan_pids(self) -> list[int]:
        """Every live process that is our broker (kafka.Kafka with our server.properties)."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                pid = int(entry.name)
                if pid != os.getpid() and self._is_ours(pid):
                    found.append(pid)
        return found

    def pid(self) -> Optional[int]:
        """Pid of our running broker, or None (a stale pid file is ignored)."""
        pid = self._read_pid()
        if pid is not None and self._is_ours(pid):
            return pid
        pids = self._scan_pids()
        return pids[0] if pids else None

    def _reap(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(Exception):
                self._proc.poll()

    @contextlib.contextmanager
    def _flock(self, path: Path) -> Iterator[None]:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # ---- config / storage
    def properties(self) -> dict[str, Any]:
        props: dict[str, Any] = {
            "process.roles": "broker,controller",
            "node.id": 1,
            "controller.quorum.voters": f"1@{HOST}:{self.controller_port}",
            "listeners": f"PLAINTEXT://{HOST}:{self.port},CONTROLLER://{HOST}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{self.port}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(self.kraft_dir),
            "num.partitions": self.num_partitions,
            "default.replication.factor": 1,
            "min.insync.replicas": 1,
            "offsets.topic.replication.factor": 1,
            "offsets.topic.num.partitions": 8,
            "transaction.state.log.replication.factor": 1,
            "transaction.state.log.min.isr": 1,
            "transaction.state.log.num.partitions": 4,
            "share.coordinator.state.topic.replication.factor": 1,
            "share.coordinator.state.topic.min.isr": 1,
            "group.initial.rebalance.delay.ms": 0,
            "auto.create.topics.enable": "true",
            "delete.topic.enable": "true",
            "num.network.threads": 3,
            "num.io.threads": 4,
            "log.retention.hours": 168,
            "log.segment.bytes": 104857600,
            # as large as news.raw's own max.message.bytes (monitor/kafka/admin.py), so a
            # topic created by a producer before ensure_topics ran takes the same sizes
            "message.max.bytes": 64 * 1024 * 1024,
            "log.retention.check.interval.ms": 300000,
        }
        if self.secure is not None:
            extra = self.secure.listeners()
            props["listeners"] += "".join(f",{name}://{HOST}:{port}" for name, port in extra.items())
            props["advertised.listeners"] += "".join(f",{name}://{HOST}:{port}" for name, port in extra.items())
            props["listener.security.protocol.map"] += "".join(f",{name}:{name}" for name in extra)
            props.update(self.secure.properties())
        props.update(self.extra_properties)
        return props

    def write_properties(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lines = ["# written by monitor/kafka/local.py -- regenerated on every `up`"]
        lines += [f"{k}={v}" for k, v in self.properties().items()]
        tmp = self.props_file.with_suffix(".tmp")
        tmp.write_text("\n".join(lines) + "\n")
        tmp.replace(self.props_file)
        return self.props_file

    def cluster_id(self) -> str:
        """The cluster id kept in the data dir (storage's meta.properties wins if present)."""
        meta = self.kraft_dir / "meta.properties"
        if meta.is_file():
            for line in meta.read_text().splitlines():
                if line.startswith("cluster.id="):
                    return line.split("=", 1)[1].strip()
        f = self.data_dir / CLUSTER_ID_FILE
        if f.is_file() and f.read_text().strip():
            return f.read_text().strip()
        cid = _new_cluster_id()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        f.write_text(cid + "\n")
        return cid

    def _java_cmd(self, main_class: str, *args: str, heap: Optional[str] = None) -> list[str]:
        java = shutil.which(self.java)
        if java is None:
            raise LocalKafkaError(f"'{self.java}' (Java 17+) not found on PATH")
        cmd = [java]
        if heap:
            cmd += [f"-Xmx{heap}", "-Xms128m", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError"]
        else:
            cmd += ["-Xmx256m", "-XX:TieredStopAtLevel=1"]
        cmd += [
            "-Djava.awt.headless=true",
            f"-Dkafka.logs.dir={self.log_dir}",
            f"-Dlog4j2.configurationFile={log4j_config_path()}",
            "-cp", str(self.libs_dir / "*"),  # quoted wildcard: expanded by the JVM
            main_class, *args,
        ]
        return cmd

    def format_storage(self) -> None:
        """Format the KRaft log dir once (``--ignore-formatted`` makes re-runs harmless)."""
        if (self.kraft_dir / "meta.properties").is_file():
            return
        cid = self.cluster_id()
        cmd = self._java_cmd(
            "kafka.tools.StorageTool", "format",
            "-t", cid, "-c", str(self.props_file), "--ignore-formatted",
            *(self.secure.format_args() if self.secure is not None else ()),
        )
        self.log_dir.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors="replace", cwd=self.data_dir,
            timeout=120,
        )
        if proc.returncode != 0:
            tail = "\n".join(proc.stdout.splitlines()[-40:])
            raise LocalKafkaError(
                f"formatting Kafka storage in {self.kraft_dir} failed (exit {proc.returncode})\n"
                f"--- StorageTool output (tail) ---\n{tail}"
            )

    # ---- lifecycle
    def status(self, probe_timeout: float = 3.0) -> KafkaStatus:
        self._reap()
        pid = self.pid()
        answering = False
        if pid is not None and _tcp_open(self.port):
            answering = probe_metadata(self.bootstrap, probe_timeout)
        return KafkaStatus(
            running=pid is not None, answering=answering, bootstrap=self.bootstrap,
            pid=pid, data_dir=str(self.data_dir), port=self.port,
        )

    def is_running(self) -> bool:
        return self.pid() is not None

    def up(self, timeout: float = 120.0) -> KafkaStatus:
        """Start the broker if needed and wait until it answers a metadata request.

        Idempotent: an already running, answering broker is returned at once."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self._flock(self.data_dir / ".lock"):
            pid = self.pid()
            if pid is not None:
                # Ours is up (maybe still starting): wait for it instead of starting another.
                self._wait_ready(pid, timeout)
                self._write_pid(pid)
                return self.status()
            self._remove_pid_file()
            self.ensure_jars()
            extra_ports = list(self.secure.listeners().values()) if self.secure is not None else []
            for p in (self.port, self.controller_port, *extra_ports):
                if _port_in_use(p):
                    raise LocalKafkaError(
                        f"port {HOST}:{p} is already in use by another process; "
                        f"pick another with --port / NEWSMON_KAFKA_PORT"
                    )
            self.write_properties()
            self.format_storage()
            self.log_dir.mkdir(parents=True, exist_ok=True)
            cmd = self._java_cmd(MAIN_CLASS, str(self.props_file), heap=self.heap)
            with open(self.stdout_log, "ab") as out:
                out.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(cmd)}\n".encode())
                out.flush()
                self._proc = subprocess.Popen(
                    cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    cwd=self.data_dir, start_new_session=True, close_fds=True,
                )
            pid = self._proc.pid
            self._write_pid(pid)
            t0 = time.monotonic()
            try:
                self._wait_ready(pid, timeout)
                budget = max(5.0, min(30.0, timeout - (time.monotonic() - t0)))
                with contextlib.suppress(Exception):
                    _run_coro_sync(lambda: _warm_group_coordinator(self.bootstrap, budget), budget)
            except BaseException:
                # Never leave an orphan JVM behind a failed (or interrupted) start.
                self._kill(pid, grace=5)
                self._remove_pid_file()
                raise
            return self.status()

    def _wait_ready(self, pid: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self._reap()
            if not _pid_alive(pid):
                raise LocalKafkaError(
                    f"Kafka JVM (pid {pid}) exited during start-up\n{self._log_tail()}"
                )
            remaining = deadline - time.monotonic()
            if _tcp_open(self.port) and probe_metadata(self.bootstrap, max(1.0, min(5.0, remaining))):
                return
            if time.monotonic() >= deadline:
                raise LocalKafkaError(
                    f"Kafka at {self.bootstrap} (pid {pid}) did not answer a metadata "
                    f"request within {timeout:.0f}s\n{self._log_tail()}"
                )
            time.sleep(0.25)

    def _log_tail(self, n: int = 40) -> str:
        parts = []
        for path in (self.stdout_log, self.server_log):
            lines = _tail(path, n)
            if lines:
                parts.append(f"--- {path} (last {len(lines)} lines) ---\n" + "".join(lines).rstrip())
        return "\n".join(parts) or f"(no log output in {self.log_dir})"

    def _write_pid(self, pid: int) -> None:
        tmp = self.pid_file.with_suffix(".tmp")
        tmp.write_text(f"{pid}\n")
        tmp.replace(self.pid_file)

    def _remove_pid_file(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.pid_file.unlink()

    def _kill(self, pid: int, grace: float) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; returns once the pid is gone."""
        if not self._is_ours(pid):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            self._reap()
            if not _pid_alive(pid):
                break
            time.sleep(0.1)
        else:
            with contextlib.suppress(ProcessLookupError):
                # start_new_session made the JVM a process-group leader: take the group.
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and _pid_alive(pid):
                self._reap()
                time.sleep(0.05)
        if self._proc is not None and self._proc.pid == pid:
            with contextlib.suppress(Exception):
                self._proc.wait(timeout=5)
            self._proc = None
        if _pid_alive(pid):
            raise LocalKafkaError(f"Kafka JVM pid {pid} survived SIGKILL")

    def down(self, grace: float = 20.0) -> bool:
        """Stop the broker (SIGTERM, SIGKILL after ``grace``). True if one was running."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self._flock(self.data_dir / ".lock"):
            pids = set(self._scan_pids())
            pid = self._read_pid()
            if pid is not None and self._is_ours(pid):
                pids.add(pid)
            for p in sorted(pids):
                self._kill(p, grace)
            self._remove_pid_file()
            return bool(pids)

    # ---- context manager
    def __enter__(self) -> "LocalKafka":
        self.up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()


# --------------------------------------------------------------------------- CLI


def _external_client_options() -> dict[str, Any]:
    """The TLS / SASL settings (NEWSMON_KAFKA_SECURITY_PROTOCOL, ...) for probing an
    external cluster; imported here only, so the rest of this module stays stdlib."""
    from monitor.settings import load_settings
    from monitor.kafka.security import aiokafka_options

    return aiokafka_options(load_settings())


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m monitor.kafka.local",
        description="Run a local single-node Kafka broker (KRaft) from Maven Central jars.",
    )
    parser.add_argument("command", choices=["up", "down", "status", "jars"])
    parser.add_argument("--port", type=int, default=None, help="broker port (default $NEWSMON_KAFKA_PORT or 9092)")
    parser.add_argument("--data-dir", default=None, help="data dir (default $NEWSMON_KAFKA_DATA_DIR or <repo>/.cache/kafka/data)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for readiness (up)")
    parser.add_argument("--grace", type=float, default=20.0, help="seconds between SIGTERM and SIGKILL (down)")
    parser.add_argument("--partitions", type=int, default=1, help="num.partitions for auto-created topics")
    args = parser.parse_args(argv)

    ext = external_bootstrap()
    if ext and args.command in ("up", "down", "status"):
        print(f"kafka: KAFKA_BOOTSTRAP_SERVERS={ext} is set; using it, no local broker is managed")
        if args.command == "status":
            try:
                options = _external_client_options()
            except ValueError as exc:  # invalid security settings
                print(f"kafka: error: {exc}", file=sys.stderr)
                return 1
            ok = probe_metadata(ext, 5.0, options)
            print(f"kafka: {ext} {'answering' if ok else 'NOT answering'}")
            return 0 if ok else 1
        return 0

    try:
        kafka = LocalKafka(port=args.port, data_dir=args.data_dir, num_partitions=args.partitions)
        if args.command == "jars":
            libs = kafka.ensure_jars()
            print(f"kafka: jars ready in {libs}")
        elif args.command == "up":
            before = kafka.pid()
            t0 = time.monotonic()
            st = kafka.up(timeout=args.timeout)
            how = "already running" if before is not None else f"started in {time.monotonic() - t0:.1f}s"
            print(f"kafka: {how} at {st.bootstrap} (pid {st.pid}, data {st.data_dir})")
        elif args.command == "down":
            was = kafka.down(grace=args.grace)
            print(f"kafka: {'stopped' if was else 'was not running'} (data {kafka.data_dir})")
        else:
            st = kafka.status()
            print(st.line())
            return 0 if st.running and st.answering else 1
    except LocalKafkaError as exc:
        print(f"kafka: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("kafka: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
