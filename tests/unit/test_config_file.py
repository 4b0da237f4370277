"""newsmon.yaml: file values under environment overrides, clear errors, `config show`."""

from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from monitor.cli import main
from monitor.settings import Settings

pytestmark = pytest.mark.usefixtures("clean_settings_env")

CONFIG = """\
app_id: from-file
kafka_port: 19999
bootstrap_servers: file-broker:9092
topics: {prefix: "file."}
sinks:
  - type: webhook
    name: desk
    url: https://hooks.example.com/services/T0/B0/tok3n
    secret: hunter2
    format: slack
    min_severity: high
  - type: jsonl
    path: archive/alerts.jsonl
    keep: 3
  - type: email
    name: mail
    sender: newsmon@example.org
    to: [desk@example.org]
    username: newsmon
    password: pa55word
"""


def write(tmp_path, text: str, name: str = "newsmon.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_file_values_apply_and_environment_overrides_them(tmp_path, monkeypatch):
    write(tmp_path, CONFIG)  # ./newsmon.yaml is found without NEWSMON_CONFIG
    from_file = Settings()
    assert (from_file.app_id, from_file.kafka_port, from_file.resolved_bootstrap()) == ("from-file", 19999, "file-broker:9092")
    assert from_file.topics.alerts == "file.news.alerts"
    assert [s.type for s in from_file.sinks] == ["webhook", "jsonl", "email"]
    assert from_file.sinks[0].min_severity == "high" and from_file.sinks[1].keep == 3
    assert from_file.sinks[1].name.startswith("jsonl-")  # a stable default name

    monkeypatch.setenv("NEWSMON_APP_ID", "from-env")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "env-broker:9092")
    monkeypatch.setenv("NEWSMON_TOPIC_PREFIX", "env.")
    overridden = Settings()
    assert overridden.app_id == "from-env" and overridden.resolved_bootstrap() == "env-broker:9092"
    assert overridden.topics.alerts == "env.news.alerts"
    assert overridden.kafka_port == 19999  # not overridden: still the file's


def test_newsmon_config_names_the_file(tmp_path, monkeypatch):
    path = write(tmp_path, "app_id: elsewhere\n", name="conf.yaml")
    monkeypatch.setenv("NEWSMON_CONFIG", str(path))
    assert Settings().app_id == "elsewhere"
    monkeypatch.setenv("NEWSMON_CONFIG", str(tmp_path / "missing.yaml"))
    result = CliRunner().invoke(main, ["config", "show"])
    assert result.exit_code == 1 and "missing.yaml: no such file" in result.output


