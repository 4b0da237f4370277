"""The dashboard in a real browser (chromium via Playwright), against the real
broker: what an analyst does all day, with the daemon running."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from monitor.settings import Settings
from monitor.dashboard.server import run_dashboard
from tests.daemon import REPO, Daemon, free_port, newsmon_env, poll, running, wait_until
from tests.dashboard_util import (
    HOSTILE_TITLE,
    alert,
    create_topics,
    event,
    publish,
    record,
    report,
    story,
)
from tests.kafka_util import read_topic

pytestmark = pytest.mark.kafka

SILENCED_RULE = "leader-border-crossing"
EXAMPLES = REPO / "examples"
KIM_STORY_TITLE = "Kim Jong Un crosses into Russia by armoured train"


def drop(inbox: Path, number: str) -> None:
    """A sample article (examples/README.md) into the daemon's inbox."""
    [path] = EXAMPLES.glob(f"{number}_*.txt")
    shutil.copy(path, inbox / path.name)


def row(page: Page, rule: str):
    return page.locator("#alerts tr", has=page.locator(f"td.rule >> text={rule}"))


async def processed(daemon: Daemon, count: int) -> None:
    await wait_until(lambda: daemon.logs().count('"article_processed"') >= count, 90,
                     f"{count} articles processed", daemon)


async def test_analyst_flow_live_alerts_silence_ack_filter_and_story(kafka_bootstrap, tmp_path, browser, screenshot):
    env = newsmon_env(kafka_bootstrap, tmp_path, USER="ana")
    prefix, inbox = env["NEWSMON_TOPIC_PREFIX"], tmp_path / "inbox"
    base = f"http://127.0.0.1:{env['NEWSMON_DASHBOARD_PORT']}"
    with running(["run"], env, tmp_path / "run") as daemon:
        await wait_until(lambda: "inbox_watching" in daemon.logs(), 120, "watcher start", daemon)
        await poll(f"{base}/healthz", lambda status, body: status == 200 and json.loads(body)["topics"]["alerts"])
        page = await (await browser.new_context(viewport={"width": 1360, "height": 900})).new_page()
        await page.goto(base + "/")
        await expect(page.locator("#live")).to_have_text("live")

        # an alert appears live after an article is dropped, no reload
        drop(inbox, "01")
        await expect(row(page, SILENCED_RULE)).to_have_count(1, timeout=60_000)
        await expect(page.locator("#alerts tr")).to_have_count(3)
        await expect(row(page, SILENCED_RULE).locator("td.title a")).to_contain_text("Kim")
        await expect(row(page, SILENCED_RULE).locator("td.story a")).to_have_text(KIM_STORY_TITLE)

        # a silence made in the UI holds back the next matching alert
        await row(page, SILENCED_RULE).locator("td.title a").click()
        await page.get_by_role("link", name="this rule").click()
        await expect(page.locator("input[name=rule]")).to_have_value(SILENCED_RULE)
        await page.fill("input[name=duration]", "2h")
        await page.fill("input[name=reason]", "state visit, the desk covers it")
        await page.fill("input[name=by]", "ana")
        await page.get_by_role("button", name="Silence").click()
        await expect(page.locator("#silences tbody tr.active")).to_contain_text(SILENCED_RULE)
        await wait_until(lambda: "silences_loaded" in daemon.logs(), 30, "worker silences", daemon)
        await asyncio.sleep(1.5)  # the worker follows news.silences; give it the record
        drop(inbox, "02")  # another outlet: would update the crossing alert to r2
        await processed(daemon, 2)
        events = [json.loads(line) for line in daemon.logs().splitlines() if line.startswith("{")]
        sent = [e["action"] for e in events if e.get("event") == "alert"]  # 01's three, and no update
        held = [(e["rule_id"], e["action"]) for e in events if e.get("event") == "alert_silenced"]
        assert sent == ["new"] * 3 and held == [(SILENCED_RULE, "update")]
        await page.goto(base + "/")
        await expect(row(page, SILENCED_RULE).locator(".rev")).to_have_text("r1")

        # acknowledge an alert; colleagues see who
        await row(page, "arms-transfer-speculation").locator("td.title a").click()
        await page.fill("input[name=by]", "ana")
        await page.fill("input[name=note]", "checking with the Seoul desk")
        await page.get_by_role("button", name="Acknowledge").click()
        await expect(page.locator(".ack-panel")).to_contain_text("Acknowledged by ana")
        await screenshot(page, "alert")

        # the story page, from the records the daemon publishes on news.stories
        await page.goto(base + "/")
        await expect(row(page, "arms-transfer-speculation").locator(".ack")).to_contain_text("ana")
        await screenshot(page, "alerts")
        await row(page, SILENCED_RULE).locator("td.story a").click()
        timeline = page.locator("ol.timeline > li")
        await expect(timeline).to_have_count(2)
        await expect(page.locator("#story-changed")).to_be_hidden()
        # a syndicated copy arrives while the page is open: the page says so
        drop(inbox, "03")
        await expect(page.locator("#story-changed")).to_be_visible(timeout=60_000)
        await expect(page.locator("#story-changed")).to_contain_text("1 new report")
        await page.locator("#story-changed a").click()
        await expect(timeline).to_have_count(3)
        await expect(page.locator("#story-changed")).to_be_hidden()
        await expect(page.locator("ol.timeline li.copy .copy-of a")).to_have_count(1)
        await expect(timeline.first).to_contain_text("Kim")
        await expect(page.locator("h1")).to_have_text(KIM_STORY_TITLE)
        await expect(page.locator(".panel .tags").first).to_contain_text("Northern Daily")
        await expect(page.locator("main")).to_contain_text("Kim Jong Un")
        await expect(page.locator("details.story-alert")).to_have_count(3)
        await screenshot(page, "story")

        # another event of a leader from 01: a second story (its crossing alert is silenced,
        # the stories list shows it all the same)
        drop(inbox, "04")
        await processed(daemon, 4)
        stories = await read_topic(kafka_bootstrap, f"{prefix}news.stories", until=lambda v: len(v) >= 4, timeout=30)
        assert len({s["id"] for s in stories}) == 2
        await page.goto(base + "/stories")
        await expect(page.locator("table.alerts tbody tr")).to_have_count(2, timeout=30_000)
        await expect(page.locator("table.alerts tbody")).to_contain_text("Putin")
        await page.goto(base + "/silences")
        await screenshot(page, "silences")

        # a filter narrows the list, is in the URL, and survives a reload
        await page.goto(base + "/")
        await page.fill("input[name=rule]", "leaders-summit")
        await page.get_by_role("button", name="Filter").click()
        await expect(page).to_have_url(f"{base}/?severity=&rule=leaders-summit&entity=&event=&modality=&source=&since=&q=")
        await expect(page.locator("#alerts tr")).to_have_count(1)
        await page.reload()
        await expect(page.locator("#alerts tr")).to_have_count(1)
        await expect(page.locator("input[name=rule]")).to_have_value("leaders-summit")
        await page.select_option("select[name=severity]", "critical")
        await page.get_by_role("button", name="Filter").click()
        await expect(page.locator("#alerts tr")).to_have_count(0)
        await expect(page.locator("#empty")).to_be_visible()


