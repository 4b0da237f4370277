"""The broker restarts in the middle of a stream while a worker is running.

The worker must reconnect by itself (no restart of the worker) and process
everything: what was sent before the outage, what was in flight during it, and
what is sent after the broker is back. Uses a broker of its own (the
`own_broker` fixture in tests/conftest.py), like tests/integration/test_broker_outage.py."""

from __future__ import annotations

import asyncio

import pytest

from tests.daemon import newsmon_env, poll, running
from tests.reliability.corpus import make_corpus, write_rules
from tests.reliability.util import articles_done, read_topics, send_many, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(600)]

BEFORE, AFTER = 1000, 100


async def test_running_worker_reconnects_after_broker_restart(own_broker, tmp_path):
    rules = write_rules(tmp_path / "rules")
    env = newsmon_env(own_broker.bootstrap, tmp_path, NEWSMON_RULES_DIR=str(rules))
    prefix = env["NEWSMON_TOPIC_PREFIX"]
    raw, articles, duplicates = (f"{prefix}news.{n}" for n in ("raw", "articles", "duplicates"))
    corpus = make_corpus(BEFORE + AFTER, seed=21, prefix="b")
    port = env["NEWSMON_HTTP_PORT"]

    with running(["worker"], env, tmp_path / "worker") as worker:
        await poll(f"http://127.0.0.1:{port}/readyz", lambda status, _: status == 200, timeout=180)
        await send_many(own_broker.bootstrap, raw, corpus.articles[:BEFORE])
        await wait_until(lambda: _at_least(port, 30), 180, "first articles processed", worker.logs)

        done_at_outage = await articles_done(port)
        await asyncio.to_thread(own_broker.down, 10)  # mid-stream
        reconnects_before = _reconnect_lines(worker.logs())
        await asyncio.sleep(10)  # the worker runs on without a broker
        assert worker.proc.poll() is None, worker.logs()[-4000:]
        # /metrics answers during the outage (it used to wait for the broker)
        assert await articles_done(port) >= done_at_outage
        # no reconnect busy loop (monitor/kafka/patch.py): unpatched, aiokafka logs
        # ~1,500 failed reconnects a second here, at 100 % CPU
        outage_lines = _reconnect_lines(worker.logs()) - reconnects_before
        assert outage_lines < 2000, worker.logs()[-3000:]
        await asyncio.to_thread(own_broker.up, 180)

        await send_many(own_broker.bootstrap, raw, corpus.articles[BEFORE:])
        expected = set(corpus.ids)
        out = await read_topics(
            own_broker.bootstrap, [articles, duplicates], timeout=300, settle=2,
            until=lambda v: expected <= {a["id"] for values in v.values() for a in values})
        logs = worker.logs()
        alive = worker.proc.poll() is None

    seen = {a["id"] for values in out.values() for a in values}
    assert alive, logs[-4000:]
    assert done_at_outage < BEFORE, "the outage did not land mid-stream"
    missing = expected - seen
    assert not missing, f"{len(missing)} never processed, e.g. {sorted(missing)[:5]}\n{logs[-6000:]}"
    flagged = {a["id"]: a["duplicate_of"] for a in out[duplicates]}
    assert flagged == corpus.copy_of
    print(f"\nbroker stopped after {done_at_outage} of {BEFORE} articles; {outage_lines} failed reconnects logged "
          f"in the 10 s outage; all {len(expected)} processed, {sum(len(v) for v in out.values()) - len(seen)} outputs replayed")


def _reconnect_lines(logs: str) -> int:
    return logs.count("Unable connect to node") + logs.count("Unable to update metadata")


async def _at_least(port: str, n: int) -> bool:
    return await articles_done(port) >= n
