"""`newsmon` command line."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from datetime import timezone
from pathlib import Path

import click

from monitor.config import Settings, load_settings
from monitor.kafka_security import aiokafka_options
from monitor.log import configure_logging, get_logger

log = get_logger("newsmon")


def _settings(**overrides) -> Settings:
    settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _local_kafka(settings: Settings):
    from monitor.kafka_local import LocalKafka

    return LocalKafka(port=settings.kafka_port)


def _ensure_broker(settings: Settings) -> bool:
    """Start the embedded broker unless an external one is configured.

    Returns True when this process started it (and so should stop it)."""
    if settings.bootstrap_servers:
        return False
    kafka = _local_kafka(settings)
    if kafka.status().answering:
        return False
    click.echo(f"starting local Kafka broker on {kafka.bootstrap} ...", err=True)
    kafka.up()
    return True


@click.group()
def main() -> None:
    """newsmon: a streaming news monitor."""


# --------------------------------------------------------------------- daemon


@main.command()
@click.option("--inbox", "inbox", multiple=True, type=click.Path(path_type=Path), help="inbox directory (repeatable)")
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path), help="rules directory")
@click.option("--keep-broker", is_flag=True, help="leave the local broker running on exit")
@click.option("--quiet-alerts", is_flag=True, help="do not print alerts on stdout")
def run(inbox, rules_dir, keep_broker, quiet_alerts) -> None:
    """Run everything: local broker (unless KAFKA_BOOTSTRAP_SERVERS), worker, inbox watcher, alert printer,
    configured sinks."""
    settings = _settings(inbox_dirs=list(inbox) or None, rules_dir=rules_dir)
    started = _ensure_broker(settings)
    try:
        _run_worker(settings, watch_inbox=True, print_alerts=not quiet_alerts, run_sinks=True)
    finally:
        if started and not keep_broker:
            _local_kafka(settings).down()


@main.command()
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path), help="rules directory")
def worker(rules_dir) -> None:
    """Run only the stream worker (scale out by starting several)."""
    settings = _settings(rules_dir=rules_dir)
    _run_worker(settings, watch_inbox=False, print_alerts=False)


def _run_worker(settings: Settings, *, watch_inbox: bool, print_alerts: bool, run_sinks: bool = False) -> None:
    import faust

    from monitor.enrich.yamlfile import RuleFileError
    from monitor.rules.loader import RulesetError
    from monitor.stream.app import create_app
    from monitor.stream.topics import ensure_topics
    from monitor.watch.runner import Watchers

    try:
        watchers = Watchers(settings) if watch_inbox else None
        app = create_app(settings, feed_health=watchers.feed_health if watchers else None)
    except (RulesetError, RuleFileError, ValueError) as exc:
        raise click.ClickException(f"cannot start, the configuration is invalid:\n{exc}") from None
    asyncio.run(ensure_topics(settings))

    if watchers is not None:
        @app.task
        async def run_watchers() -> None:
            await watchers.run()

    if print_alerts:
        @app.task
        async def alert_printer() -> None:
            from monitor.sinks.console import tail

            await tail(settings.resolved_bootstrap(), settings.topics.alerts, security=aiokafka_options(settings))

    if run_sinks and settings.dashboard.enabled:  # `newsmon run` serves the dashboard (README, Dashboard)
        _check_dashboard(settings)

        @app.task
        async def dashboard() -> None:
            from monitor.dashboard.server import run_dashboard

            await run_dashboard(settings, on_listening=lambda url: click.echo(f"dashboard: {url}", err=True))

    if run_sinks and settings.sinks:
        from monitor.sinks.base import build_sinks

        sinks = build_sinks(settings)  # a missing secret fails here, before anything starts

        @app.task
        async def configured_sinks() -> None:
            from monitor.sinks.base import run_sinks as run_all

            await run_all(settings, sinks)

    faust.Worker(
        app, loglevel=settings.log_level.lower(), quiet=True, redirect_stdouts=False,
    ).execute_from_commandline()


def _check_dashboard(settings: Settings) -> None:
    """A dashboard login that cannot work fails at start, not at first use."""
    from monitor.dashboard.auth import Auth, AuthConfigError

    try:
        Auth(settings.dashboard)
    except AuthConfigError as exc:
        raise click.ClickException(f"cannot start the dashboard: {exc}") from None


@main.command()
@click.option("--host", default=None, help="bind address (default dashboard.host, 127.0.0.1)")
@click.option("--port", type=int, default=None, help="port (default dashboard.port, 8080)")
def ui(host, port) -> None:
    """Serve the dashboard alone, against any cluster (README, Dashboard)."""
    settings = _settings()
    if host is not None:
        settings.dashboard.host = host
    if port is not None:
        settings.dashboard.port = port
    _check_dashboard(settings)

    async def go() -> None:
        from monitor.dashboard.server import run_dashboard

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if not await run_dashboard(settings, stop,
                                   on_listening=lambda url: click.echo(f"dashboard: {url}", err=True)):
            raise click.ClickException(f"cannot listen on {settings.dashboard.host}:{settings.dashboard.port}")

    asyncio.run(go())


@main.group()
def watch() -> None:
    """Run a watcher on its own."""


def _run_watchers_alone(settings: Settings, *, inbox: bool, feeds: bool) -> None:
    from monitor.enrich.yamlfile import RuleFileError
    from monitor.stream.topics import ensure_topics
    from monitor.watch.runner import Watchers

    try:
        watchers = Watchers(settings, inbox=inbox, feeds=feeds)
    except (RuleFileError, ValueError) as exc:
        raise click.ClickException(f"cannot start, the configuration is invalid:\n{exc}") from None

    async def go() -> None:
        await ensure_topics(settings, [settings.topics.raw])
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, watchers.stop)
        await watchers.run()

    asyncio.run(go())


@watch.command("files")
@click.option("--inbox", "inbox", multiple=True, type=click.Path(path_type=Path))
def watch_files(inbox) -> None:
    """Publish files dropped into the inbox directories to news.raw."""
    _run_watchers_alone(_settings(inbox_dirs=list(inbox) or None), inbox=True, feeds=False)


@watch.command("feeds")
@click.option("--feeds", "feeds_file", type=click.Path(path_type=Path), help="feeds.yaml")
def watch_feeds(feeds_file) -> None:
    """Poll the feeds in feeds.yaml and publish new entries to news.raw."""
    settings = _settings(feeds_file=feeds_file)
    if not settings.feeds_file.exists():
        raise click.ClickException(f"{settings.feeds_file} does not exist (see README, Feeds)")
    _run_watchers_alone(settings, inbox=False, feeds=True)


@main.group()
def feeds() -> None:
    """Manage the feeds list."""


@feeds.command("list")
@click.option("--feeds", "feeds_file", type=click.Path(path_type=Path), help="feeds.yaml")
def feeds_list(feeds_file) -> None:
    """Each feed with its health: last success, last error, next poll, items seen."""
    from monitor.watch.feeds import FeedConfigError, load_feeds, load_state

    settings = _settings(feeds_file=feeds_file)
    try:
        feed_list = load_feeds(settings.feeds_file)
    except (FeedConfigError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    states = load_state(settings.feeds_state)
    for feed in feed_list:
        state = states.get(feed.name)
        h = state.health if state else None
        status = "disabled" if not feed.enabled else ("never polled" if h is None else ("ok" if h.healthy else "UNHEALTHY"))
        click.echo(f"{feed.name}  [{status}]  {feed.url}  every {feed.interval:g}s")
        if h is not None:
            click.echo(f"    last success {h.last_success or '-'}  next poll {h.next_poll or '-'}  items seen {h.items_seen}")
            if h.last_error:
                click.echo(f"    last error {h.last_error_at}: {h.last_error}")


@feeds.command("import")
@click.argument("opml", type=click.Path(exists=True, path_type=Path))
@click.option("--feeds", "feeds_file", type=click.Path(path_type=Path), help="feeds.yaml to add to")
def feeds_import(opml, feeds_file) -> None:
    """Add the feeds of an OPML subscription list to feeds.yaml (existing URLs are kept)."""
    from ruamel.yaml import YAML

    from monitor.watch.feeds import FeedConfigError, import_opml, load_feeds

    settings = _settings(feeds_file=feeds_file)
    try:
        current = load_feeds(settings.feeds_file) if settings.feeds_file.exists() else []
        imported = import_opml(opml)
    except (FeedConfigError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    known_urls, known_names = {f.url for f in current}, {f.name for f in current}
    added = [f for f in imported if f.url not in known_urls and f.name not in known_names]
    doc = {"feeds": [f.model_dump(exclude_defaults=True) | {"name": f.name, "url": f.url} for f in current + added]}
    yaml = YAML()
    yaml.default_flow_style = False
    with settings.feeds_file.open("w", encoding="utf-8") as fh:
        yaml.dump(doc, fh)
    click.echo(f"added {len(added)} feed(s), skipped {len(imported) - len(added)} already present; {settings.feeds_file}")


# --------------------------------------------------------------------- alerts


@main.group()
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
def alerts_tail(topic, from_beginning, as_json, limit, rules_, severity, entities, since) -> None:
    """Print alerts as they arrive. Uses no consumer group: it never steals messages."""
    from monitor.sinks.console import alert_filter, parse_duration, parse_min_severity, tail

    settings = _settings()
    try:
        since_seconds = parse_duration(since) if since else None
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
                   since_seconds=since_seconds, wanted=wanted, security=aiokafka_options(settings))

    asyncio.run(go())


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

    from monitor.rules.silences import Silence
    from monitor.sinks.console import parse_duration
    from monitor.stream.silences import publish_silence

    settings = _settings(rules_dir=rules_dir)
    try:
        seconds = parse_duration(duration)
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
    from monitor.models import utcnow
    from monitor.stream.silences import load_silences

    settings = _settings()
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
    from monitor.stream.silences import load_silences, remove_silence

    settings = _settings()

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

    from monitor.stream.topics import ensure_topics

    async def go():
        await ensure_topics(settings, [settings.topics.silences], attempts=3)
        return await action(settings.resolved_bootstrap(), settings.topics.silences, aiokafka_options(settings))

    try:
        return asyncio.run(go())
    except (KafkaError, RuntimeError) as exc:
        raise click.ClickException(f"cannot reach Kafka at {settings.resolved_bootstrap()}: {exc}") from None


def _check_rule_id(rules_dir: Path, rule_id: str) -> None:
    """A silence for a misspelt rule would silently mute nothing: refuse it,
    with the closest ids. A rules directory that does not load only warns."""
    import difflib

    from monitor.enrich.tag import Tagger
    from monitor.pipeline import load_rules

    try:
        known = load_rules(rules_dir, Tagger.from_rules_dir(rules_dir)).by_id()
    except Exception as exc:  # noqa: BLE001 -- any load failure: we just cannot check
        click.echo(f"newsmon: warning: cannot check rule id against {rules_dir}: {exc}", err=True)
        return
    if rule_id not in known:
        close = difflib.get_close_matches(rule_id, list(known), n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise click.ClickException(f"{rules_dir} has no rule {rule_id!r}; {hint}(--force silences it anyway)")


def _utc(moment) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _span(delta) -> str:
    """A time span as the two largest units: 3d4h, 2h5m, 4m10s."""
    seconds = max(0, int(delta.total_seconds()))
    parts = [(seconds // 86400, "d"), (seconds % 86400 // 3600, "h"), (seconds % 3600 // 60, "m"), (seconds % 60, "s")]
    while len(parts) > 1 and parts[0][0] == 0:
        parts.pop(0)
    return "".join(f"{n}{unit}" for i, (n, unit) in enumerate(parts[:2]) if n or i == 0)


# --------------------------------------------------------------------- kafka


@main.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def kafka(args) -> None:
    """Manage the embedded local broker: up | down | status | jars [--port N] [--data-dir D]."""
    from monitor.kafka_local import main as kafka_main

    sys.exit(kafka_main(list(args) or ["--help"]))


# --------------------------------------------------------------------- offline


def scan_record(result) -> dict:
    """One line of `newsmon scan` output (schema documented in README)."""
    article = result.article
    return {
        "id": article.id,
        "title": article.title,
        "published": article.published.isoformat() if article.published else None,
        "source": article.agency or article.source,
        "dateline": article.dateline,
        "text": article.text,
        "duplicate_of": article.duplicate_of,
        "dup_kind": article.dup_kind,
        "similarity": article.similarity,
        "story_id": article.story_id,
        "entities": [e.model_dump(mode="json") for e in article.entities],
        "events": [e.model_dump(mode="json") for e in article.events],
        "alerts": [
            {"rule_id": a.rule_id, "alert_id": a.id, "severity": a.severity, "action": a.action}
            for a in result.alerts
        ],
    }


def _offline_pipeline(settings: Settings):
    """The pipeline `scan` and `rules test` run: the daemon's, with in-memory state."""
    from monitor.enrich.yamlfile import RuleFileError
    from monitor.pipeline import Pipeline
    from monitor.rules.loader import RulesetError

    try:
        return Pipeline.from_rules_dir(settings.rules_dir, dedup_config=settings.dedup_config())
    except (RulesetError, RuleFileError, ValueError) as exc:
        raise click.ClickException(f"rules are invalid:\n{exc}") from None


