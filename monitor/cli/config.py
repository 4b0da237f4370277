"""`newsmon config show`: the effective configuration, secrets masked."""

from __future__ import annotations

import json

import click

from monitor.settings import load_settings


@click.group("config")
def config_cli() -> None:
    """The configuration: newsmon.yaml (NEWSMON_CONFIG) under environment variables."""


@config_cli.command("show")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of YAML")
def config_show(as_json: bool) -> None:
    """Print the effective configuration, secrets masked; exit 1 if it is invalid."""
    from monitor.settings.file import config_path

    path = config_path()
    settings = load_settings()
    effective = settings.model_dump(mode="json")  # SecretStr fields dump as '**********'
    effective["worker_id"] = settings.group_instance_id() or "none"  # the default, spelt out
    if as_json:
        click.echo(json.dumps(effective, indent=2))
        return
    from io import StringIO

    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip dumper: keeps the settings' order
    yaml.default_flow_style = False
    out = StringIO()
    yaml.dump(effective, out)
    source = f"{path} with environment overrides" if path else "environment only, no newsmon.yaml"
    click.echo(f"# effective configuration ({source})\n{out.getvalue()}", nl=False)
