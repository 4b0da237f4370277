"""`newsmon kafka up|down|status|jars`: the embedded local broker (monitor/kafka/local/).

With KAFKA_BOOTSTRAP_SERVERS set no local broker is managed: up and down say
so, status probes the external cluster with the configured security settings.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import click

from monitor.kafka.local import LocalKafka, LocalKafkaError, external_bootstrap, probe_metadata


def _options(fn: Callable) -> Callable:
    """The same options on every subcommand, as the broker's own CLI had them."""
    options = [
        click.option("--port", type=int, default=None, help="broker port (default $NEWSMON_KAFKA_PORT or 9092)"),
        click.option("--data-dir", default=None,
                     help="data dir (default $NEWSMON_KAFKA_DATA_DIR or <repo>/.cache/kafka/data)"),
        click.option("--timeout", type=float, default=120.0, help="seconds to wait for readiness (up)"),
        click.option("--grace", type=float, default=20.0, help="seconds between SIGTERM and SIGKILL (down)"),
        click.option("--partitions", type=int, default=1, help="num.partitions for auto-created topics"),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@click.group("kafka", invoke_without_command=True)
@click.pass_context
def kafka(ctx: click.Context) -> None:
    """Manage the embedded local broker: up | down | status | jars [--port N] [--data-dir D]."""
    if ctx.invoked_subcommand is None:  # as before: the usage on stdout, exit 0
        click.echo(ctx.get_help())


def _external_client_options() -> dict[str, Any]:
    """The TLS / SASL settings (NEWSMON_KAFKA_SECURITY_PROTOCOL, ...) for probing an external cluster."""
    from monitor.kafka.security import aiokafka_options
    from monitor.settings import load_settings

    return aiokafka_options(load_settings())


def _external(command: str) -> bool:
    """Handle `command` against an external cluster; False if none is configured."""
    ext = external_bootstrap()
    if not ext:
        return False
    click.echo(f"kafka: KAFKA_BOOTSTRAP_SERVERS={ext} is set; using it, no local broker is managed")
    if command == "status":
        try:
            options = _external_client_options()
        except ValueError as exc:  # invalid security settings
            click.echo(f"kafka: error: {exc}", err=True)
            sys.exit(1)
        ok = probe_metadata(ext, 5.0, options)
        click.echo(f"kafka: {ext} {'answering' if ok else 'NOT answering'}")
        sys.exit(0 if ok else 1)
    return True


def _run(action: Callable[[LocalKafka], int | None], port: int | None, data_dir: str | None, partitions: int) -> None:
    try:
        code = action(LocalKafka(port=port, data_dir=data_dir, num_partitions=partitions))
    except LocalKafkaError as exc:
        click.echo(f"kafka: error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("kafka: interrupted", err=True)
        sys.exit(130)
    sys.exit(code or 0)


@kafka.command("up")
@_options
def kafka_up(port, data_dir, timeout, grace, partitions) -> None:
    """Start the local broker (or say it is already running) and wait until it answers."""
    if _external("up"):
        return

    def up(broker: LocalKafka) -> None:
        before = broker.pid()
        t0 = time.monotonic()
        st = broker.up(timeout=timeout)
        how = "already running" if before is not None else f"started in {time.monotonic() - t0:.1f}s"
        click.echo(f"kafka: {how} at {st.bootstrap} (pid {st.pid}, data {st.data_dir})")

    _run(up, port, data_dir, partitions)


@kafka.command("down")
@_options
def kafka_down(port, data_dir, timeout, grace, partitions) -> None:
    """Stop the local broker (SIGTERM, then SIGKILL after --grace seconds)."""
    if _external("down"):
        return

    def down(broker: LocalKafka) -> None:
        was = broker.down(grace=grace)
        click.echo(f"kafka: {'stopped' if was else 'was not running'} (data {broker.data_dir})")

    _run(down, port, data_dir, partitions)


@kafka.command("status")
@_options
def kafka_status(port, data_dir, timeout, grace, partitions) -> None:
    """Is the broker running and answering? Exit 1 if not."""
    _external("status")

    def status(broker: LocalKafka) -> int:
        st = broker.status()
        click.echo(st.line())
        return 0 if st.running and st.answering else 1

    _run(status, port, data_dir, partitions)


@kafka.command("jars")
@_options
def kafka_jars(port, data_dir, timeout, grace, partitions) -> None:
    """Fetch the broker's jars from Maven Central into the cache (mvn)."""

    def jars(broker: LocalKafka) -> None:
        click.echo(f"kafka: jars ready in {broker.ensure_jars()}")

    _run(jars, port, data_dir, partitions)