def _read_inputs(paths, settings: Settings, command: str):
    """(path, raw articles) per input file, in the order given; an unreadable
    input gives a one-line error on stderr and is skipped."""
    from monitor.watch.files import RejectedFile
    from monitor.watch.reader import read_path

    for path in paths:
        try:
            raws = read_path(path, settings.max_file_bytes)
        except (RejectedFile, OSError) as exc:
            click.echo(f"newsmon {command}: {path}: {exc}", err=True)
            continue
        yield path, raws


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path), help="rules directory")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "text"]), default="jsonl")
def scan(paths, rules_dir, fmt) -> None:
    """Run the whole pipeline over files, without Kafka. One JSON object per article."""
    settings = _settings(rules_dir=rules_dir)
    pipeline = _offline_pipeline(settings)
    read_any = False
    for path, raws in _read_inputs(paths, settings, "scan"):
        read_any = True
        for raw in raws:
            result = pipeline.process(raw)
            record = scan_record(result)
            if fmt == "jsonl":
                click.echo(json.dumps(record, ensure_ascii=False))
            else:
                dup = f" duplicate of {record['duplicate_of']} ({record['dup_kind']})" if record["duplicate_of"] else ""
                fired = ", ".join(f"{a['rule_id']}:{a['action']}" for a in record["alerts"]) or "no alerts"
                click.echo(f"{path}: {record['title'] or record['id']}{dup} story {record['story_id']} -> {fired}")
    if not read_any:
        sys.exit(1)


