"""`LocalKafka`: start, stop and inspect the single-node KRaft broker."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

from monitor.kafka.local.owner import release
from monitor.kafka.local.paths import (
    CLUSTER_ID_FILE,
    HOST,
    KRAFT_SUBDIR,
    LOG_SUBDIR,
    MAIN_CLASS,
    PID_FILE,
    PROPS_FILE,
    SERVER_LOG,
    STAMP_FILE,
    STDOUT_LOG,
    LocalKafkaError,
    default_data_dir,
    default_home,
    default_port,
    log4j_config_path,
    pom_path,
)
from monitor.kafka.local.probe import _run_coro_sync, _warm_group_coordinator, probe_metadata
from monitor.kafka.local.processes import _cmdline, _new_cluster_id, _pid_alive, _port_in_use, _tail, _tcp_open
from monitor.kafka.local.secure import SecureListeners


@dataclasses.dataclass(frozen=True)
class KafkaStatus:
    running: bool
    answering: bool
    bootstrap: str
    pid: int | None
    data_dir: str
    port: int

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def line(self) -> str:
        if self.running:
            state = "running and answering" if self.answering else "running but NOT answering"
            return f"kafka: {state} at {self.bootstrap} (pid {self.pid}, data {self.data_dir})"
        return f"kafka: not running (would be {self.bootstrap}, data {self.data_dir})"




class LocalKafka:
    """One local single-node KRaft broker (combined broker + controller) on 127.0.0.1."""

    def __init__(
        self,
        port: int | None = None,
        controller_port: int | None = None,
        data_dir: os.PathLike | str | None = None,
        home: os.PathLike | str | None = None,
        *,
        num_partitions: int = 1,
        heap: str = "768m",
        java: str | None = None,
        mvn: str | None = None,
        extra_properties: dict[str, Any] | None = None,
        secure: SecureListeners | None = None,
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
        self._proc: subprocess.Popen | None = None

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
                stderr=subprocess.STDOUT, text=True, errors="replace", check=False,
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

    def _read_pid(self) -> int | None:
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

    def pid(self) -> int | None:
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

    def _java_cmd(self, main_class: str, *args: str, heap: str | None = None) -> list[str]:
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
            timeout=120, check=False,
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
            release(self.data_dir)  # monitor/kafka/local/owner.py
            return bool(pids)

    # ---- context manager
    def __enter__(self) -> Self:
        self.up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()
