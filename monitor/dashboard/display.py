"""Hostile text made safe to show, and small formatting helpers.

Article text reaches the page through titles, evidence sentences, source names
and URLs. Jinja's autoescaping (and textContent in the browser) stop markup;
this module handles what escaping does not: links that are not http(s), and
invisible Unicode that reorders or hides text (a right-to-left override can
make "exe.txt" read "txt.exe"). Bidi controls are shown as visible markers;
zero-width spaces are dropped. ZWNJ/ZWJ stay: Persian and Indic text need them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_INVISIBLE = re.compile("[\u200b\u2060\ufeff\u00ad]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str | None, limit: int | None = None) -> str:
    """Text as it may be shown: no control characters, bidi controls made
    visible (`[U+202E]`), zero-width characters removed, optionally cut."""
    if not text:
        return ""
    if limit is not None:
        text = text[: 2 * limit + 64]  # long text is cut anyway: clean no more than is shown
    text = _CONTROL.sub("", text)
    text = _INVISIBLE.sub("", text)
    text = _BIDI_CONTROLS.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "\u2026"
    return text


def safe_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) link to a host, else None: a
    `javascript:` or `data:` URL from an article is never made a link."""
    if not url:
        return None
    url = url.strip()
    if _CONTROL.search(url) or _INVISIBLE.search(url) or _BIDI_CONTROLS.search(url) or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime | None) -> str | None:
    return aware(moment).astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def short_time(moment: datetime | None) -> str:
    """'2026-05-01 14:03 UTC'."""
    return aware(moment).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


def span(delta: timedelta) -> str:
    """A time span as its two largest units: 3d4h, 2h5m, 4m10s."""
    seconds = max(0, int(delta.total_seconds()))
    parts = [(seconds // 86400, "d"), (seconds % 86400 // 3600, "h"), (seconds % 3600 // 60, "m"), (seconds % 60, "s")]
    while len(parts) > 1 and parts[0][0] == 0:
        parts.pop(0)
    return "".join(f"{n}{unit}" for i, (n, unit) in enumerate(parts[:2]) if n or i == 0)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_duration(text: str) -> timedelta:
    """'90s', '15m', '2h', '7d', '1w' -> timedelta; ValueError otherwise."""
    match = _DURATION.match(text or "")
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30m, 4h, 7d)")
    unit = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[match.group(2)]
    return timedelta(seconds=float(match.group(1)) * unit)
