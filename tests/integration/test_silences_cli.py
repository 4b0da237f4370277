"""`alerts silence` / `silences` / `unsilence` through the compacted topic,
as an operator runs them, and a worker-side `follow` seeing the changes."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from monitor.settings import REPO_ROOT
from monitor.models import utcnow
from monitor.rules.silences import SilenceSet
from monitor.kafka.silences import load_silences
from monitor.worker.silences import follow
from monitor.kafka.admin import describe_topic_configs
from tests.daemon import newsmon_env

pytestmark = pytest.mark.kafka

RULES = """
rules:
  - id: kim-crossing
    title: Kim Jong Un crossed a border
    severity: high
    match:
      event: {type: border_crossing, actor: person:kim-jong-un}
"""


def setup(kafka_bootstrap: str, tmp_path: Path) -> tuple[dict[str, str], str]:
    rules = tmp_path / "rules"
    shutil.copytree(REPO_ROOT / "rules" / "watchlists", rules / "watchlists")
    (rules / "pack.yaml").write_text(RULES)
    env = newsmon_env(kafka_bootstrap, tmp_path, NEWSMON_RULES_DIR=str(rules), USER="ana")
    return env, f"{env['NEWSMON_TOPIC_PREFIX']}news.silences"


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monitor.cli", "alerts", *args], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)


def listed(env: dict[str, str], *flags: str) -> list[dict]:
    result = cli(env, "silences", "--json", *flags)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_silence_list_and_remove_round_trip(kafka_bootstrap, tmp_path):
    env, topic = setup(kafka_bootstrap, tmp_path)

    whole = cli(env, "silence", "kim-crossing", "--for", "4h", "--reason", "state visit, covered elsewhere")
    assert whole.returncode == 0, whole.stderr
    assert "silenced kim-crossing (every group)" in whole.stdout
    one = cli(env, "silence", "kim-crossing", "--key", "story-123", "--for", "30m")
    assert one.returncode == 0, one.stderr
    typo = cli(env, "silence", "kim-crosing", "--for", "1h")
    assert typo.returncode == 1 and "did you mean kim-crossing" in typo.stderr

    table = cli(env, "silences")
    assert table.returncode == 0, table.stderr
    first, second = table.stdout.splitlines()  # soonest to expire first
    assert "kim-crossing  key story-123" in first and "left)" in first
    assert "key (any)" in second and "by ana: state visit, covered elsewhere" in second
    silences = listed(env)
    assert [(s["key"], s["reason"]) for s in silences] == [("story-123", ""), (None, "state visit, covered elsewhere")]
    story_id, any_id = silences[0]["id"], silences[1]["id"]

    removed = cli(env, "unsilence", any_id)
    assert removed.returncode == 0 and f"removed silence {any_id}" in removed.stdout
    assert [s["id"] for s in listed(env)] == [story_id]
    assert [s["id"] for s in listed(env, "--all")] == [story_id]  # gone, not merely expired
    unknown = cli(env, "unsilence", "feedbeef0000")
    assert unknown.returncode == 1 and "no silence with id feedbeef0000" in unknown.stderr

    async def worker_view() -> tuple[SilenceSet, dict[str, str]]:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            configs = (await describe_topic_configs(admin, [topic]))[topic]
        finally:
            await admin.close()
        return await load_silences(kafka_bootstrap, topic), configs

    current, configs = asyncio.run(worker_view())
    assert configs["cleanup.policy"] == "compact"  # survives any retention period
    now = utcnow()
    assert current.match("kim-crossing", "story-123", now).id == story_id
    assert current.match("kim-crossing", "story-999", now) is None


async def until(condition, timeout: float = 60.0) -> None:
    """Wait for `condition()` (a bound on waiting, not a timing assertion)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.2)


async def test_a_following_worker_sees_silences_come_and_go(kafka_bootstrap, tmp_path):
    env, topic = setup(kafka_bootstrap, tmp_path)
    before = await asyncio.to_thread(cli, env, "silence", "kim-crossing", "--for", "2h")  # present at start
    assert before.returncode == 0, before.stderr

    silences, ready, stop = SilenceSet(), asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(follow(kafka_bootstrap, topic, silences, ready=ready, stop=stop))
    try:
        await asyncio.wait_for(ready.wait(), 60)
        assert silences.match("kim-crossing", "any-story", utcnow()) is not None

        added = await asyncio.to_thread(cli, env, "silence", "kim-crossing", "--key", "s-7", "--for", "1h")
        assert added.returncode == 0, added.stderr
        await until(lambda: len(silences) == 2)
        new_id = next(s.id for s in silences.all() if s.key == "s-7")
        assert silences.get(new_id).until - silences.get(new_id).created_at == timedelta(hours=1)

        for s in silences.all():
            removed = await asyncio.to_thread(cli, env, "unsilence", s.id)
            assert removed.returncode == 0, removed.stderr
        await until(lambda: len(silences) == 0)
        assert silences.match("kim-crossing", "s-7", utcnow()) is None
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
