"""One error tree for everything a user can get wrong (config, rule files,
rulesets, feeds): each error can carry where it is (file, line, column), so
every command reports ``file:line: what is wrong`` the same way. Pure: the CLI
turns these into click errors (monitor/cli/), the core never imports click.
"""

from __future__ import annotations

from typing import Any


class NewsmonError(Exception):
    """Base of newsmon's user-facing errors; `file`, `line`, `column` if known."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None,
                 column: int | None = None) -> None:
        self.file, self.line, self.column = file, line, column
        super().__init__(message)


class ConfigError(NewsmonError, ValueError):
    """Invalid configuration (newsmon.yaml, environment, a sink): every command
    prints it as ``Error: <file>:<line>: <key>: <problem>`` and exits 1."""


class RuleFileError(NewsmonError, ValueError):
    """A rule file (watchlist, event catalogue, feeds file) is invalid; the
    message names file, line and item id."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None,
                 item_id: str | None = None) -> None:
        self.item_id, self.detail = item_id, message
        where = f"{file}:{line}" if file and line else (file or "<rules>")
        who = f" {item_id!r}:" if item_id else ""
        super().__init__(f"{where}:{who} {message}", file, line)


class FeedConfigError(RuleFileError):
    """feeds.yaml or an OPML file is invalid."""


class RulesetError(NewsmonError):
    """A ruleset failed to load; `errors` lists every problem (monitor/rules/loader.py RuleError)."""

    def __init__(self, errors: list[Any]) -> None:
        self.errors = errors
        first = errors[0] if errors else None
        super().__init__("\n".join(str(e) for e in errors), getattr(first, "file", None),
                         getattr(first, "line", None), getattr(first, "column", None))
