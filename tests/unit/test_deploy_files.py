"""docker-compose.yml and the systemd units cannot run here (no Docker engine,
no systemd); check what can be checked, including that every command they
start is a real `newsmon` command whose options parse."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
from ruamel.yaml import YAML

from monitor.cli import main
from monitor.settings import REPO_ROOT

UNITS = sorted((REPO_ROOT / "deploy" / "systemd").glob("*.service"))


def newsmon_command(args: list[str]) -> str:
    """The `newsmon ...` subcommand `args` run, as a path; fails unless its
    options and arguments parse (nothing is run)."""
    command, rest, path = main, list(args), ["newsmon"]
    while isinstance(command, click.Group):
        assert rest and rest[0] in command.commands, f"no command {' '.join(path + rest[:1])}"
        path.append(rest.pop(0))
        command = command.commands[path[-1]]
    command.make_context(" ".join(path), rest)
    return " ".join(path[1:])


def compose_args(command: list[str]) -> list[str]:
    """Compose interpolation `${VAR:-default}` replaced by its default."""
    return [re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", arg) for arg in command]


def test_compose_stack_is_complete_and_consistent():
    compose = YAML(typ="safe").load((REPO_ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"broker", "worker", "watcher", "webhook-sink"} <= set(services)
    broker = services["broker"]["environment"]
    assert broker["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert len(broker["CLUSTER_ID"]) == 22  # a base64 UUID, as KRaft requires
    for key in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"):
        assert broker[key] == 1
    for name in ("worker", "watcher", "webhook-sink"):
        service = services[name]
        assert service["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "broker:19092"
        assert service["depends_on"]["broker"]["condition"] == "service_healthy"
    for name in ("worker", "watcher", "webhook-sink", "tail"):
        newsmon_command(compose_args(services[name]["command"]))
    assert "broker:19092" in broker["KAFKA_ADVERTISED_LISTENERS"]
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert "constraints.txt" in dockerfile and 'ENTRYPOINT ["newsmon"]' in dockerfile


def test_compose_webhook_sink_is_health_checked_by_its_own_consumer_group():
    sink = YAML(typ="safe").load((REPO_ROOT / "docker-compose.yml").read_text())["services"]["webhook-sink"]
    args = compose_args(sink["command"])
    assert newsmon_command(args) == "sink webhook"
    assert args[2].startswith("http")  # a usable default URL
    name = args[args.index("--name") + 1]
    check = sink["healthcheck"]["test"]
    assert check[:2] == ["CMD", "newsmon"] and newsmon_command(check[2:]) == "sink status"
    assert check[2:] == ["sink", "status", name, "--check"]  # the same sink, by name
    assert "NEWSMON_WEBHOOK_SECRET" in sink["environment"]


def unit_sections(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit as section -> key -> values (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None and "=" in line, f"{path.name}: not a unit line: {line!r}"
        key, value = line.split("=", 1)
        current.setdefault(key, []).append(value)
    return sections


def test_there_is_an_all_in_one_unit_and_split_ones():
    assert {p.name for p in UNITS} >= {"newsmon.service", "newsmon-worker.service", "newsmon-sinks.service"}


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_systemd_unit_starts_a_real_newsmon_command(unit):
    sections = unit_sections(unit)
    assert set(sections) == {"Unit", "Service", "Install"}
    service = sections["Service"]
    (exec_start,) = service["ExecStart"]
    executable, *args = shlex.split(exec_start)
    assert executable.startswith("/") and executable.endswith("/bin/newsmon")  # the console script of pyproject
    assert 'newsmon = "monitor.cli:main"' in (REPO_ROOT / "pyproject.toml").read_text()
    command = newsmon_command(args)
    expected = {"newsmon.service": "run", "newsmon-worker.service": "worker",
                "newsmon-sinks.service": "sink run", "newsmon-watch.service": "watch files"}[unit.name]
    assert command == expected
    assert "NEWSMON_CONFIG=/etc/newsmon/newsmon.yaml" in service["Environment"]
    assert service["Restart"] == ["on-failure"] and service["KillSignal"] == ["SIGTERM"]
    assert service["User"] != ["root"]
    assert sections["Install"]["WantedBy"] == ["multi-user.target"]
