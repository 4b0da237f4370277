"""The dashboard's pages over HTTP, from a view filled with records: hostile
article text stays text, only http(s) links are made, every response carries
the security headers, and write actions need the CSRF token (and the login
when one is configured). Refused writes never reach Kafka, so no broker here;
accepted ones are tested through the real broker (tests/integration)."""

from __future__ import annotations

import asyncio
import base64
import re
from datetime import timedelta

import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from monitor.settings import Settings
from monitor.dashboard.server import STATE, build_app
from monitor.dashboard.topics import Writer
from monitor.dashboard.view import Ack, DashboardState
from tests.dashboard_util import HOSTILE_TITLE, T0, alert, event, record, report, story


def filled_state() -> DashboardState:
    state = DashboardState(clock=lambda: T0 + timedelta(hours=1))
    hostile = [report("r1", "Evil<b>Wire</b>", T0, url="javascript:alert(document.cookie)", title=HOSTILE_TITLE,
                      evidence='He said "<img src=x onerror=alert(3)>" \u202eevil'),
               report("r2", "AP", T0 + timedelta(minutes=5), url="data:text/html,<script>x</script>"),
               report("r3", "Reuters", T0 + timedelta(minutes=9), url="https://reuters.example/r3", duplicate_of="r1")]
    state.apply_record("stories", b"s1", record(story(reports=hostile, title=HOSTILE_TITLE)))
    state.apply_alert(alert("a1", title=HOSTILE_TITLE, url="javascript:alert(1)",
                            events=(event(sentence="<script>steal()</script> crossed \u200bthe border"),)))
    state.apply_alert(alert("a2", rule="other-rule", severity="low", story="s2", title="Plain alert"))
    return state


@pytest_asyncio.fixture
async def make_client(clean_settings_env, monkeypatch):
    clients: list[TestClient] = []

    async def make(**env: str) -> TestClient:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings = Settings()
        ready = {k: asyncio.Event() for k in ("alerts", "stories", "silences", "acks")}
        for event_ in ready.values():
            event_.set()
        app, _ = build_app(settings, filled_state(), Writer(settings), ready)
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


