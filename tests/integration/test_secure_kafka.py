"""newsmon against a secured broker: TLS (with client certificates), SASL
PLAIN and SCRAM-SHA-256/512, on a broker of its own.

One local broker (monitor.kafka.local.LocalKafka with SecureListeners) on free
ports, with an SSL listener that requires a client certificate, a SASL_SSL
and a SASL_PLAINTEXT listener (user alice, PLAIN and SCRAM), and a certificate
authority made for the test with keytool. The daemon runs end to end over
mutual TLS and over SASL_SSL/SCRAM (watcher -> worker -> alert topic -> sink
and alert printer), and the other commands (tail, silences, sink status,
rules test --from-topic) talk to it with the other protocols. The broker is
stopped at the end of the module.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitor.settings import Settings
from monitor.kafka.local import LocalKafka, LocalKafkaError, SecureListeners, pick_port
from monitor.kafka.security import aiokafka_options
from tests.daemon import REPO, free_port, newsmon_env, running, wait_until
from tests.kafka_util import read_topic
from tests.seeds import seed_path
from tests.tls_util import Pki, make_pki, tools_available

pytestmark = pytest.mark.kafka

USER, PASSWORD = "alice", "alice-s3cret-pw"


@dataclass(frozen=True)
class SecureBroker:
    kafka: LocalKafka
    pki: Pki

    def address(self, protocol: str) -> str:
        return f"127.0.0.1:{self.kafka.secure.listeners()[protocol]}"

    def env(self, protocol: str, mechanism: str | None = None) -> dict[str, str]:
        """The NEWSMON_KAFKA_* environment for a client of `protocol`."""
        env = {"KAFKA_BOOTSTRAP_SERVERS": self.address(protocol), "NEWSMON_KAFKA_SECURITY_PROTOCOL": protocol}
        if protocol in ("SSL", "SASL_SSL"):
            env["NEWSMON_KAFKA_SSL_CAFILE"] = str(self.pki.ca_pem)
        if protocol == "SSL":
            env.update(NEWSMON_KAFKA_SSL_CERTFILE=str(self.pki.client_cert),
                       NEWSMON_KAFKA_SSL_KEYFILE=str(self.pki.client_key))
        if protocol.startswith("SASL_"):
            env.update(NEWSMON_KAFKA_SASL_MECHANISM=mechanism or "PLAIN", NEWSMON_KAFKA_SASL_USERNAME=USER,
                       NEWSMON_KAFKA_SASL_PASSWORD=PASSWORD)
        return env

    def options(self, protocol: str, mechanism: str | None = None) -> dict:
        """aiokafka options for the test's own reads, from the same settings."""
        env = self.env(protocol, mechanism)
        fields = {k.removeprefix("NEWSMON_").lower(): v for k, v in env.items() if k.startswith("NEWSMON_")}
        return aiokafka_options(Settings(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"], **fields))


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    missing = tools_available()
    if missing:
        pytest.skip(f"TLS test needs keytool and openssl: {missing}")
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    secure = SecureListeners(
        keystore=pki.broker_keystore, keystore_password=pki.password,
        truststore=pki.truststore, truststore_password=pki.password,
        ssl_port=free_port(), sasl_ssl_port=free_port(), sasl_plaintext_port=free_port(),
        users=((USER, PASSWORD),),
    )
    kafka = LocalKafka(port=pick_port(39192), data_dir=tmp_path_factory.mktemp("kafka-secure"),
                       heap="384m", secure=secure)
    try:
        kafka.up(timeout=120)
    except LocalKafkaError as exc:
        kafka.down(grace=5)
        pytest.skip(f"cannot start the secured broker: {exc}")
    try:
        yield SecureBroker(kafka, pki)
    finally:
        kafka.down(grace=10)


def newsmon(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monitor.cli", *args], env=env, capture_output=True, check=False,
                          text=True, timeout=timeout, cwd=REPO)


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def run_daemon_until_alert(broker: SecureBroker, env: dict[str, str], tmp_path: Path,
                                 read_protocol: str, read_mechanism: str | None = None) -> dict:
    """`newsmon run` with a JSONL sink; a seed dropped into its inbox must come
    out as an alert on the topic, in the sink's file and on stdout."""
    archive = tmp_path / "archive.jsonl"
    env = {**env, "NEWSMON_SINKS": json.dumps([{"type": "jsonl", "name": "archive", "path": str(archive)}])}
    prefix = env["NEWSMON_TOPIC_PREFIX"]
    with running(["run"], env, tmp_path / "run") as daemon:
        await wait_until(lambda: "inbox_watching" in daemon.logs(), 90, "watcher start", daemon)
        shutil.copy(seed_path("000"), tmp_path / "inbox" / "000.txt")
        alerts = await read_topic(broker.address(read_protocol), f"{prefix}news.alerts", until=lambda v: len(v) >= 1,
                                  timeout=60, security=broker.options(read_protocol, read_mechanism))
        assert alerts, f"no alert; daemon log tail:\n{daemon.logs()[-4000:]}"
        assert alerts[0]["rule_id"] == "leader-border-crossing"
        await wait_until(lambda: len(lines(archive)) >= 1, 30, "alert in the JSONL sink", daemon)
        assert lines(archive)[0]["id"] == alerts[0]["id"]
        await wait_until(lambda: "leader-border-crossing" in daemon.output(), 30, "printed alert", daemon)
    assert PASSWORD not in daemon.logs() + daemon.output()
    return alerts[0]


async def test_daemon_round_trip_over_mutual_tls(secure_broker, tmp_path):
    """The worker (faust SSLCredentials), the watcher's producer, topic creation,
    the silences reader, the alert printer and a sink: all over TLS with a
    client certificate (the SSL listener refuses connections without one)."""
    env = newsmon_env(secure_broker.address("SSL"), tmp_path, **secure_broker.env("SSL"))
    alert = await run_daemon_until_alert(secure_broker, env, tmp_path, "SSL")

    # another subscriber, over SASL_SSL with SCRAM-SHA-512, sees the same alert
    tail_env = {**env, **secure_broker.env("SASL_SSL", "SCRAM-SHA-512")}
    tail = newsmon(tail_env, "alerts", "tail", "--from-beginning", "--json", "--limit", "1")
    assert tail.returncode == 0, tail.stderr[-3000:]
    assert json.loads(tail.stdout.splitlines()[0])["id"] == alert["id"]

    # without a client certificate the SSL listener lets nothing through
    no_cert = {k: v for k, v in env.items() if k not in ("NEWSMON_KAFKA_SSL_CERTFILE", "NEWSMON_KAFKA_SSL_KEYFILE")}
    refused = newsmon(no_cert, "alerts", "silences")
    assert refused.returncode == 1 and "cannot reach Kafka" in refused.stderr, refused.stderr[-3000:]


async def test_daemon_round_trip_over_sasl_ssl_scram(secure_broker, tmp_path):
    """The daemon over SASL_SSL with SCRAM-SHA-256 (faust SASLCredentials), its
    password from a file and the rest from newsmon.yaml; then silences over
    SASL_PLAINTEXT with PLAIN, sink status and a backtest over SASL_SSL."""
    password_file = tmp_path / "kafka-password"
    password_file.write_text(PASSWORD + "\n")
    config = tmp_path / "newsmon.yaml"
    config.write_text(textwrap.dedent(f"""\
        kafka_security_protocol: SASL_SSL
        kafka_sasl_mechanism: SCRAM-SHA-256
        kafka_sasl_username: {USER}
        kafka_sasl_password_file: {password_file}
        kafka_ssl_cafile: {secure_broker.pki.ca_pem}
        """))
    env = newsmon_env(secure_broker.address("SASL_SSL"), tmp_path, NEWSMON_CONFIG=str(config))
    alert = await run_daemon_until_alert(secure_broker, env, tmp_path, "SASL_SSL", "SCRAM-SHA-256")

    shown = newsmon(env, "config", "show")
    assert shown.returncode == 0 and "kafka_security_protocol: SASL_SSL" in shown.stdout and PASSWORD not in shown.stdout

    status = newsmon(env, "sink", "status", "archive")
    assert status.returncode == 0, status.stderr[-3000:]
    assert "archive  group newsmon-test-" in status.stdout and "lag 0" in status.stdout

    backtest = newsmon(env, "rules", "test", "--from-topic", f"{env['NEWSMON_TOPIC_PREFIX']}news.articles", "--json")
    assert backtest.returncode == 0, backtest.stderr[-3000:]
    assert "leader-border-crossing" in backtest.stdout

    plain = {**env, "NEWSMON_CONFIG": str(tmp_path / "none.yaml"), **secure_broker.env("SASL_PLAINTEXT", "PLAIN")}
    (tmp_path / "none.yaml").write_text("{}\n")
    silenced = newsmon(plain, "alerts", "silence", alert["rule_id"], "--for", "1h", "--force")
    assert silenced.returncode == 0, silenced.stderr[-3000:]
    silence_id = silenced.stdout.rsplit("id ", 1)[1].strip()
    listed = newsmon(plain, "alerts", "silences", "--json")
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == [silence_id], listed.stderr[-3000:]
    assert newsmon(plain, "alerts", "unsilence", silence_id).returncode == 0

    wrong = newsmon({**plain, "NEWSMON_KAFKA_SASL_PASSWORD": "not-the-password"}, "alerts", "silences")
    assert wrong.returncode == 1 and "cannot reach Kafka" in wrong.stderr, wrong.stderr[-3000:]
    assert "not-the-password" not in wrong.stderr + wrong.stdout