@main.group()
def rules() -> None:
    """Author and check rules."""


@rules.command("check")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def rules_check(directory) -> None:
    """Validate every rule file; exit non-zero on any error."""
    from monitor.enrich.tag import Tagger
    from monitor.pipeline import load_rules
    from monitor.rules.loader import RulesetError
    from monitor.rules.selftest import run_inline_tests

    settings = _settings()
    directory = directory or settings.rules_dir
    try:
        tagger = Tagger.from_rules_dir(directory if directory.is_dir() else directory.parent)
        ruleset = load_rules(directory, tagger)
    except RulesetError as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        click.echo(f"{len(exc.errors)} error(s)", err=True)
        sys.exit(1)
    except Exception as exc:  # watchlist or event definitions invalid
        click.echo(f"{directory}: error: {exc}", err=True)
        sys.exit(1)
    for warning in ruleset.warnings:
        click.echo(str(warning), err=True)
    failures = run_inline_tests(ruleset, tagger)
    for failure in failures:
        click.echo(str(failure), err=True)
    tests = sum(len(lr.rule.tests.fire) + len(lr.rule.tests.no_fire) for lr in ruleset.rules)
    if failures:
        click.echo(f"{len(failures)} of {tests} inline test(s) failed", err=True)
        sys.exit(1)
    click.echo(f"{len(ruleset.rules)} rule(s) OK, {tests} inline test(s) passed")


