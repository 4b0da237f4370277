"""`newsmon alerts ...`: follow alerts and manage silences."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC
from pathlib import Path

import click

from monitor.cli.common import settings_for
from monitor.kafka import admin
from monitor.kafka.security import aiokafka_options
from monitor.settings import Settings

TAIL_WAIT_SECONDS = 30  # how long `alerts tail` waits for a broker that is not up yet

@click.group()
def alerts() -> None:
    """Follow alerts; silence rules for a while."""


@alerts.command("tail")
@click.option("--topic", default=None, help="alert topic (default news.alerts)")
@click.option("--from-beginning", is_flag=True)
@click.option("--json", "as_json", is_flag=True, help="one JSON alert per line")
@click.option("--limit", type=int, default=None, help="exit after N alerts")
@click.option("--rule", "rules_", multiple=True, help="only these rule ids (repeatable)")
@click.option("--severity", default=None, help="minimum severity, e.g. high or '>=high'")
@click.option("--entity", "entities", multiple=True, help="only alerts mentioning this entity id (repeatable)")
@click.option("--since", default=None, help="start this long ago, e.g. 2h, 30m, 7d")
@click.option("--wait", "wait_forever", is_flag=True, help="wait for the broker as long as it takes")
@click.option("--wait-timeout", type=float, default=TAIL_WAIT_SECONDS, show_default=True, metavar="SECONDS",
              help="without --wait: give up when no broker answers within this")
def alerts_tail(topic, from_beginning, as_json, limit, rules_, severity, entities, since, wait_forever,
                wait_timeout) -> None:
    """Print alerts as they arrive. Uses no consumer group: it never steals messages."""
    from monitor.alerts.filter import alert_filter
    from monitor.alerts.tail import BrokerUnreachable, tail
    from monitor.durations import parse_min_severity, parse_seconds

    settings = settings_for()
    try:
        since_seconds = parse_seconds(since) if since else None
        wanted = alert_filter(rules_, parse_min_severity(severity) if severity else None, entities)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await tail(settings.resolved_bootstrap(), topic or settings.topics.alerts,
                   from_beginning=from_beginning, as_json=as_json, stop=stop, limit=limit,
                   since_seconds=since_seconds, wanted=wanted, security=aiokafka_options(settings),
                   wait_seconds=None if wait_forever else wait_timeout, waiting=waiting)

    bootstrap = settings.resolved_bootstrap()

    def waiting() -> None:
        until = "until it answers" if wait_forever else f"for up to {wait_timeout:g} s; --wait waits longer"
        click.echo(f"newsmon alerts tail: waiting for Kafka at {bootstrap} ({until}) ...", err=True)

    if limit is not None and limit < 1:
        raise click.BadParameter("must be at least 1", param_hint="--limit")
    try:
        asyncio.run(go())
    except BrokerUnreachable as exc:
        raise click.ClickException(f"{exc}; is `newsmon run` (or `newsmon kafka up`) running?") from None


@alerts.command("silence")
@click.argument("rule_id")
@click.option("--for", "duration", required=True, metavar="DURATION", help="how long, e.g. 30m, 4h, 7d")
@click.option("--key", default=None, help="only this group of the rule: the alert's group_key (per-story rules: the story id)")
@click.option("--reason", default="", help="why; shown by `alerts silences`")
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path), help="rules directory RULE_ID is checked against")
@click.option("--force", is_flag=True, help="silence a rule id the rules directory does not define")
def alerts_silence(rule_id, duration, key, reason, rules_dir, force) -> None:
    """Mute RULE_ID (or one group of it) for a while. Silenced matches are counted, not alerted."""
    from datetime import timedelta

    from monitor.durations import parse_seconds
    from monitor.kafka.silences import publish_silence
    from monitor.rules.silences import Silence

    settings = settings_for(rules_dir=rules_dir)
    try:
        seconds = parse_seconds(duration)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--for") from None
    if seconds <= 0:
        raise click.BadParameter("must be longer than zero", param_hint="--for")
    if not force:
        _check_rule_id(settings.rules_dir, rule_id)
    silence = Silence.create(rule_id, timedelta(seconds=seconds), key=key, reason=reason)
    _on_silences_topic(settings, lambda bootstrap, topic, security: publish_silence(bootstrap, topic, silence,
                                                                                   security=security))
    scope = f"group {key}" if key else "every group"
    click.echo(f"silenced {rule_id} ({scope}) until {_utc(silence.until)}, id {silence.id}")


@alerts.command("silences")
@click.option("--all", "show_all", is_flag=True, help="include expired silences")
@click.option("--json", "as_json", is_flag=True, help="one JSON silence per line")
def alerts_silences(show_all, as_json) -> None:
    """List silences in force, soonest to expire first, with the time left."""
    from monitor.kafka.silences import load_silences
    from monitor.models import utcnow

    settings = settings_for()
    silences = _on_silences_topic(settings, lambda bootstrap, topic, security: load_silences(
        bootstrap, topic, security=security))
    now = utcnow()
    listed = silences.all() if show_all else silences.current(now)
    for s in listed:
        if as_json:
            click.echo(s.model_dump_json())
            continue
        left = f"{_span(s.until - now)} left" if s.active(now) else f"expired {_span(now - s.until)} ago"
        click.echo(f"{s.id}  {s.rule_id}  key {s.key or '(any)'}  until {_utc(s.until)} ({left})"
                   f"  by {s.created_by or '?'}" + (f": {s.reason}" if s.reason else ""))
    if not listed and not as_json:
        click.echo("no silences" if show_all else "no silences in force")


@alerts.command("unsilence")
@click.argument("silence_ids", nargs=-1, required=True, metavar="ID...")
def alerts_unsilence(silence_ids) -> None:
    """Remove silences by id (as listed by `alerts silences`)."""
    from monitor.kafka.silences import load_silences, remove_silence

    settings = settings_for()

    async def remove(bootstrap: str, topic: str, security) -> list[str]:
        current = await load_silences(bootstrap, topic, security=security)
        unknown = [i for i in silence_ids if i not in current]
        if not unknown:
            for silence_id in silence_ids:
                await remove_silence(bootstrap, topic, silence_id, security=security)
        return unknown

    unknown = _on_silences_topic(settings, remove)
    if unknown:
        raise click.ClickException(f"no silence with id {', '.join(unknown)} (see `newsmon alerts silences --all`); "
                                   "nothing removed")
    for silence_id in silence_ids:
        click.echo(f"removed silence {silence_id}")


def _on_silences_topic(settings: Settings, action):
    """Run `action(bootstrap, topic, security)` once the compacted silences topic
    exists; an unreachable broker is a one-line error, not a traceback."""
    from aiokafka.errors import KafkaError


    async def go():
        await admin.ensure_topics(settings, [settings.topics.silences], attempts=3)
        return await action(settings.resolved_bootstrap(), settings.topics.silences, aiokafka_options(settings))

    try:
        return asyncio.run(go())
    except (KafkaError, RuntimeError) as exc:
        raise click.ClickException(f"cannot reach Kafka at {settings.resolved_bootstrap()}: {exc}") from None


def _check_rule_id(rules_dir: Path, rule_id: str) -> None:
    """A silence for a misspelt rule would silently mute nothing: refuse it,
    with the closest ids. A rules directory that does not load only warns."""
    from monitor.enrich.tag import Tagger
    from monitor.pipeline import load_rules
    from monitor.yamldoc import close_matches

    try:
        known = load_rules(rules_dir, Tagger.from_rules_dir(rules_dir)).by_id()
    except Exception as exc:  # noqa: BLE001 -- any load failure: we just cannot check
        click.echo(f"newsmon: warning: cannot check rule id against {rules_dir}: {exc}", err=True)
        return
    if rule_id not in known:
        close = close_matches(rule_id, known, n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise click.ClickException(f"{rules_dir} has no rule {rule_id!r}; {hint}(--force silences it anyway)")


def _utc(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _span(delta) -> str:
    """A time span as the two largest units: 3d4h, 2h5m, 4m10s."""
    seconds = max(0, int(delta.total_seconds()))
    parts = [(seconds // 86400, "d"), (seconds % 86400 // 3600, "h"), (seconds % 3600 // 60, "m"), (seconds % 60, "s")]
    while len(parts) > 1 and parts[0][0] == 0:
        parts.pop(0)
    return "".join(f"{n}{unit}" for i, (n, unit) in enumerate(parts[:2]) if n or i == 0)
