"""A real single-node Apache Kafka broker (KRaft), run locally from Maven Central jars.

No Docker: ``deploy/kafka/pom.xml`` pins the Kafka release; ``mvn`` copies the broker and
its runtime dependencies into a git-ignored cache (``<repo>/.cache/kafka/libs`` by default,
or ``$NEWSMON_KAFKA_HOME/libs``), and :class:`LocalKafka` runs
``java -cp '<libs>/*' kafka.Kafka server.properties`` as a detached process whose pid is
kept in the data dir.

Command line (monitor/cli/kafka.py)::

    newsmon kafka up|down|status|jars [--port N] [--data-dir D]

Environment:

* ``KAFKA_BOOTSTRAP_SERVERS``: use that (external) cluster; nothing local is ever started.
* ``NEWSMON_KAFKA_PORT``: broker port (default 9092; the controller uses port + 1).
* ``NEWSMON_KAFKA_DATA_DIR``: data dir (default ``<repo>/.cache/kafka/data``).
* ``NEWSMON_KAFKA_HOME``: jar cache (default ``<repo>/.cache/kafka``).

Pure stdlib, plus aiokafka for the readiness probe (probe.py: a real metadata request).
Modules: paths.py (where things live), processes.py (pids, ports), probe.py,
secure.py (TLS / SASL listeners), broker.py (`LocalKafka`).
"""

from monitor.kafka.local.broker import KafkaStatus, LocalKafka
from monitor.kafka.local.paths import (
    DEFAULT_PORT,
    LocalKafkaError,
    bootstrap_servers,
    default_data_dir,
    default_home,
    default_port,
    external_bootstrap,
    repo_root,
)
from monitor.kafka.local.probe import probe_metadata
from monitor.kafka.local.processes import pick_port
from monitor.kafka.local.secure import SecureListeners

__all__ = [
    "DEFAULT_PORT", "KafkaStatus", "LocalKafka", "LocalKafkaError", "SecureListeners", "bootstrap_servers",
    "default_data_dir", "default_home", "default_port", "external_bootstrap", "pick_port", "probe_metadata",
    "repo_root",
]