@rules.command("test")
@click.argument("args", nargs=-1, type=click.Path(path_type=Path), metavar="[DIR]")
@click.option("--input", "inputs", multiple=True, type=click.Path(path_type=Path),
              help="article or feed files, replayed in the order given; one --input takes several paths")
@click.option("--from-topic", "topic", default=None, metavar="TOPIC",
              help="backtest on the articles the daemon published to this topic, e.g. news.articles")
@click.option("--since", default=None, metavar="DURATION",
              help="with --from-topic: only messages of the last 24h, 30m, 7d, ... (default all)")
@click.option("--json", "as_json", is_flag=True, help="the report as one JSON object")
def rules_test(args, inputs, topic, since, as_json) -> None:
    """Which rules in DIR would fire, on which articles, and why. Emits no alerts.

    DIR (default: the rules directory) may hold candidate rules, watchlists
    and events; the whole offline pipeline runs, stateful rules included."""
    from monitor.rules.backtest import Report

    directory, paths = _rules_test_args(args, inputs, topic, since)
    settings = _settings(rules_dir=directory)
    pipeline = _offline_pipeline(settings)
    report = Report(pipeline)
    if topic is not None:
        _backtest_topic(report, settings, topic, since)
    else:
        read_any = False
        for path, raws in _read_inputs(paths, settings, "rules test"):
            read_any = True
            for raw in raws:
                report.add(str(path), pipeline.process(raw))
        if not read_any:
            sys.exit(1)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        click.echo("\n".join(report.lines()))