async def test_hostile_text_is_shown_as_text_live_and_on_the_story_page(kafka_bootstrap, clean_settings_env,
                                                                        monkeypatch, unique_name, browser,
                                                                        screenshot):
    prefix, port = unique_name("hostile") + ".", free_port()
    for name, value in {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "NEWSMON_TOPIC_PREFIX": prefix,
                        "NEWSMON_DASHBOARD_PORT": str(port)}.items():
        monkeypatch.setenv(name, value)
    await create_topics(kafka_bootstrap, [f"{prefix}news.stories", f"{prefix}news.alerts"])
    base = f"http://127.0.0.1:{port}"
    stop = asyncio.Event()
    task = asyncio.create_task(run_dashboard(Settings(), stop))
    try:
        await poll(f"{base}/healthz", lambda status, body: status == 200 and json.loads(body)["ready"], timeout=60)
        page = await browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), asyncio.ensure_future(d.dismiss())))
        await page.goto(base + "/")
        await expect(page.locator("#live")).to_have_text("live")
        now = datetime.now(timezone.utc)
        hostile_reports = [report("h1", "<b>Wire</b>", now, url="javascript:alert(document.domain)",
                                  title=HOSTILE_TITLE, evidence="<img src=x onerror=alert(4)> said \u202egnp.exe"),
                           report("h2", "AP", now, url="https://ap.example/h2", duplicate_of="h1")]
        await publish(kafka_bootstrap, f"{prefix}news.stories", "sx",
                       record(story("sx", hostile_reports, title=HOSTILE_TITLE)))
        await publish(kafka_bootstrap, f"{prefix}news.alerts", "hx",
                       record(alert("hx", title=HOSTILE_TITLE, story="sx", at=now, url="javascript:alert(5)",
                                    sources=("<script>x</script>",),
                                    events=(event(sentence="<script>alert(6)</script> crossed"),))))
        # the live row, built by the page's JS
        live_row = page.locator("#alerts tr[data-id=hx]")
        await expect(live_row).to_have_count(1, timeout=30_000)
        await expect(live_row.locator("td.title")).to_contain_text("<script>alert(1)</script><img src=x onerror=alert(2)>")
        await expect(live_row.locator("td.title")).to_contain_text("[U+202E]exe.txt")
        assert await page.locator("#alerts img, #alerts script").count() == 0
        # server-rendered pages
        for path in ("/alerts/hx", "/stories/sx"):
            await page.goto(base + path)
            await expect(page.locator("h1")).to_contain_text("<script>alert(1)</script>")
            assert await page.locator("main img, main script").count() == 0
            assert await page.locator("a[href^='javascript:' i], a[href^='data:' i]").count() == 0
        await expect(page.locator("ol.timeline")).to_contain_text("<img src=x onerror=alert(4)>")
        await expect(page.locator("ol.timeline")).to_contain_text("[U+202E]gnp.exe")
        await screenshot(page, "hostile-story")
        await asyncio.sleep(0.5)
        assert dialogs == []
    finally:
        stop.set()
        await task
