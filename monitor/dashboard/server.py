"""The dashboard's web server: server-rendered pages (Jinja2, autoescaped),
one small JS module for live updates over server-sent events, static files
from the package. Runs inside `newsmon run` or alone (`newsmon ui`).

Write actions go to the topics (silences, acknowledgements) and are applied
to this instance's view at once; other instances see them through the
topics, as they see everything else.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import re
from pathlib import Path

import jinja2
from aiohttp import web
from aiokafka.errors import KafkaError

from monitor.dashboard import auth as guard
from monitor.dashboard.chart import counts_chart
from monitor.dashboard.display import clean_text, safe_url, short_time, span
from monitor.dashboard.filters import ACTIONS, MODALITIES, SEVERITIES, AlertFilter, duration_ok, since_choices
from monitor.dashboard.topics import Writer, ensure_dashboard_topics, start_followers, topic_names
from monitor.dashboard.view import Ack, Change, DashboardState
from monitor.log import get_logger
from monitor.models import utcnow
from monitor.rules.silences import Silence
from monitor.settings import Settings

log = get_logger(__name__)

HERE = Path(__file__).resolve().parent
LIST_LIMIT = 200
RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$")
STATE, HUB, WRITER, AUTH, READY, RULES_DIR = (web.AppKey(n, object) for n in
                                              ("state", "hub", "writer", "auth", "ready", "rules_dir"))


class Hub:
    """Fan-out of changes to the open event streams; a stream that falls
    behind is dropped (its browser reconnects)."""

    def __init__(self) -> None:
        self.queues: set[asyncio.Queue] = set()

    def publish(self, change: Change) -> None:
        for queue in list(self.queues):
            try:
                queue.put_nowait(change)
            except asyncio.QueueFull:  # end that stream: its page reloads on reconnect
                self.queues.discard(queue)
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(None)


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(time=short_time, clean=clean_text, safe_url=safe_url, span=span)
    return env


TEMPLATES = _templates()


def render(request: web.Request, name: str, status: int = 200, **context) -> web.Response:
    app = request.app
    ready = app[READY]
    page = TEMPLATES.get_template(name).render(
        user=request.get(guard.USER), csrf=request.get(guard.CSRF, ""), auth=app[AUTH].mode, path=request.path,
        loading=[k for k, e in ready.items() if not e.is_set()], now=utcnow(), **context)
    return web.Response(text=page, content_type="text/html", charset="utf-8", status=status)


def _query(request: web.Request) -> dict[str, list[str]]:
    return {k: request.query.getall(k) for k in request.query}


# ------------------------------------------------------------------ pages


async def alerts_page(request: web.Request) -> web.Response:
    state: DashboardState = request.app[STATE]
    wanted = AlertFilter.from_query(_query(request))
    entries, total = state.query(wanted, LIST_LIMIT)
    chart = counts_chart(state.entries(), utcnow(), request.query.get("chart", "rule"),
                         request.query.get("span", "day"))
    return render(request, "alerts.html", rows=[state.summary(e) for e in entries], total=total, filter=wanted,
                  facets=state.facets(), severities=SEVERITIES, actions=ACTIONS, modalities=MODALITIES,
                  since_choices=since_choices(), chart=chart, limit=LIST_LIMIT)


async def alert_page(request: web.Request) -> web.Response:
    detail = request.app[STATE].alert_detail(request.match_info["alert_id"])
    if detail is None:
        return render(request, "error.html", status=404, message="No such alert (or it is older than the "
                      "dashboard keeps).")
    return render(request, "alert.html", a=detail)


async def stories_page(request: web.Request) -> web.Response:
    state: DashboardState = request.app[STATE]
    return render(request, "stories.html", stories=state.recent_stories())


async def story_page(request: web.Request) -> web.Response:
    story = request.app[STATE].story_page(request.match_info["story_id"])
    if story is None:
        return render(request, "error.html", status=404, message="No such story (yet).")
    return render(request, "story.html", s=story)


async def silences_page(request: web.Request, errors: list[str] | None = None, status: int = 200,
                        form: dict | None = None) -> web.Response:
    state: DashboardState = request.app[STATE]
    now = utcnow()
    form = form or {"rule": request.query.get("rule", ""), "key": request.query.get("key", ""),
                    "duration": "4h", "reason": ""}
    silences = [{"s": s, "active": s.active(now), "left": span(s.until - now) if s.active(now) else
                 span(now - s.until)} for s in state.silences.all()]
    silences.sort(key=lambda item: (not item["active"], item["s"].until))
    return render(request, "silences.html", status=status, silences=silences, errors=errors or [], form=form,
                  rule_ids=state.rule_ids())


async def login_page(request: web.Request) -> web.Response:
    if request.app[AUTH].mode != "token":
        return render(request, "error.html", status=404, message="This dashboard has no login form.")
    return render(request, "login.html", next=guard.safe_next(request.query.get("next")), error="")


# ------------------------------------------------------------------ actions


async def _form(request: web.Request) -> dict[str, str]:
    form = await request.post()
    data = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    if not guard.csrf_ok(request, data.get("csrf", "")):
        raise web.HTTPForbidden(text="CSRF check failed: reload the page and try again")
    return data


def _who(request: web.Request, data: dict[str, str]) -> str:
    return request.get(guard.USER) or clean_text(data.get("by", "").strip(), 120)


def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


async def login(request: web.Request) -> web.Response:
    auth: guard.Auth = request.app[AUTH]
    data = await _form(request)
    target = guard.safe_next(data.get("next"))
    name = clean_text(data.get("name", "").strip(), 120)
    if not auth.check_token(data.get("token", "")) or not name:
        return render(request, "login.html", status=403, next=target,
                      error="Wrong token." if name else "Give your name (it signs your actions).")
    response = _redirect(target)
    response.set_cookie(guard.SESSION_COOKIE, auth.session_cookie(name), httponly=True, samesite="Strict",
                        path="/", secure=request.secure, max_age=guard.SESSION_SECONDS)
    return response


async def logout(request: web.Request) -> web.Response:
    await _form(request)
    response = _redirect("/login")
    response.del_cookie(guard.SESSION_COOKIE, path="/")
    return response


async def acknowledge(request: web.Request) -> web.Response:
    state: DashboardState = request.app[STATE]
    alert_id = request.match_info["alert_id"]
    data = await _form(request)
    if alert_id not in state.alerts:
        raise web.HTTPNotFound(text="no such alert")
    who = _who(request, data)
    withdraw = request.path.endswith("/unack")
    if not who and not withdraw:
        return render(request, "alert.html", status=400, a=state.alert_detail(alert_id),
                      error="Say who you are: the acknowledgement is signed with it.")
    ack = None if withdraw else Ack(alert_id=alert_id, by=who, at=utcnow(), note=data.get("note", "")[:2000])
    try:
        await (request.app[WRITER].unack(alert_id) if withdraw else request.app[WRITER].ack(ack))
    except KafkaError as exc:
        raise web.HTTPServiceUnavailable(text=f"Kafka did not take it: {exc}") from None
    request.app[HUB].publish(state.apply_ack(alert_id, ack))
    log.info("dashboard_ack", alert_id=alert_id, by=who, withdrawn=withdraw)
    return _redirect(guard.safe_next(data.get("next"), f"/alerts/{alert_id}"))


async def create_silence(request: web.Request) -> web.Response:
    state: DashboardState = request.app[STATE]
    data = await _form(request)
    form = {k: data.get(k, "").strip() for k in ("rule", "key", "duration", "reason", "by")}
    errors = []
    if not RULE_ID.match(form["rule"]):
        errors.append("Rule id: letters, digits and . _ : - only.")
    try:
        duration = duration_ok(form["duration"])
    except ValueError as exc:
        errors.append(f"Duration: {exc}.")
    who = _who(request, data)
    if not who:
        errors.append("Say who you are: the silence is signed with it.")
    if len(form["reason"]) > 500 or len(form["key"]) > 300:
        errors.append("Reason at most 500 characters, key at most 300.")
    if not errors and not data.get("force"):
        errors.extend(await _unknown_rule(request, form["rule"]))
    if errors:
        return await silences_page(request, errors, 400, form)
    silence = Silence.create(form["rule"], duration, key=form["key"] or None, reason=form["reason"],
                             created_by=who)
    try:
        await request.app[WRITER].silence(silence)
    except KafkaError as exc:
        return await silences_page(request, [f"Kafka did not take it: {exc}"], 503, form)
    state.silences.apply(silence)
    log.info("dashboard_silence", silence_id=silence.id, rule_id=silence.rule_id, key=silence.key, by=who)
    return _redirect("/silences")


async def _unknown_rule(request: web.Request, rule_id: str) -> list[str]:
    """As `newsmon alerts silence` does: a silence for a misspelt rule would mute
    nothing, so a rule neither the rules directory nor any alert knows is refused
    (with the closest ids) unless forced."""
    known = set(request.app[STATE].rule_ids()) | await asyncio.to_thread(_rules_dir_ids, request.app[RULES_DIR])
    if rule_id in known:
        return []
    close = difflib.get_close_matches(rule_id, sorted(known), n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return [(f"No rule {rule_id!r} in the rules directory or the alerts.{hint} Tick 'silence anyway' to "
             "silence it all the same.")]


def _rules_dir_ids(rules_dir: Path) -> set[str]:
    from monitor.enrich.tag import Tagger
    from monitor.pipeline import load_rules

    try:
        return set(load_rules(rules_dir, Tagger.from_rules_dir(rules_dir)).by_id())
    except Exception as exc:  # noqa: BLE001 -- any load failure: we just cannot check against it
        log.warning("dashboard_rules_unreadable", rules_dir=str(rules_dir), error=str(exc)[:200])
        return set()


async def delete_silence(request: web.Request) -> web.Response:
    state: DashboardState = request.app[STATE]
    silence_id = request.match_info["silence_id"]
    await _form(request)
    if silence_id not in state.silences:
        raise web.HTTPNotFound(text="no such silence")
    try:
        await request.app[WRITER].unsilence(silence_id)
    except KafkaError as exc:
        raise web.HTTPServiceUnavailable(text=f"Kafka did not take it: {exc}") from None
    state.silences.remove(silence_id)
    log.info("dashboard_unsilence", silence_id=silence_id, by=request.get(guard.USER))
    return _redirect("/silences")


# ------------------------------------------------------------------ live


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events for the page that opened them, filtered as that
    page is: `alert` (a row to add or replace, or `match: false` to drop),
    `story`, `silence`."""
    state: DashboardState = request.app[STATE]
    hub: Hub = request.app[HUB]
    wanted = AlertFilter.from_query(_query(request))
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
    queue: asyncio.Queue = asyncio.Queue(maxsize=2000)
    hub.queues.add(queue)
    try:
        await response.prepare(request)
        await response.write(f"retry: 2000\nevent: hello\ndata: {json.dumps(_loading(request.app))}\n\n".encode())
        while True:
            try:
                change = await asyncio.wait_for(queue.get(), timeout=15)
            except TimeoutError:
                await response.write(b": ping\n\n")
                continue
            if change is None:
                break
            payload = ("status", _loading(request.app)) if change.kind == "status" else \
                _event_payload(state, wanted, change)
            if payload is not None:
                kind, data = payload
                await response.write(f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        hub.queues.discard(queue)
    return response


def _loading(app: web.Application) -> dict:
    return {"loading": [kind for kind, event in app[READY].items() if not event.is_set()]}


def _event_payload(state: DashboardState, wanted: AlertFilter, change: Change) -> tuple[str, dict] | None:
    if change.kind in ("alert", "ack"):
        entry = state.alerts.get(change.id)
        if entry is None:
            return None
        if not wanted.matches(entry.alert, utcnow()):
            return "alert", {"id": change.id, "match": False}
        return "alert", {"match": True, **state.summary(entry)}
    if change.kind == "story" and (story := state.stories.get(change.id)) is not None:
        # what changed, so an open story page can tell (and ignore a replay's identical record)
        return "story", {"id": change.id, "title": story.title, "report_count": story.report_count,
                         "status": story.status}
    return change.kind, {"id": change.id}


async def api_alerts(request: web.Request) -> web.Response:
    state: DashboardState = request.app[STATE]
    wanted = AlertFilter.from_query(_query(request))
    entries, total = state.query(wanted, LIST_LIMIT)
    return web.json_response({"total": total, "alerts": [state.summary(e) for e in entries],
                              "errors": wanted.errors})


async def healthz(request: web.Request) -> web.Response:
    ready = {k: e.is_set() for k, e in request.app[READY].items()}
    return web.json_response({"ready": all(ready.values()), "topics": ready})


# ------------------------------------------------------------------ app


def build_app(settings: Settings, state: DashboardState, writer: Writer,
              ready: dict[str, asyncio.Event]) -> tuple[web.Application, Hub]:
    auth = guard.Auth(settings.dashboard)
    app = web.Application(middlewares=[guard.middleware(auth)], client_max_size=64 * 1024)
    hub = Hub()
    app[STATE], app[HUB], app[WRITER], app[AUTH], app[READY] = state, hub, writer, auth, ready
    app[RULES_DIR] = settings.rules_dir
    app.on_response_prepare.append(guard.secure_headers)
    r = app.router
    r.add_get("/", alerts_page)
    r.add_get("/alerts/{alert_id}", alert_page)
    r.add_post("/alerts/{alert_id}/ack", acknowledge)
    r.add_post("/alerts/{alert_id}/unack", acknowledge)
    r.add_get("/stories", stories_page)
    r.add_get("/stories/{story_id}", story_page)
    r.add_get("/silences", silences_page)
    r.add_post("/silences", create_silence)
    r.add_post("/silences/{silence_id}/remove", delete_silence)
    r.add_get("/events", events)
    r.add_get("/api/alerts", api_alerts)
    r.add_get("/healthz", healthz)
    r.add_get("/login", login_page)
    r.add_post("/login", login)
    r.add_post("/logout", logout)
    r.add_static("/static/", HERE / "static", append_version=False)
    return app, hub


async def run_dashboard(settings: Settings, stop: asyncio.Event | None = None,
                        on_listening=None) -> bool:
    """Serve the dashboard until `stop` is set (or the task is cancelled),
    building its view from the topics meanwhile; False if it could not
    listen. It listens first: with the broker away the page says what it is
    still loading. A busy port is logged, never raised: inside `newsmon run`
    the stream must go on without its dashboard."""
    stop = stop or asyncio.Event()
    config = settings.dashboard
    state = DashboardState(max_alerts=config.max_alerts)
    ready = {kind: asyncio.Event() for kind in topic_names(settings)}
    app, hub = build_app(settings, state, Writer(settings), ready)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    feeding: asyncio.Task | None = None
    try:
        try:
            await web.TCPSite(runner, config.host, config.port).start()
        except OSError as exc:
            log.error("dashboard_bind_failed", host=config.host, port=config.port, error=str(exc))
            return False
        url = f"http://{config.host}:{config.port}/"
        log.info("dashboard_listening", url=url, auth=config.auth)
        if on_listening is not None:
            on_listening(url)
        feeding = asyncio.create_task(_feed(settings, state, hub, ready, stop), name="dashboard-feed")
        await stop.wait()
        return True
    finally:
        stop.set()
        for queue in list(hub.queues):  # end the event streams so the runner can close
            if not queue.full():
                queue.put_nowait(None)
        await runner.cleanup()
        if feeding is not None:
            feeding.cancel()
            await asyncio.gather(feeding, return_exceptions=True)


async def _announce(ready: asyncio.Event, hub: Hub) -> None:
    await ready.wait()
    hub.publish(Change("status", ""))


async def _feed(settings: Settings, state: DashboardState, hub: Hub, ready: dict[str, asyncio.Event],
                stop: asyncio.Event) -> None:
    """Create the topics the dashboard writes to, then follow all four."""
    try:
        await ensure_dashboard_topics(settings, attempts=None)
    except Exception as exc:  # noqa: BLE001 -- the followers wait for the topics anyway
        log.warning("dashboard_topics_not_created", error=str(exc))
    tasks = start_followers(settings, state, hub.publish, stop, ready)
    for event in ready.values():  # tell open pages when each topic has been read
        tasks.append(asyncio.create_task(_announce(event, hub)))
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