@pytest.mark.parametrize("text, error", [
    ("app_id: x\nsinkz: []\n", "newsmon.yaml:2: unknown key 'sinkz' (did you mean 'sinks'?)"),
    ("kafka_port: lots\n", "newsmon.yaml:1: kafka_port: Input should be a valid integer"),
    ("partitions: 0\n", "newsmon.yaml:1: partitions: Input should be greater than or equal to 1"),
    ("sinks:\n  - type: webhook\n    urll: https://x.example\n",
     "newsmon.yaml:3: sinks[0].urll: unknown key (did you mean 'url'?)"),
    ("sinks:\n  - type: jsonl\n    path: a\n  - type: webhok\n    url: https://x.example\n",
     "newsmon.yaml:4: sinks[1].type: unknown type 'webhok' (did you mean 'webhook'?); one of webhook, jsonl, email"),
    ("sinks:\n  - type: webhook\n    url: ftp://x.example\n",
     "newsmon.yaml:3: sinks[0].url: must be an http:// or https:// URL with a host"),
    ("sinks:\n  - type: email\n    sender: a@example.org\n",
     "newsmon.yaml:2: sinks[0].to: Field required"),
    ("sinks:\n  - {type: jsonl, name: x, path: a}\n  - {type: jsonl, name: x, path: b}\n",
     "sinks: two sinks are named 'x'"),
    ("sinks: [\n", "newsmon.yaml:2: YAML syntax error"),
])
def test_invalid_config_is_one_clear_error_naming_the_key(tmp_path, text, error):
    write(tmp_path, text)
    for args in (["config", "show"], ["worker"], ["sink", "run"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, (args, result.output)
        assert error in result.output and "Traceback" not in result.output, (args, result.output)


def test_config_show_masks_every_secret(tmp_path):
    write(tmp_path, CONFIG)
    as_yaml = CliRunner().invoke(main, ["config", "show"])
    as_json = CliRunner().invoke(main, ["config", "show", "--json"])
    assert as_yaml.exit_code == 0 and as_json.exit_code == 0, as_yaml.output + as_json.output
    for output in (as_yaml.output, as_json.output):
        for secret in ("hunter2", "pa55word", "tok3n", "services/T0"):
            assert secret not in output
    shown = json.loads(as_json.output)
    assert YAML(typ="safe").load(as_yaml.output) == shown
    desk, _, mail = shown["sinks"]
    assert desk["secret"] == "**********" and desk["url"] == "https://hooks.example.com/**********"
    assert mail["password"] == "**********" and mail["username"] == "newsmon"
    assert shown["app_id"] == "from-file" and shown["kafka_port"] == 19999


def test_sink_whose_secret_variable_is_unset_does_not_start(tmp_path):
    write(tmp_path, """\
        sinks:
          - {type: webhook, name: desk, url: "https://x.example/hook", secret_env: DESK_HOOK_SECRET}
        """)
    result = CliRunner().invoke(main, ["sink", "run"])
    assert result.exit_code == 1
    assert "Error: sink 'desk': secret_env: environment variable DESK_HOOK_SECRET is not set" in result.output


def test_sink_run_without_sinks_says_how_to_add_them(tmp_path):
    result = CliRunner().invoke(main, ["sink", "run"])
    assert result.exit_code == 1 and "no sinks configured" in result.output


def test_shipped_example_is_valid_and_shows_every_sink_type(monkeypatch):
    from monitor.settings import REPO_ROOT

    monkeypatch.setenv("NEWSMON_CONFIG", str(REPO_ROOT / "newsmon.example.yaml"))
    settings = Settings()
    assert {s.type for s in settings.sinks} == {"webhook", "jsonl", "email"}
    assert any(s.type == "webhook" and s.format == "slack" for s in settings.sinks)
    assert len({s.name for s in settings.sinks}) == len(settings.sinks)


def test_readme_config_example_is_valid(tmp_path):
    import re

    from monitor.settings import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text()
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "\nsinks:" in b and "app_id:" in b]
    write(tmp_path, block)
    settings = Settings()
    assert [s.name for s in settings.sinks] == ["incidents", "slack-desk", "archive"]


def test_config_show_spells_out_the_default_worker_id(tmp_path, monkeypatch):
    import socket

    shown = CliRunner().invoke(main, ["config", "show"])
    assert shown.exit_code == 0, shown.output
    assert f"worker_id: newsmon-{socket.gethostname()}\n" in shown.output  # README: <app_id>-<hostname>
    monkeypatch.setenv("NEWSMON_WORKER_ID", "none")
    assert json.loads(CliRunner().invoke(main, ["config", "show", "--json"]).output)["worker_id"] == "none"


def test_story_ttl_comes_from_the_environment_and_must_be_positive(monkeypatch):
    assert Settings().story_config() is None  # the clusterer's own default
    monkeypatch.setenv("NEWSMON_STORY_TTL_HOURS", "0.25")
    assert Settings().story_config().ttl_hours == 0.25
    monkeypatch.setenv("NEWSMON_STORY_TTL_HOURS", "0")
    with pytest.raises(ValueError, match="story_ttl_hours"):
        Settings()


def test_dashboard_secret_in_the_file_is_refused_with_its_line(tmp_path):
    write(tmp_path, """\
        app_id: desk
        dashboard:
          auth: token
          secret: s3cr3t-token
        """)
    refused = CliRunner().invoke(main, ["config", "show"])
    assert refused.exit_code == 1 and "s3cr3t-token" not in refused.output
    assert ("newsmon.yaml:4: dashboard.secret: a secret, not read from the file; "
            "set NEWSMON_DASHBOARD_SECRET in the environment or secret_file") in refused.output

    write(tmp_path, """\
        app_id: desk
        dashboard:
          auth: token
          secret_file: /run/secrets/newsmon-dashboard
        """)
    accepted = CliRunner().invoke(main, ["config", "show"])
    assert accepted.exit_code == 0, accepted.output
