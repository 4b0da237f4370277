"""The dashboard through the real broker: the daemon end to end (an article
dropped in the inbox reaches the page live), and the write actions (acks,
silences) going through the topics and surviving a restart of the dashboard."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from datetime import timedelta

import aiohttp
import pytest

from monitor.settings import Settings
from monitor.dashboard.server import run_dashboard
from monitor.kafka.silences import load_silences
from tests.daemon import free_port, get, newsmon_env, poll, running, wait_until
from tests.dashboard_util import T0, alert, create_topics, publish, record, story
from tests.kafka_util import read_topic
from tests.seeds import seed_path

pytestmark = pytest.mark.kafka


async def read_events(url: str, found: list[dict], connected: asyncio.Event) -> None:
    """Collect the `alert` server-sent events of `url`."""
    async with aiohttp.ClientSession() as session:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=None)) as resp:
            kind = None
            async for line in resp.content:
                text = line.decode().rstrip("\n")
                if text.startswith("event: "):
                    kind = text[7:]
                    connected.set()
                elif text.startswith("data: ") and kind == "alert":
                    found.append(json.loads(text[6:]))


async def test_an_article_dropped_into_the_daemon_appears_live_on_the_dashboard(kafka_bootstrap, tmp_path):
    env = newsmon_env(kafka_bootstrap, tmp_path)
    base = f"http://127.0.0.1:{env['NEWSMON_DASHBOARD_PORT']}"
    with running(["run"], env, tmp_path / "run") as daemon:
        await wait_until(lambda: "inbox_watching" in daemon.logs(), 120, "watcher start", daemon)
        await wait_until(lambda: f"dashboard: {base}/" in daemon.logs(), 60, "dashboard line", daemon)
        await poll(f"{base}/healthz", lambda status, body: status == 200 and json.loads(body)["topics"]["alerts"])
        live: list[dict] = []
        connected = asyncio.Event()
        listener = asyncio.create_task(read_events(f"{base}/events?severity=high", live, connected))
        try:
            await asyncio.wait_for(connected.wait(), 10)
            shutil.copy(seed_path("000"), tmp_path / "inbox" / "000.txt")
            await wait_until(lambda: bool(live), 90, "a live alert event", daemon)
        finally:
            listener.cancel()
        row = live[0]
        assert row["match"] and row["rule_id"] == "leader-border-crossing" and row["severity"] == "high"
        assert row["action"] == "new" and row["story_id"]

        status, page = await get(f"{base}/")
        assert status == 200 and f'data-id="{row["id"]}"' in page and "leader-border-crossing" in page
        status, detail = await get(f"{base}/alerts/{row['id']}")
        assert status == 200 and "Russia" in detail and "Kim Jong Un" in detail and "entity=person%3Akim-jong-un" in detail
        status, story_page = await get(f"{base}/stories/{row['story_id']}")
        assert status == 200 and row["id"] in story_page
        status, filtered = await get(f"{base}/?rule=another-rule")
        assert f'data-id="{row["id"]}"' not in filtered


class Browserless:
    """A user of the pages: keeps the cookies, repeats the CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def page(self, path: str) -> str:
        async with self.session.get(self.base + path) as resp:
            assert resp.status == 200, path
            return await resp.text()

    async def post(self, path: str, form_page: str, **data: str) -> int:
        html = await self.page(form_page)
        token = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
        async with self.session.post(self.base + path, data={"csrf": token, **data}, allow_redirects=False) as resp:
            return resp.status


async def test_acks_and_silences_go_through_the_topics_and_survive_a_restart(kafka_bootstrap, clean_settings_env,
                                                                             monkeypatch, unique_name):
    prefix = unique_name("dash") + "."
    port = free_port()
    for name, value in {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "NEWSMON_TOPIC_PREFIX": prefix,
                        "NEWSMON_DASHBOARD_PORT": str(port)}.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    await create_topics(kafka_bootstrap, [f"{prefix}news.stories", f"{prefix}news.alerts"])
    now = T0.now(T0.tzinfo)
    await publish(kafka_bootstrap, f"{prefix}news.stories", "s1", record(story()))
    await publish(kafka_bootstrap, f"{prefix}news.alerts", "a1", record(alert(at=now)))
    base = f"http://127.0.0.1:{port}"

    async def dashboard():
        stop = asyncio.Event()
        task = asyncio.create_task(run_dashboard(settings, stop))
        await poll(f"{base}/healthz", lambda status, body: status == 200 and json.loads(body)["ready"], timeout=60)
        return stop, task

    stop, task = await dashboard()
    user = Browserless(base)
    try:
        assert 'data-id="a1"' in await user.page("/")
        assert "Yonhap" in await user.page("/stories/s1")
        # an alert published now appears (the view follows the topic)
        await publish(kafka_bootstrap, f"{prefix}news.alerts", "a1",
                       record(alert(revision=2, action="update", at=now + timedelta(seconds=1))))
        await poll(f"{base}/api/alerts", lambda s, body: json.loads(body)["alerts"][0]["revision"] == 2)

        assert await user.post("/alerts/a1/ack", "/alerts/a1", by="ana", note="on it") == 303
        assert await user.post("/silences", "/silences", rule="kim-crossing", key="s1", duration="2h",
                               reason="state visit", by="ana") == 303
        acks = await read_topic(kafka_bootstrap, f"{prefix}news.acks", until=lambda v: len(v) >= 1, timeout=20)
        assert acks[0]["alert_id"] == "a1" and acks[0]["by"] == "ana" and acks[0]["note"] == "on it"
        silences = (await load_silences(kafka_bootstrap, f"{prefix}news.silences")).all()
        assert [(s.rule_id, s.key, s.reason, s.created_by) for s in silences] == [("kim-crossing", "s1", "state visit", "ana")]
        assert "ack · ana" in await user.page("/")
    finally:
        stop.set()
        await task

    # a new dashboard rebuilds the same view from the topics
    stop, task = await dashboard()
    try:
        assert "ack · ana" in await user.page("/")
        assert "state visit" in await user.page("/silences")
        assert "r2" in await user.page("/stories/s1")
        silence_id = silences[0].id
        assert await user.post(f"/silences/{silence_id}/remove", "/silences") == 303
        assert (await load_silences(kafka_bootstrap, f"{prefix}news.silences")).all() == []
        assert await user.post("/alerts/a1/unack", "/alerts/a1") == 303
        assert "ack · ana" not in await user.page("/")
    finally:
        stop.set()
        await task
        await user.session.close()
