"""`newsmon run`, `newsmon worker` and `newsmon watch ...`: the long-running processes."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import click

from monitor.cli.common import ensure_broker, local_kafka, settings_for
from monitor.kafka import admin
from monitor.kafka.security import aiokafka_options
from monitor.settings import Settings


@click.command()
@click.option("--inbox", "inbox", multiple=True, type=click.Path(path_type=Path), help="inbox directory (repeatable)")
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path), help="rules directory")
@click.option("--keep-broker", is_flag=True, help="leave the local broker running on exit")
@click.option("--quiet-alerts", is_flag=True, help="do not print alerts on stdout")
def run(inbox, rules_dir, keep_broker, quiet_alerts) -> None:
    """Run everything: local broker (unless KAFKA_BOOTSTRAP_SERVERS), worker, inbox watcher, alert printer,
    configured sinks."""
    settings = settings_for(inbox_dirs=list(inbox) or None, rules_dir=rules_dir)
    started = ensure_broker(settings)
    try:
        _run_worker(settings, watch_inbox=True, print_alerts=not quiet_alerts, run_sinks=True)
    finally:
        if started and not keep_broker:
            local_kafka(settings).down()
        elif started:  # kept on purpose: nobody's, so the next run uses it and leaves it alone
            from monitor.kafka.local.owner import release

            release(local_kafka(settings).data_dir)


@click.command()
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path), help="rules directory")
def worker(rules_dir) -> None:
    """Run only the stream worker (scale out by starting several)."""
    settings = settings_for(rules_dir=rules_dir)
    _run_worker(settings, watch_inbox=False, print_alerts=False)


def _run_worker(settings: Settings, *, watch_inbox: bool, print_alerts: bool, run_sinks: bool = False) -> None:
    import faust

    from monitor.errors import RuleFileError
    from monitor.rules.loader import RulesetError
    from monitor.watch.runner import Watchers
    from monitor.worker.app import create_app

    try:
        watchers = Watchers(settings) if watch_inbox else None
        app = create_app(settings, feed_health=watchers.feed_health if watchers else None)
    except (RulesetError, RuleFileError, ValueError) as exc:
        raise click.ClickException(f"cannot start, the configuration is invalid:\n{exc}") from None
    asyncio.run(admin.ensure_topics(settings))

    if watchers is not None:
        @app.task
        async def run_watchers() -> None:
            await watchers.run()

    @app.task
    async def say_ready() -> None:
        while not app.newsmon_ready()[0]:
            await asyncio.sleep(0.5)
        _log_ready(settings, app.newsmon_ready()[1], inbox=watch_inbox,
                   dashboard=run_sinks and settings.dashboard.enabled)

    if print_alerts:
        @app.task
        async def alert_printer() -> None:
            from monitor.alerts.tail import tail

            await tail(settings.resolved_bootstrap(), settings.topics.alerts, security=aiokafka_options(settings))

    if run_sinks and settings.dashboard.enabled:  # `newsmon run` serves the dashboard (README, Dashboard)
        from monitor.cli.ui import announce, check_dashboard

        check_dashboard(settings)

        @app.task
        async def dashboard() -> None:
            from monitor.dashboard.server import run_dashboard

            await run_dashboard(settings, on_listening=announce)

    if run_sinks and settings.sinks:
        from monitor.sinks.registry import build_sinks

        sinks = build_sinks(settings)  # a missing secret fails here, before anything starts

        @app.task
        async def configured_sinks() -> None:
            from monitor.sinks.runner import run_sinks as run_all

            await run_all(settings, sinks)

    faust.Worker(
        app, loglevel=settings.log_level.lower(), quiet=True, redirect_stdouts=False,
    ).execute_from_commandline()


def _log_ready(settings: Settings, rules: str, *, inbox: bool, dashboard: bool) -> None:
    """One plain line once the worker can take articles: what runs, and where."""
    from monitor.log import get_logger

    parts = [f"broker {settings.resolved_bootstrap()}"]
    if inbox:
        parts.append(f"inbox {', '.join(str(d) for d in settings.inbox_dirs)}")
        parts.append(f"feeds {settings.feeds_file}" if settings.feeds_file.exists()
                     else f"feeds none ({settings.feeds_file} absent, watched)")
    parts.append(f"rules {settings.rules_dir} ({rules})")
    if settings.http_enabled:
        parts.append(f"metrics http://{settings.http_host}:{settings.http_port}/metrics")
    if dashboard:
        parts.append(f"dashboard http://{settings.dashboard.host}:{settings.dashboard.port}/")
    get_logger("newsmon").info("newsmon ready: " + "; ".join(parts))


@click.group()
def watch() -> None:
    """Run a watcher on its own."""


def _run_watchers_alone(settings: Settings, *, inbox: bool, feeds: bool) -> None:
    from monitor.errors import RuleFileError
    from monitor.watch.runner import Watchers

    try:
        watchers = Watchers(settings, inbox=inbox, feeds=feeds)
    except (RuleFileError, ValueError) as exc:
        raise click.ClickException(f"cannot start, the configuration is invalid:\n{exc}") from None

    async def go() -> None:
        await admin.ensure_topics(settings, [settings.topics.raw])
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, watchers.stop)
        await watchers.run()

    asyncio.run(go())


@watch.command("files")
@click.option("--inbox", "inbox", multiple=True, type=click.Path(path_type=Path))
def watch_files(inbox) -> None:
    """Publish files dropped into the inbox directories to news.raw."""
    _run_watchers_alone(settings_for(inbox_dirs=list(inbox) or None), inbox=True, feeds=False)


@watch.command("feeds")
@click.option("--feeds", "feeds_file", type=click.Path(path_type=Path), help="feeds.yaml")
def watch_feeds(feeds_file) -> None:
    """Poll the feeds in feeds.yaml and publish new entries to news.raw."""
    settings = settings_for(feeds_file=feeds_file)
    if not settings.feeds_file.exists():
        raise click.ClickException(f"{settings.feeds_file} does not exist (see README, Feeds)")
    _run_watchers_alone(settings, inbox=False, feeds=True)
