"""The kafka_* security settings: the client options and faust credentials
built from them, the combinations refused, secrets kept out of the file,
`config show` and error messages; and every command's Kafka clients get
them (tests/integration/test_secure_kafka.py runs them against a real
secured broker)."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from aiokafka.client import AIOKafkaClient
from click.testing import CliRunner
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from monitor.cli import main
from monitor.settings import Settings, load_settings
from monitor.errors import ConfigError
from monitor.kafka.security import aiokafka_options, faust_credentials

pytestmark = pytest.mark.usefixtures("clean_settings_env")

BOOTSTRAP = "broker.example:9093"
SECRET = "pw-never-shown-42"


@pytest.fixture(scope="module")
def pem(tmp_path_factory) -> dict[str, Path]:
    """A self-signed certificate and its key (PEM), standing in for a CA and a client certificate."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not on PATH")
    d = tmp_path_factory.mktemp("pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=newsmon-unit",
                    "-days", "2", "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
                   check=True, capture_output=True, timeout=60)
    (d / "junk.pem").write_text("not a certificate\n")
    return {"cert": d / "cert.pem", "key": d / "key.pem", "junk": d / "junk.pem"}


def settings(**values) -> Settings:
    return Settings(bootstrap_servers=BOOTSTRAP, **values)


# ------------------------------------------------------------------ options per protocol


def test_plaintext_is_the_default_and_adds_nothing():
    s = Settings()
    assert s.kafka_security_protocol == "PLAINTEXT"
    assert aiokafka_options(s) == {} and faust_credentials(s) is None


def test_ssl_verifies_the_broker_against_the_ca_file_and_presents_the_client_certificate(pem):
    s = settings(kafka_security_protocol="SSL", kafka_ssl_cafile=pem["cert"],
                 kafka_ssl_certfile=pem["cert"], kafka_ssl_keyfile=pem["key"])
    options = aiokafka_options(s)
    assert set(options) == {"security_protocol", "ssl_context"} and options["security_protocol"] == "SSL"
    context = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "newsmon-unit"),),)]
    faust_auth = credentials_to_aiokafka_auth(faust_credentials(s))  # what faust hands its own clients
    assert faust_auth["security_protocol"] == "SSL" and isinstance(faust_auth["ssl_context"], ssl.SSLContext)


def test_ssl_without_a_ca_file_trusts_the_system_cas_and_host_check_can_be_turned_off(pem):
    default = aiokafka_options(settings(kafka_security_protocol="SSL"))["ssl_context"]
    assert default.verify_mode == ssl.CERT_REQUIRED and default.check_hostname
    relaxed = aiokafka_options(settings(kafka_security_protocol="SSL", kafka_ssl_cafile=pem["cert"],
                                        kafka_ssl_check_hostname=False))["ssl_context"]
    assert relaxed.check_hostname is False and relaxed.verify_mode == ssl.CERT_REQUIRED  # the chain still counts


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_ssl_sends_mechanism_user_and_password_over_tls(pem, mechanism):
    s = settings(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism=mechanism,
                 kafka_sasl_username="alice", kafka_sasl_password=SECRET, kafka_ssl_cafile=pem["cert"])
    options = aiokafka_options(s)
    context = options.pop("ssl_context")
    assert isinstance(context, ssl.SSLContext) and context.check_hostname
    assert options == {"security_protocol": "SASL_SSL", "sasl_mechanism": mechanism,
                       "sasl_plain_username": "alice", "sasl_plain_password": SECRET}
    faust_auth = credentials_to_aiokafka_auth(faust_credentials(s))
    assert isinstance(faust_auth.pop("ssl_context"), ssl.SSLContext)
    assert faust_auth == options
    assert SECRET not in repr(faust_credentials(s))


