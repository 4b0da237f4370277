"""`newsmon sink ...`: run one sink from the command line, or the configured ones."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from monitor.settings.sinks import EmailSinkConfig, JsonlSinkConfig, SinkConfigBase, WebhookSinkConfig

STOP_GRACE = 15.0  # seconds between SIGTERM and cancelling a delivery still under way


def _common(fn: Callable) -> Callable:
    options = [
        click.option("--name", default="", help="sink name = consumer group <app_id>-sink-<name>; "
                     "default: type + hash of the target, stable across restarts"),
        click.option("--topic", default=None, help="alert topic (default news.alerts)"),
        click.option("--rule", "rules", multiple=True, help="only these rule ids (repeatable)"),
        click.option("--severity", default=None, help="minimum severity, e.g. high or '>=high'"),
        click.option("--entity", "entities", multiple=True, help="only alerts mentioning this entity id (repeatable)"),
        click.option("--start", type=click.Choice(["earliest", "latest"]), default="earliest", show_default=True,
                     help="where a new sink (no committed offset) starts"),
        click.option("--max-attempts", type=int, default=5, show_default=True,
                     help="delivery attempts before the dead-letter topic"),
        click.option("--retry-base", type=float, default=1.0, show_default=True,
                     help="first retry delay, seconds (doubles, with jitter)"),
        click.option("--retry-cap", type=float, default=60.0, show_default=True, help="longest retry delay, seconds"),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _config(cls: type[SinkConfigBase], severity: str | None, **values: Any) -> SinkConfigBase:
    from monitor.durations import parse_min_severity

    try:
        min_severity = parse_min_severity(severity) if severity else None
        return cls.model_validate({**values, "min_severity": min_severity,
                                   "rules": list(values["rules"]), "entities": list(values["entities"])})
    except ValueError as exc:  # pydantic's ValidationError is a ValueError too
        if isinstance(exc, ValidationError):
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "sink"
            raise click.UsageError(f"{where}: {err['msg'].removeprefix('Value error, ')}") from None
        raise click.BadParameter(str(exc), param_hint="--severity") from None


def _run(configs: list[SinkConfigBase] | None) -> None:
    """Run sinks until SIGINT/SIGTERM; a delivery still under way after the grace
    period is cancelled (its alert is not committed, so it comes again)."""
    from monitor.log import configure_logging
    from monitor.settings import load_settings
    from monitor.sinks.registry import build_sinks
    from monitor.sinks.runner import run_sinks

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    sinks = build_sinks(settings, configs)
    if not sinks:
        raise click.ClickException("no sinks configured (add a `sinks:` list to newsmon.yaml, see README)")

    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()

        def on_signal() -> None:
            if stop.is_set():
                task.cancel()  # second signal: now
            else:
                stop.set()
                loop.call_later(STOP_GRACE, task.cancel)

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal)
        try:
            await run_sinks(settings, sinks, stop)
        except asyncio.CancelledError:
            pass

    asyncio.run(go())


@click.group("sink")
def sink_cli() -> None:
    """Deliver alerts: webhook (or Slack), JSONL file, email. Each sink is its own
    consumer group and commits only after delivery (at-least-once)."""


@sink_cli.command("run")
@click.option("--only", "only", multiple=True, help="run only the configured sink(s) with this name")
def sink_run(only: tuple[str, ...]) -> None:
    """Run the sinks configured in newsmon.yaml (NEWSMON_CONFIG)."""
    from monitor.settings import load_settings

    configured = load_settings().sinks
    unknown = set(only) - {s.name for s in configured}
    if unknown:
        raise click.BadParameter(f"no configured sink named {', '.join(sorted(unknown))}; configured: "
                                 f"{', '.join(s.name for s in configured) or 'none'}", param_hint="--only")
    _run([s for s in configured if not only or s.name in only])


@sink_cli.command("status")
@click.argument("names", nargs=-1)
@click.option("--topic", default=None, help="alert topic of sinks not in newsmon.yaml (default news.alerts)")
@click.option("--check", is_flag=True, help="exit 1 unless every sink's consumer group has a live member")
def sink_status(names: tuple[str, ...], topic: str | None, check: bool) -> None:
    """Consumer group state and lag of the configured sinks, or of the sinks NAMES
    (e.g. one started with `newsmon sink webhook ... --name NAME`)."""
    from monitor.settings import load_settings
    from monitor.sinks.status import sink_statuses

    settings = load_settings()
    configured = [s.name for s in settings.sinks]
    if not names and not configured:
        raise click.ClickException("no sinks configured; name the sinks to look at")
    try:
        statuses = asyncio.run(sink_statuses(settings, list(names) or configured, topic))
    except Exception as exc:  # noqa: BLE001 -- KafkaError, connection refused: one line, not a traceback
        raise click.ClickException(f"cannot ask Kafka at {settings.resolved_bootstrap()}: {exc}") from None
    for status in statuses:
        click.echo(status.line())
    if check and not all(s.alive for s in statuses):
        raise click.ClickException("not running: " + ", ".join(s.name for s in statuses if not s.alive))


@sink_cli.command("webhook")
@click.argument("url")
@click.option("--secret", default=None, envvar="NEWSMON_WEBHOOK_SECRET", show_envvar=True,
              help="HMAC-SHA256 key for X-Newsmon-Signature (prefer the environment variable)")
@click.option("--secret-env", default=None, help="name of another environment variable holding the key")
@click.option("--slack", is_flag=True, help="Slack incoming-webhook payload instead of the alert JSON")
@click.option("--timeout", type=float, default=10.0, show_default=True, help="seconds per request")
@_common
def sink_webhook(url: str, secret: str | None, secret_env: str | None, slack: bool, timeout: float,
                 severity: str | None, **common: Any) -> None:
    """POST each alert to URL, signed, with retries; failures go to the dead-letter topic."""
    _run([_config(WebhookSinkConfig, severity, type="webhook", url=url, secret=secret or None, secret_env=secret_env,
                  format="slack" if slack else "json", timeout=timeout, **common)])


@sink_cli.command("jsonl")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--max-bytes", type=int, default=100 * 1024 * 1024, show_default=True, help="rotate at this size")
@click.option("--keep", type=int, default=5, show_default=True, help="rotated files to keep")
@_common
def sink_jsonl(path: Path, max_bytes: int, keep: int, severity: str | None, **common: Any) -> None:
    """Append each alert as one JSON line to PATH, rotating by size."""
    _run([_config(JsonlSinkConfig, severity, type="jsonl", path=path, max_bytes=max_bytes, keep=keep, **common)])


@sink_cli.command("email")
@click.option("--to", "to", multiple=True, required=True, help="recipient (repeatable)")
@click.option("--from", "sender", required=True, help="sender address")
@click.option("--host", default="localhost", show_default=True, help="SMTP server")
@click.option("--port", type=int, default=25, show_default=True)
@click.option("--tls", type=click.Choice(["auto", "starttls", "tls", "none"]), default="auto", show_default=True)
@click.option("--username", default=None)
@click.option("--password-env", default=None, help="environment variable holding the SMTP password")
@click.option("--subject", default="[newsmon {severity}] {title}", show_default=True)
@_common
def sink_email(to: tuple[str, ...], sender: str, host: str, port: int, tls: str, username: str | None,
               password_env: str | None, subject: str, severity: str | None, **common: Any) -> None:
    """Email each alert over SMTP (needs the `email` extra: aiosmtplib)."""
    _run([_config(EmailSinkConfig, severity, type="email", to=list(to), sender=sender, host=host, port=port,
                  tls=tls, username=username, password_env=password_env, subject=subject, **common)])
