"""Who may use the dashboard, and the protections every response carries.

Login is optional (`dashboard.auth`): `token` (a shared token, typed once into
a login form, then an HMAC-signed cookie; or `Authorization: Bearer` for
scripts), `basic` (HTTP basic auth against user:password pairs) or `proxy`
(a reverse proxy in front authenticates and names the user in a header; only
for a dashboard the proxy alone can reach). With it on, every page needs it.

Write actions (POST) always carry CSRF protection, login or not: a random
token in an HttpOnly SameSite=Strict cookie that the form must repeat
(double submit), and a cross-site Origin or Sec-Fetch-Site is refused. Every
response gets a strict Content-Security-Policy (no inline script or style),
nosniff, no framing and no referrer to other sites (article links leak nothing).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import web

from monitor.settings.dashboard import Dashboard

SESSION_COOKIE, CSRF_COOKIE = "newsmon_session", "newsmon_csrf"
SESSION_SECONDS = 12 * 3600
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
OPEN_PATHS = ("/login", "/static/", "/healthz")
USER, CSRF = web.RequestKey("user", object), web.RequestKey("csrf", str)


class AuthConfigError(ValueError):
    pass


def _secret_lines(config: Dashboard) -> list[str]:
    if config.secret is not None:
        text = config.secret.get_secret_value().replace(",", "\n")
    elif config.secret_file is not None:
        try:
            text = Path(config.secret_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise AuthConfigError(f"dashboard.secret_file {config.secret_file}: {exc.strerror or exc}") from None
    else:
        raise AuthConfigError(f"dashboard.auth {config.auth} needs NEWSMON_DASHBOARD_SECRET or dashboard.secret_file")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


class Auth:
    def __init__(self, config: Dashboard) -> None:
        self.mode = config.auth
        self.proxy_header = config.proxy_header
        self.token = ""
        self.users: dict[str, str] = {}
        if self.mode == "token":
            self.token = _secret_lines(config)[0]
            if len(self.token) < 16:
                raise AuthConfigError("the dashboard token must be at least 16 characters")
        elif self.mode == "basic":
            for line in _secret_lines(config):
                user, sep, password = line.partition(":")
                if not sep or not user or not password:
                    raise AuthConfigError("basic auth secret: one user:password per line (or comma-separated)")
                self.users[user] = password
        seed = self.token or "\n".join(f"{u}:{p}" for u, p in sorted(self.users.items())) or secrets.token_hex(32)
        self._key = hashlib.sha256(b"newsmon-dashboard-session\x00" + seed.encode()).digest()

    @property
    def enabled(self) -> bool:
        return self.mode != "none"

    # ------------------------------------------------------------ identity

    def identify(self, request: web.Request) -> str | None:
        """The signed-in user's name, or None."""
        if self.mode == "proxy":
            user = request.headers.get(self.proxy_header, "").strip()
            return user[:120] or None
        header = request.headers.get("Authorization", "")
        if self.mode == "basic" and header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:], validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            known = self.users.get(user)
            return user if known is not None and hmac.compare_digest(known.encode(), password.encode()) else None
        if self.mode == "token":
            if header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(), self.token.encode()):
                return "token"
            return self._session_user(request.cookies.get(SESSION_COOKIE, ""))
        return None

    def check_token(self, token: str) -> bool:
        return self.mode == "token" and hmac.compare_digest(token.strip().encode(), self.token.encode())

    def session_cookie(self, user: str, now: float | None = None) -> str:
        issued = str(int(now if now is not None else time.time()))
        name = base64.urlsafe_b64encode(user.encode()).decode()
        return f"{name}.{issued}.{self._sign(name, issued)}"

    def _sign(self, name: str, issued: str) -> str:
        return hmac.new(self._key, f"{name}.{issued}".encode(), hashlib.sha256).hexdigest()

    def _session_user(self, cookie: str) -> str | None:
        try:
            name, issued, signature = cookie.split(".")
            if not hmac.compare_digest(signature, self._sign(name, issued)):
                return None
            if time.time() - int(issued) > SESSION_SECONDS:
                return None
            return base64.urlsafe_b64decode(name).decode()
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None


def csrf_ok(request: web.Request, form_token: str) -> bool:
    """Double submit, and no cross-site request."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not form_token or not hmac.compare_digest(cookie.encode(), form_token.encode()):
        return False
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site not in (None, "same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        return origin.split("://", 1)[-1] == request.host
    # "null": a browser hiding the origin; believe it only where it says same-origin itself
    return origin != "null" or fetch_site == "same-origin"


def safe_next(target: str | None, default: str = "/") -> str:
    """A redirect target inside this site only."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def middleware(auth: Auth):
    @web.middleware
    async def guard(request: web.Request, handler):
        request[USER] = auth.identify(request) if auth.enabled else None
        request[CSRF] = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        if auth.enabled and request[USER] is None and not request.path.startswith(OPEN_PATHS):
            if auth.mode == "basic":
                return web.Response(status=401, text="login required",
                                    headers={"WWW-Authenticate": 'Basic realm="newsmon", charset="UTF-8"'})
            if auth.mode == "proxy":
                return web.Response(status=401, text="login required (through the reverse proxy)")
            if request.method == "GET" and request.path != "/events" and not request.path.startswith("/api/"):
                return _redirect("/login?" + urlencode({"next": request.path_qs}))
            return web.Response(status=401, text="login required")
        return await handler(request)

    return guard


async def secure_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every response, streams and errors included."""
    headers = response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"  # article links also carry rel=noreferrer
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if not request.path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"
    token = request.get(CSRF)
    if token and request.cookies.get(CSRF_COOKIE) != token:  # headers are built: add the cookie by hand
        cookie = SimpleCookie()
        cookie[CSRF_COOKIE] = token
        morsel = cookie[CSRF_COOKIE]
        morsel.update({"httponly": True, "samesite": "Strict", "path": "/", "secure": request.secure})
        headers.add("Set-Cookie", morsel.OutputString())