def test_sasl_plaintext_has_no_tls_and_reads_the_password_file(tmp_path):
    (tmp_path / "pw").write_text(f"{SECRET}\nsecond line ignored\n")
    s = settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_mechanism="SCRAM-SHA-256",
                 kafka_sasl_username="alice", kafka_sasl_password_file=tmp_path / "pw")
    assert aiokafka_options(s) == {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-256",
                                   "sasl_plain_username": "alice", "sasl_plain_password": SECRET}
    faust_auth = credentials_to_aiokafka_auth(faust_credentials(s))
    assert faust_auth["security_protocol"] == "SASL_PLAINTEXT" and faust_auth["ssl_context"] is None


def test_the_password_never_shows_in_repr_dump_or_errors():
    s = settings(kafka_security_protocol="SASL_SSL", kafka_sasl_username="alice", kafka_sasl_password=SECRET)
    assert SECRET not in repr(s) + str(s) + s.model_dump_json()
    from pydantic import ValidationError

    for bad in ({"partitions": 0}, {}):  # an error, here or elsewhere, must not print the input
        with pytest.raises(ValidationError) as raw:
            Settings(bootstrap_servers=BOOTSTRAP, kafka_security_protocol="SASL_SSL", kafka_sasl_password=SECRET, **bad)
        with pytest.raises(ConfigError) as err:
            load_settings(bootstrap_servers=BOOTSTRAP, kafka_security_protocol="SASL_SSL",
                          kafka_sasl_password=SECRET, **bad)
        assert SECRET not in str(raw.value) + str(err.value)


# ------------------------------------------------------------------ refused combinations


