"""Where the local broker lives: repository, jar cache, data dir, port (environment overrides)."""

from __future__ import annotations

import os
from pathlib import Path

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





def repo_root() -> Path:
    """The checkout this module lives in (the folder holding ``deploy/kafka/pom.xml``)."""
    return Path(__file__).resolve().parents[3]


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


def bootstrap_servers(port: int | None = None) -> str:
    """``$KAFKA_BOOTSTRAP_SERVERS`` if set (then nothing local is ever started),
    else the local broker's address ``127.0.0.1:<port>``."""
    env = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if env:
        return env
    return f"{HOST}:{port if port is not None else default_port()}"


def external_bootstrap() -> str | None:
    """``$KAFKA_BOOTSTRAP_SERVERS`` if set, else None."""
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip() or None
