"""`newsmon` command line: one click group (or command) per family, each in
its own module, all registered on `main` below. A new command family is a
module here and one `main.add_command(...)` line.

Commands print a NewsmonError's ConfigError as ``Error: <file>:<line>: ...``
and exit 1 (NewsmonGroup), never with a traceback.
"""

from __future__ import annotations

import click

from monitor.cli.alerts import alerts
from monitor.cli.config import config_cli
from monitor.cli.daemon import run, watch, worker
from monitor.cli.feeds import feeds
from monitor.cli.kafka import kafka
from monitor.cli.rules import rules, scan
from monitor.cli.schema import schema
from monitor.cli.sinks import sink_cli
from monitor.cli.ui import ui
from monitor.errors import ConfigError


class NewsmonGroup(click.Group):
    """The top-level group: a ConfigError from any command is printed as
    ``Error: <file>:<line>: <key>: <problem>`` (exit 1), not a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=NewsmonGroup)
def main() -> None:
    """newsmon: a streaming news monitor."""


for command in (run, worker, watch, feeds, alerts, kafka, scan, rules, schema, sink_cli, config_cli, ui):
    main.add_command(command)

__all__ = ["main"]
