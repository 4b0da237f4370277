"""`newsmon scan` and `newsmon rules ...`: the offline pipeline over files or a topic's history."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from monitor.cli.common import settings_for
from monitor.kafka.security import aiokafka_options
from monitor.settings import Settings


def _offline_pipeline(settings: Settings):
    from monitor.errors import RuleFileError, RulesetError
    from monitor.offline.scan import offline_pipeline

    try:
        return offline_pipeline(settings.rules_dir, settings.dedup_config())
    except (RulesetError, RuleFileError, ValueError) as exc:
        raise click.ClickException(f"rules are invalid:\n{exc}") from None


def _read_inputs(paths, settings: Settings, command: str):
    from monitor.offline.scan import read_inputs

    return read_inputs(paths, settings.max_file_bytes,
                       lambda path, exc: click.echo(f"newsmon {command}: {path}: {exc}", err=True))


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path), help="rules directory")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "text"]), default="jsonl")
def scan(paths, rules_dir, fmt) -> None:
    """Run the whole pipeline over files, without Kafka. One JSON object per article."""
    from monitor.offline.scan import scan_record

    settings = settings_for(rules_dir=rules_dir)
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


@click.group()
def rules() -> None:
    """Author and check rules."""


@rules.command("check")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def rules_check(directory) -> None:
    """Validate every rule file; exit non-zero on any error."""
    from monitor.enrich.tag import Tagger
    from monitor.offline.selftest import run_inline_tests
    from monitor.pipeline import load_rules
    from monitor.rules.loader import RulesetError

    settings = settings_for()
    directory = directory or settings.rules_dir
    try:
        tagger = Tagger.from_rules_dir(directory if directory.is_dir() else directory.parent)
        ruleset = load_rules(directory, tagger)
    except RulesetError as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        click.echo(f"{len(exc.errors)} error(s)", err=True)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 -- watchlist or event definitions invalid
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
    from monitor.offline.backtest import Report

    directory, paths = _rules_test_args(args, inputs, topic, since)
    settings = settings_for(rules_dir=directory)
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

    from monitor.durations import parse_seconds
    from monitor.kafka.history import TopicNotFound, first_of_each, read_articles
    from monitor.offline.backtest import replay_article

    try:
        since_ms = int((time.time() - parse_seconds(since)) * 1000) if since else None
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
    history, repeats = first_of_each(history)
    if repeats:
        click.echo(f"newsmon rules test: counted {repeats} repeated message(s) of {topic} once (same article id)",
                   err=True)
    for item in history:
        report.add(item.label, replay_article(report.pipeline, item.article, item.at))


@rules.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of rule files (for editor completion)."""
    from monitor.rules.schema import json_schema

    click.echo(json.dumps(json_schema(), indent=2))
