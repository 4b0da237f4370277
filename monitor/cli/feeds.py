"""`newsmon feeds ...`: the feeds list and its health."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.cli.common import settings_for


@click.group()
def feeds() -> None:
    """Manage the feeds list."""


@feeds.command("list")
@click.option("--feeds", "feeds_file", type=click.Path(path_type=Path), help="feeds.yaml")
def feeds_list(feeds_file) -> None:
    """Each feed with its health: last success, last error, next poll, items seen."""
    from monitor.watch.feeds import FeedConfigError, load_feeds, load_state

    settings = settings_for(feeds_file=feeds_file)
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

    settings = settings_for(feeds_file=feeds_file)
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
