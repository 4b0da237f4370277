"""Durations, severities and stored timestamps: the small vocabulary the rule
language, the rule state and the CLI share, defined once.

Two duration forms on purpose: rule files take only a whole number and a
unit (`parse_duration`: `6`, `6 hours` or `PT6H` are errors, never seconds
by accident), the command line also takes a fraction (`parse_seconds`:
`--since 1.5h`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, get_args

from monitor.models import Severity

SEVERITIES: tuple[str, ...] = get_args(Severity)  # lowest first
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DURATION_HELP = "write a whole number and a unit s, m, h or d, e.g. 30s, 15m, 6h, 7d"
_RULE_DURATION = re.compile(r"([0-9]+)([smhd])")
_CLI_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")


class DurationError(ValueError):
    """An invalid duration; `suggestion` says how to write it."""

    def __init__(self, message: str, suggestion: str) -> None:
        super().__init__(message)
        self.suggestion = suggestion


def parse_duration(value: Any) -> timedelta:
    """`6h` -> timedelta(hours=6), the rule files' form (see the module docstring)."""
    if isinstance(value, timedelta):
        return value
    text = value.strip() if isinstance(value, str) else None
    match = _RULE_DURATION.fullmatch(text) if text else None
    if match is None:
        number = isinstance(value, int) and not isinstance(value, bool)
        hint = f"add a unit s, m, h or d, e.g. '{value}h'" if number else DURATION_HELP
        raise DurationError(f"invalid duration {value!r}", hint)
    amount = int(match.group(1))
    if amount == 0:
        raise DurationError(f"invalid duration {value!r}: it must be longer than zero", DURATION_HELP)
    return timedelta(seconds=amount * UNIT_SECONDS[match.group(2)])


def format_duration(value: timedelta) -> str:
    """The inverse of parse_duration, in the largest unit that divides evenly."""
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds % UNIT_SECONDS[unit] == 0:
            return f"{seconds // UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


def parse_seconds(text: str) -> float:
    """'90s', '15m', '2h', '7d', '1.5h' -> seconds (the command line's form)."""
    match = _CLI_DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 15m, 2h, 7d)")
    return float(match.group(1)) * UNIT_SECONDS[match.group(2)]


def parse_min_severity(text: str) -> str:
    """'high' or '>=high' -> 'high'."""
    level = text.strip().removeprefix(">=").strip().lower()
    if level not in SEVERITIES:
        raise ValueError(f"unknown severity {text!r}; one of {', '.join(SEVERITIES)}")
    return level


def timestamp(value: str) -> datetime:
    """A timestamp as rule state stores it (ISO 8601) back to a datetime."""
    return datetime.fromisoformat(value)