def links(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


async def test_hostile_article_text_is_escaped_and_bad_links_are_not_made(make_client):
    client = await make_client()
    for path in ("/", "/alerts/a1", "/stories/s1", "/stories"):
        resp = await client.get(path)
        html = await resp.text()
        assert resp.status == 200, path
        assert "<script>alert(1)" not in html and "<img src=x" not in html and "<b>Wire" not in html, path
        assert not any(h.lower().startswith(("javascript:", "data:")) for h in links(html)), path
        assert "\u202e" not in html and "\u200b" not in html, path
    story_html = await (await client.get("/stories/s1")).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in story_html  # shown, as text
    assert "[U+202E]exe.txt" in story_html  # the right-to-left override made visible
    assert 'href="https://reuters.example/r3"' in story_html
    assert 'href="#report-r1"' in story_html  # the copy links to its original
    assert "(no web link)" in story_html
    await client.close()


async def test_every_response_carries_the_security_headers(make_client):
    client = await make_client()
    for path in ("/", "/alerts/a1", "/silences", "/nope", "/static/dashboard.js"):
        resp = await client.get(path)
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "same-origin"
    html = await (await client.get("/")).text()
    assert "<script>" not in html and " style=" not in html and "onclick" not in html  # nothing CSP would block
    assert '<script type="module" src="/static/dashboard.js"></script>' in html
    await client.close()


async def test_filters_come_from_the_url_query(make_client):
    client = await make_client()
    html = await (await client.get("/?rule=other-rule")).text()
    assert 'data-id="a2"' in html and 'data-id="a1"' not in html
    assert 'value="other-rule"' in html  # the form shows the filter in force
    api = await (await client.get("/api/alerts?severity=high")).json()
    assert [a["id"] for a in api["alerts"]] == ["a1"]
    assert api["alerts"][0]["title"].startswith("<script>")  # JSON carries text; the page's JS sets textContent
    bad = await (await client.get("/?severity=urgent")).text()
    assert "unknown severity" in bad
    await client.close()


async def test_writes_without_the_csrf_token_or_from_another_site_are_refused(make_client):
    client = await make_client()
    await client.get("/")  # receives the CSRF cookie
    token = client.session.cookie_jar.filter_cookies(client.make_url("/"))["newsmon_csrf"].value
    no_token = await client.post("/alerts/a1/ack", data={"by": "mallory"})
    assert no_token.status == 403
    wrong = await client.post("/silences", data={"csrf": "x" * 32, "rule": "r", "duration": "1h", "by": "m"})
    assert wrong.status == 403
    cross = await client.post("/silences/abc/remove", data={"csrf": token},
                              headers={"Origin": "https://evil.example"})
    assert cross.status == 403
    hidden = await client.post("/silences/abc/remove", data={"csrf": token}, headers={"Origin": "null"})
    assert hidden.status == 403
    fetch_site = await client.post("/alerts/a1/ack", data={"csrf": token, "by": "m"},
                                   headers={"Sec-Fetch-Site": "cross-site"})
    assert fetch_site.status == 403
    # with the token, a bad form is answered on the page (nothing is written)
    invalid = await client.post("/silences", data={"csrf": token, "rule": "<script>", "duration": "soon", "by": "m"})
    assert invalid.status == 400
    text = await invalid.text()
    assert "Rule id:" in text and "Duration:" in text and "<script>" not in text.split("<main>")[1].split("</main>")[0].replace('<script type="module"', "")
    await client.close()


async def test_token_login_guards_every_page_and_signs_actions(make_client):
    client = await make_client(NEWSMON_DASHBOARD_AUTH="token", NEWSMON_DASHBOARD_SECRET="s3cret-token-0123456789")
    resp = await client.get("/?rule=x", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/login?next=")
    assert (await client.get("/api/alerts")).status == 401
    assert (await client.post("/alerts/a1/ack")).status == 401
    login_page = await client.get("/login")
    token = client.session.cookie_jar.filter_cookies(client.make_url("/"))["newsmon_csrf"].value
    assert login_page.status == 200
    wrong = await client.post("/login", data={"csrf": token, "name": "ana", "token": "guess"})
    assert wrong.status == 403
    ok = await client.post("/login", data={"csrf": token, "name": "ana", "token": "s3cret-token-0123456789",
                                           "next": "//evil.example/"}, allow_redirects=False)
    assert ok.status == 303 and ok.headers["Location"] == "/"  # no open redirect
    page = await client.get("/")
    assert page.status == 200 and '<span class="user">ana</span>' in await page.text()
    bearer = await client.get("/api/alerts", headers={"Authorization": "Bearer s3cret-token-0123456789"},
                              cookies={})
    assert bearer.status == 200
    await client.close()


async def test_basic_auth_and_the_trusted_proxy_header(make_client):
    client = await make_client(NEWSMON_DASHBOARD_AUTH="basic", NEWSMON_DASHBOARD_SECRET="ana:pw-one,bo:pw-two")
    assert (await client.get("/")).status == 401
    good = base64.b64encode(b"bo:pw-two").decode()
    bad = base64.b64encode(b"bo:pw-one").decode()
    assert (await client.get("/", headers={"Authorization": f"Basic {bad}"})).status == 401
    page = await client.get("/", headers={"Authorization": f"Basic {good}"})
    assert page.status == 200 and '<span class="user">bo</span>' in await page.text()
    await client.close()
    proxied = await make_client(NEWSMON_DASHBOARD_AUTH="proxy", NEWSMON_DASHBOARD_PROXY_HEADER="X-Remote-User")
    assert (await proxied.get("/")).status == 401
    page = await proxied.get("/alerts/a1", headers={"X-Remote-User": "cy"})
    assert page.status == 200 and '<span class="user">cy</span>' in await page.text()
    await proxied.close()


async def test_acknowledged_alert_shows_who_and_when(make_client):
    client = await make_client()
    state: DashboardState = client.server.app[STATE]
    state.apply_ack("a1", Ack(alert_id="a1", by="<b>ana</b>", at=T0, note="on it"))
    html = await (await client.get("/alerts/a1")).text()
    assert "&lt;b&gt;ana&lt;/b&gt;" in html and "2026-05-01 12:00 UTC" in html and "Withdraw" in html
    row = await (await client.get("/")).text()
    assert "ack · &lt;b&gt;ana&lt;/b&gt;" in row
    await client.close()


async def test_a_silence_for_a_rule_nobody_knows_is_refused_with_the_closest_ids(make_client):
    client = await make_client()
    await client.get("/silences")
    token = client.session.cookie_jar.filter_cookies(client.make_url("/"))["newsmon_csrf"].value
    resp = await client.post("/silences", data={"csrf": token, "rule": "leader-border-crosing", "duration": "1h",
                                                "by": "ana"})
    html = await resp.text()
    assert resp.status == 400
    assert "No rule &#39;leader-border-crosing&#39;" in html and "Did you mean leader-border-crossing" in html
    assert 'name="force"' in html  # and it can be forced, as with --force