@pytest.mark.parametrize("values, message", [
    ({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_password": "x"},
     "kafka_sasl_username: required with kafka_security_protocol=SASL_SSL"),
    ({"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_sasl_username": "a"},
     "kafka_sasl_password (environment NEWSMON_KAFKA_SASL_PASSWORD) or kafka_sasl_password_file: required"),
    ({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_username": "a", "kafka_sasl_password": "x",
      "kafka_sasl_password_file": "{cert}"}, "set one, not both"),
    ({"kafka_security_protocol": "SSL", "kafka_sasl_username": "a"},
     "kafka_sasl_username: set, but kafka_security_protocol=SSL does not authenticate with SASL"),
    ({"kafka_ssl_cafile": "{cert}"}, "kafka_ssl_cafile: set, but kafka_security_protocol=PLAINTEXT does not use TLS"),
    ({"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_sasl_username": "a", "kafka_sasl_password": "x",
      "kafka_ssl_certfile": "{cert}"}, "kafka_ssl_certfile: set, but kafka_security_protocol=SASL_PLAINTEXT"),
    ({"kafka_security_protocol": "SSL", "kafka_ssl_keyfile": "{key}"}, "kafka_ssl_keyfile: needs kafka_ssl_certfile"),
    ({"kafka_security_protocol": "SSL", "kafka_ssl_cafile": "/nonexistent/ca.pem"},
     "kafka_ssl_cafile: no such file: /nonexistent/ca.pem"),
    ({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_username": "a", "kafka_sasl_password_file": "/nope"},
     "kafka_sasl_password_file: no such file: /nope"),
    ({"kafka_security_protocol": "SSL", "kafka_ssl_cafile": "{junk}"}, "kafka_ssl_*: cannot load the TLS files"),
    ({"kafka_security_protocol": "SSL", "kafka_ssl_certfile": "{cert}", "kafka_ssl_keyfile": "{cert}"},
     "kafka_ssl_*: cannot load the TLS files"),
    ({"kafka_security_protocol": "TLS"}, "kafka_security_protocol: Input should be 'PLAINTEXT', 'SSL'"),
    ({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "GSSAPI", "kafka_sasl_username": "a",
      "kafka_sasl_password": "x"}, "kafka_sasl_mechanism: Input should be 'PLAIN', 'SCRAM-SHA-256'"),
])
def test_invalid_combinations_are_refused_naming_the_setting(pem, values, message):
    values = {k: v.format(**pem) if isinstance(v, str) else v for k, v in values.items()}
    with pytest.raises(ConfigError) as err:
        load_settings(bootstrap_servers=BOOTSTRAP, **values)
    assert message in str(err.value)


def test_an_empty_password_file_is_refused(tmp_path):
    (tmp_path / "pw").write_text("\n")
    with pytest.raises(ConfigError, match="kafka_sasl_password_file: .* is empty"):
        load_settings(bootstrap_servers=BOOTSTRAP, kafka_security_protocol="SASL_SSL", kafka_sasl_username="a",
                      kafka_sasl_password_file=tmp_path / "pw")


def test_security_needs_an_external_cluster():
    """The embedded broker is PLAINTEXT: `newsmon run` must not start it and then fail to talk TLS."""
    with pytest.raises(ConfigError, match="kafka_security_protocol=SSL needs KAFKA_BOOTSTRAP_SERVERS"):
        load_settings(kafka_security_protocol="SSL")


# ------------------------------------------------------------------ newsmon.yaml, config show


def test_settings_from_the_file_but_the_password_only_from_the_environment(tmp_path, pem, monkeypatch):
    (tmp_path / "newsmon.yaml").write_text(
        f"bootstrap_servers: {BOOTSTRAP}\nkafka_security_protocol: SASL_SSL\nkafka_sasl_mechanism: SCRAM-SHA-512\n"
        f"kafka_sasl_username: alice\nkafka_ssl_cafile: {pem['cert']}\n")
    monkeypatch.setenv("NEWSMON_KAFKA_SASL_PASSWORD", SECRET)
    options = aiokafka_options(Settings())
    assert (options["sasl_mechanism"], options["sasl_plain_password"]) == ("SCRAM-SHA-512", SECRET)

    shown = CliRunner().invoke(main, ["config", "show"])
    assert shown.exit_code == 0, shown.output
    assert "kafka_sasl_password: '**********'" in shown.output and SECRET not in shown.output

    (tmp_path / "newsmon.yaml").write_text(f"kafka_sasl_username: alice\nkafka_sasl_password: {SECRET}\n")
    refused = CliRunner().invoke(main, ["config", "show"])
    assert refused.exit_code == 1 and SECRET not in refused.output
    assert ("newsmon.yaml:2: kafka_sasl_password: a secret, not read from the file; "
            "set NEWSMON_KAFKA_SASL_PASSWORD in the environment or kafka_sasl_password_file") in refused.output


def test_an_invalid_combination_is_one_line_from_any_command(monkeypatch):
    monkeypatch.setenv("NEWSMON_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", BOOTSTRAP)
    monkeypatch.setenv("NEWSMON_KAFKA_SASL_PASSWORD", SECRET)
    for args in (["alerts", "silences"], ["sink", "status", "x"], ["config", "show"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, result.output
        assert "Error: kafka_sasl_username: required with kafka_security_protocol=SASL_SSL" in result.output
        assert SECRET not in result.output and "Traceback" not in result.output


# ------------------------------------------------------------------ every client gets them


class Recorded(Exception):
    """Raised instead of connecting: the client has been made, and recorded."""


@pytest.fixture
def clients(monkeypatch) -> list[dict]:
    """Every aiokafka client made (producer, consumer, admin, probe all wrap an
    AIOKafkaClient): its security keyword arguments. None connects."""
    made: list[dict] = []
    original = AIOKafkaClient.__init__

    def init(self, *args, **kwargs):
        made.append({k: kwargs.get(k) for k in ("bootstrap_servers", "security_protocol", "sasl_mechanism",
                                                 "sasl_plain_username", "ssl_context")})
        original(self, *args, **kwargs)

    async def bootstrap(self):
        raise Recorded("no connection in unit tests")

    monkeypatch.setattr(AIOKafkaClient, "__init__", init)
    monkeypatch.setattr(AIOKafkaClient, "bootstrap", bootstrap)
    return made


@pytest.fixture
def sasl_ssl_env(monkeypatch, pem):
    values = {"KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP, "NEWSMON_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
              "NEWSMON_KAFKA_SASL_MECHANISM": "SCRAM-SHA-256", "NEWSMON_KAFKA_SASL_USERNAME": "alice",
              "NEWSMON_KAFKA_SASL_PASSWORD": SECRET, "NEWSMON_KAFKA_SSL_CAFILE": str(pem["cert"])}
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def assert_secured(made: list[dict], at_least: int = 1) -> None:
    assert len(made) >= at_least, made
    for client in made:
        assert client["bootstrap_servers"] == BOOTSTRAP
        assert (client["security_protocol"], client["sasl_mechanism"], client["sasl_plain_username"]) == \
            ("SASL_SSL", "SCRAM-SHA-256", "alice")
        assert isinstance(client["ssl_context"], ssl.SSLContext)


@pytest.mark.parametrize("args", [
    ["alerts", "tail"],
    ["alerts", "silences"],
    ["alerts", "silence", "some-rule", "--for", "1h", "--force"],
    ["alerts", "unsilence", "abc"],
    ["sink", "status", "archive"],
    ["rules", "test", "--from-topic", "news.articles"],
    ["watch", "files"],
    ["kafka", "status"],
])
def test_every_command_connects_with_the_security_settings(clients, sasl_ssl_env, monkeypatch, args):
    """Topic creation is skipped (checked on its own below), so each command
    reaches its own clients. (`sink ...` and `run` restart a failed sink
    forever: SinkRunner is checked in-process below.)"""
    monkeypatch.setattr("monitor.kafka.admin.ensure_topics", _no_topics)
    result = CliRunner().invoke(main, args)
    assert_secured(clients)
    # it got as far as connecting (`sink status` and `kafka status` report the failure themselves)
    assert isinstance(result.exception, Recorded) or "no connection in unit tests" in result.output \
        or "NOT answering" in result.output, result.output


def test_topic_creation_connects_with_them(clients, sasl_ssl_env):
    from monitor.kafka.admin import ensure_topics

    with pytest.raises(Recorded):
        asyncio.run(ensure_topics(Settings()))
    assert_secured(clients)


def test_the_worker_the_watchers_and_a_sink_runner_get_them(clients, sasl_ssl_env, tmp_path, monkeypatch):
    """What `newsmon run` builds in-process (the integration test runs it for real)."""
    from monitor.sinks.runner import SinkRunner
    from monitor.settings.sinks import JsonlSinkConfig
    from monitor.sinks.jsonl import JsonlSink
    from monitor.worker.app import create_app
    from monitor.watch.runner import Watchers

    s = Settings(data_dir=tmp_path / "data", inbox_dirs=[tmp_path / "inbox"])
    app = create_app(s)
    credentials = app.conf.broker_credentials  # faust gives its consumer, producer and topic creation these
    assert_secured([{**credentials_to_aiokafka_auth(credentials), "bootstrap_servers": str(app.conf.broker[0].authority),
                     "sasl_plain_username": credentials.username}])
    follow_silences = next(t for t in app._app_tasks if t.__name__ == "follow_silences_topic")

    async def build() -> None:
        with pytest.raises(Recorded):  # the worker's silences reader
            await follow_silences()
        Watchers(s, feeds=False).publisher._new_producer()
        monkeypatch.setattr("monitor.kafka.admin.ensure_topics", _no_topics)
        runner = SinkRunner(JsonlSink(JsonlSinkConfig(type="jsonl", name="a", path=tmp_path / "a.jsonl")), s)
        with pytest.raises(Recorded):
            await runner.run(asyncio.Event())

    asyncio.run(build())
    assert_secured(clients, at_least=3)


async def _no_topics(*args, **kwargs) -> None:
    return None


def test_the_readme_example_is_valid(tmp_path, pem):
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("#### Secured clusters"):]
    example = re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1)
    (tmp_path / "pw").write_text(SECRET + "\n")
    example = example.replace("/run/secrets/kafka-password", str(tmp_path / "pw"))
    (tmp_path / "newsmon.yaml").write_text(example.replace("/etc/newsmon/kafka-ca.pem", str(pem["cert"])))
    options = aiokafka_options(Settings())
    assert (options["security_protocol"], options["sasl_mechanism"], options["sasl_plain_password"]) == \
        ("SASL_SSL", "SCRAM-SHA-512", SECRET)
