"""docker-compose.yml cannot run here (no Docker engine); check what can be checked."""

from __future__ import annotations

from ruamel.yaml import YAML

from monitor.config import REPO_ROOT


def test_compose_stack_is_complete_and_consistent():
    compose = YAML(typ="safe").load((REPO_ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"broker", "worker", "watcher"} <= set(services)
    broker = services["broker"]["environment"]
    assert broker["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert len(broker["CLUSTER_ID"]) == 22  # a base64 UUID, as KRaft requires
    for key in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"):
        assert broker[key] == 1
    for name in ("worker", "watcher"):
        service = services[name]
        assert service["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "broker:19092"
        assert service["depends_on"]["broker"]["condition"] == "service_healthy"
    assert "broker:19092" in broker["KAFKA_ADVERTISED_LISTENERS"]
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert "constraints.txt" in dockerfile and 'ENTRYPOINT ["newsmon"]' in dockerfile
