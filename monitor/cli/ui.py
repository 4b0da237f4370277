"""`newsmon ui`: the analyst dashboard on its own, against any cluster; and the
start-up check `newsmon run` shares with it (README, Dashboard)."""

from __future__ import annotations

import asyncio
import signal

import click

from monitor.cli.common import settings_for
from monitor.settings import Settings


def check_dashboard(settings: Settings) -> None:
    """A dashboard login that cannot work fails at start, not at first use."""
    from monitor.dashboard.auth import Auth, AuthConfigError

    try:
        Auth(settings.dashboard)
    except AuthConfigError as exc:
        raise click.ClickException(f"cannot start the dashboard: {exc}") from None


def announce(url: str) -> None:
    click.echo(f"dashboard: {url}", err=True)


@click.command()
@click.option("--host", default=None, help="bind address (default dashboard.host, 127.0.0.1)")
@click.option("--port", type=int, default=None, help="port (default dashboard.port, 8080)")
def ui(host, port) -> None:
    """Serve the dashboard alone, against any cluster (README, Dashboard)."""
    settings = settings_for()
    if host is not None:
        settings.dashboard.host = host
    if port is not None:
        settings.dashboard.port = port
    check_dashboard(settings)

    async def go() -> None:
        from monitor.dashboard.server import run_dashboard

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if not await run_dashboard(settings, stop, on_listening=announce):
            raise click.ClickException(f"cannot listen on {settings.dashboard.host}:{settings.dashboard.port}")

    asyncio.run(go())