def _rules_test_args(args, inputs, topic, since) -> tuple[Path | None, list[Path]]:
    """The rules DIR and the input files. Click gives `--input a b c` as
    input a plus positional b and c: the one directory among the positionals
    is DIR, the files continue the --input list."""
    dirs = [p for p in args if p.is_dir()]
    files = [p for p in args if not p.is_dir()]
    if len(dirs) > 1:
        raise click.UsageError(f"one rules DIR only, got {', '.join(map(str, dirs))}")
    if files and not inputs:
        raise click.UsageError(f"{files[0]} is not a directory; put article files after --input")
    if files and len(inputs) > 1:
        raise click.UsageError("give the files after one --input, or one --input per file, not both")
    if (topic is None) == (not inputs):
        raise click.UsageError("give either --input PATH... or --from-topic TOPIC")
    if since is not None and topic is None:
        raise click.UsageError("--since applies to --from-topic only")
    return (dirs[0] if dirs else None), [*inputs, *files]


def _backtest_topic(report, settings: Settings, topic: str, since: str | None) -> None:
    """Replay what the daemon published to `topic` through the candidate rules."""
    import time

    from aiokafka.errors import KafkaError

    from monitor.rules.backtest import replay_article
    from monitor.sinks.console import parse_duration
    from monitor.stream.history import TopicNotFound, read_articles

    try:
        since_ms = int((time.time() - parse_duration(since)) * 1000) if since else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    try:
        history, unreadable = asyncio.run(read_articles(settings.resolved_bootstrap(), topic, since_ms,
                                                        security=aiokafka_options(settings)))
    except TopicNotFound as exc:
        raise click.ClickException(str(exc)) from None
    except KafkaError as exc:
        raise click.ClickException(f"cannot read {topic} from Kafka at {settings.resolved_bootstrap()}: {exc}") from None
    if unreadable:
        click.echo(f"newsmon rules test: skipped {unreadable} message(s) of {topic} that are not articles", err=True)
    for item in history:
        report.add(item.label, replay_article(report.pipeline, item.article, item.at))


@rules.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of rule files (for editor completion)."""
    from monitor.rules.schema import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@main.command("schema")
@click.argument("model", type=click.Choice(["raw", "article", "alert"]))
def schema(model) -> None:
    """Print the JSON Schema of a topic's messages (news.raw, news.articles, news.alerts)."""
    from monitor.models import Alert, Article, RawArticle

    cls = {"raw": RawArticle, "article": Article, "alert": Alert}[model]
    click.echo(json.dumps(cls.model_json_schema(), indent=2))


from monitor.configfile import config_cli  # noqa: E402
from monitor.sinks.cli import sink_cli  # noqa: E402

main.add_command(sink_cli)
main.add_command(config_cli)

if __name__ == "__main__":
    main()
