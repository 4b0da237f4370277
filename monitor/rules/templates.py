"""Alert titles and texts from rule templates: `str.format` over a flat
context (`TEMPLATE_FIELDS`), refusing attribute and index access, and never
raising (a broken template shows its error in the alert instead)."""

from __future__ import annotations

import string
from typing import Any


class _SafeFormatter(string.Formatter):
    """str.format that refuses attribute and index access: templates only
    see the flat context, never Python objects."""

    def get_field(self, field_name, args, kwargs):
        if not field_name.isidentifier():
            raise ValueError(f"template field {field_name!r} is not allowed")
        return self.get_value(field_name, args, kwargs), field_name


_FORMATTER = _SafeFormatter()
TEMPLATE_FIELDS = (
    "rule_id", "rule_title", "severity", "article_title", "source", "entities", "names",
    "event", "modality", "actors", "destinations", "counterparts", "story_id",
    "corroboration", "suppressed",
)


TEMPLATE_NAMES = 5  # `{names}`: the article's main names (open vocabulary), most salient first


def render(template: str, context: dict[str, Any]) -> str:
    try:
        return _FORMATTER.vformat(template, (), context)
    except (KeyError, ValueError, IndexError) as exc:
        return f"{template} [template error: {exc}]"
