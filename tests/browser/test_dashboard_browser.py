"""The dashboard in a real browser (chromium via Playwright), against the real
broker: what an analyst does all day, with the daemon running."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import datetime, timezone

import pytest
from playwright.async_api import Page, expect

from monitor.settings import Settings
from monitor.dashboard.server import run_dashboard
from monitor.models import Article, StoryRecord, StoryReport
from tests.daemon import Daemon, free_port, newsmon_env, poll, running, wait_until
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
from tests.seeds import seed_path

pytestmark = pytest.mark.kafka

SILENCED_RULE = "leader-border-crossing"


def story_from_articles(articles: list[dict]) -> StoryRecord:
    """The record the stories stage publishes, made from what the daemon put on
    news.articles / news.duplicates (this branch's worker does not write it)."""
    reports = []
    for value in sorted(articles, key=lambda a: a["processed_at"]):
        a = Article.model_validate(value)
        main = a.events[0] if a.events else None
        reports.append(StoryReport(
            article_id=a.id, source=a.agency or a.source, title=a.title, url=a.url, published=a.published,
            seen_at=a.processed_at or datetime.now(timezone.utc), modality=main.modality if main else None,
            event_types=sorted({e.type for e in a.events}), evidence=main.evidence.sentence if main else None,
            duplicate_of=a.duplicate_of))
    first = Article.model_validate(sorted(articles, key=lambda a: a["processed_at"])[0])
    return StoryRecord(
        id=first.story_id, title=first.title or first.paragraphs[0][:90].rsplit(" ", 1)[0], first_report=reports[0], latest_report=reports[-1],
        reports=reports, report_count=len(reports), sources=list(dict.fromkeys(r.source for r in reports)),
        names=["Kim Jong Un", "Vladimir Putin"], entities=sorted({e.id for e in first.entities})[:6],
        event_types=sorted({t for r in reports for t in r.event_types}), first_seen=reports[0].seen_at,
        updated=reports[-1].seen_at)


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
        shutil.copy(seed_path("000"), inbox / "000.txt")
        await expect(row(page, SILENCED_RULE)).to_have_count(1, timeout=60_000)
        await expect(page.locator("#alerts tr")).to_have_count(3)
        await expect(row(page, SILENCED_RULE).locator("td.title a")).to_contain_text("Kim")

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
        await page.goto(base + "/")
        shutil.copy(seed_path("001"), inbox / "001.txt")
        await expect(row(page, "leaders-summit").locator(".rev")).to_have_text("r2", timeout=60_000)
        await processed(daemon, 2)
        await expect(row(page, SILENCED_RULE).locator(".rev")).to_have_text("r1")

        # acknowledge an alert; colleagues see who
        await row(page, "arms-transfer-speculation").locator("td.title a").click()
        await page.fill("input[name=by]", "ana")
        await page.fill("input[name=note]", "checking with the Seoul desk")
        await page.get_by_role("button", name="Acknowledge").click()
        await expect(page.locator(".ack-panel")).to_contain_text("Acknowledged by ana")
        await screenshot(page, "alert")

        # more reports of the story, one a copy: the story page's timeline
        for seed in ("002", "003", "004"):
            shutil.copy(seed_path(seed), inbox / f"{seed}.txt")
        await processed(daemon, 5)
        articles = await read_topic(kafka_bootstrap, f"{prefix}news.articles", until=lambda v: len(v) >= 4, timeout=30)
        copies = await read_topic(kafka_bootstrap, f"{prefix}news.duplicates", until=lambda v: len(v) >= 1, timeout=30)
        record_ = story_from_articles(articles + copies)
        await create_topics(kafka_bootstrap, [f"{prefix}news.stories"])
        await publish(kafka_bootstrap, f"{prefix}news.stories", record_.id, record(record_))
        await poll(f"{base}/stories/{record_.id}", lambda status, body: 'class="timeline"' in body, timeout=30)
        await page.goto(base + "/")
        await expect(page.locator("#alerts tr").first.locator("td.story a")).to_have_text(record_.title)
        await expect(row(page, "arms-transfer-speculation").locator(".ack")).to_contain_text("ana")
        await screenshot(page, "alerts")
        await page.locator("#alerts tr").first.locator("td.story a").click()
        timeline = page.locator("ol.timeline > li")
        await expect(timeline).to_have_count(5)
        await expect(page.locator("ol.timeline li.copy .copy-of a")).to_have_count(1)
        await expect(timeline.first).to_contain_text("Kim")
        await expect(page.locator("details.story-alert")).to_have_count(3)
        await screenshot(page, "story")
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
