"""The rule language, as pydantic models.

Every model forbids unknown keys, so a typo is an error rather than a rule
that silently never fires. A condition is a mapping with exactly one key
(``entity``, ``event``, ``text``, ``source``, ``duplicate``, ``all``, ``any``,
``not`` or ``macro``); the key picks the model, so validation errors come from
that one branch only and stay readable.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from monitor.models import Modality, Severity

MODALITIES: tuple[str, ...] = ("asserted", "planned", "speculative", "denied", "conditional")
CONDITION_KEYS: tuple[str, ...] = (
    "entity", "event", "text", "source", "duplicate", "all", "any", "not", "macro",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class EntitySpec(_Strict):
    """Watched entities by id. List names (from ``lists:``) expand in place."""

    any: list[str] = Field(default_factory=list, description="at least one of these")
    all: list[str] = Field(default_factory=list, description="every one of these")
    none: list[str] = Field(default_factory=list, description="none of these")
    min_mentions: int = Field(default=1, ge=1)
    in_headline: bool = Field(default=False, description="mentioned in the title")

    _lists = field_validator("any", "all", "none", mode="before")(_as_list)


class ArgumentSpec(_Strict):
    """Constraint on one event argument slot (actor, destination, ...)."""

    any: list[str] = Field(default_factory=list, description="entity ids")
    type: list[str] = Field(default_factory=list, description="entity types, e.g. country")

    _lists = field_validator("any", "type", mode="before")(_as_list)


def _argument(value: Any) -> Any:
    # `actor: kim_jong_un` and `actor: [a, b]` are shorthands for `actor: {any: [...]}`.
    if isinstance(value, (str, list)):
        return {"any": _as_list(value)}
    return value


class EventSpec(_Strict):
    type: list[str] = Field(description="event type ids, e.g. border_crossing")
    modality: list[Modality] = Field(
        default_factory=lambda: ["asserted"], description="default: reported as fact only"
    )
    min_confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    actor: ArgumentSpec | None = None
    destination: ArgumentSpec | None = None
    location: ArgumentSpec | None = None
    counterpart: ArgumentSpec | None = None
    item: ArgumentSpec | None = None

    _lists = field_validator("type", "modality", mode="before")(_as_list)
    _args = field_validator(
        "actor", "destination", "location", "counterpart", "item", mode="before"
    )(_argument)

    def arguments(self) -> dict[str, ArgumentSpec]:
        slots = ("actor", "destination", "location", "counterpart", "item")
        return {s: getattr(self, s) for s in slots if getattr(self, s) is not None}


class TextSpec(_Strict):
    """Plain-text matching over title and body. Regexes run on RE2."""

    phrases: list[str] = Field(default_factory=list, description="any of these, case-insensitive")
    all_phrases: list[str] = Field(default_factory=list, description="every one of these")
    regex: list[str] = Field(default_factory=list, description="RE2 syntax, any may match")
    case_sensitive: bool = False

    _lists = field_validator("phrases", "all_phrases", "regex", mode="before")(_as_list)


class EntityCond(_Strict):
    entity: EntitySpec


class EventCond(_Strict):
    event: EventSpec


class TextCond(_Strict):
    text: TextSpec


class SourceCond(_Strict):
    source: list[str] = Field(description="source names (feed name, 'inbox')")

    _lists = field_validator("source", mode="before")(_as_list)


class DuplicateCond(_Strict):
    duplicate: bool


class AllCond(_Strict):
    all: list[Condition] = Field(min_length=1)


class AnyCond(_Strict):
    any: list[Condition] = Field(min_length=1)


class NotCond(_Strict):
    not_: Condition = Field(alias="not")


class MacroCond(_Strict):
    macro: str


def condition_key(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        return key if key in CONDITION_KEYS else None
    if isinstance(value, BaseModel):
        for key in CONDITION_KEYS:
            if key in type(value).model_fields or f"{key}_" in type(value).model_fields:
                return key
    return None


Condition = Annotated[
    Union[
        Annotated[EntityCond, Tag("entity")],
        Annotated[EventCond, Tag("event")],
        Annotated[TextCond, Tag("text")],
        Annotated[SourceCond, Tag("source")],
        Annotated[DuplicateCond, Tag("duplicate")],
        Annotated[AllCond, Tag("all")],
        Annotated[AnyCond, Tag("any")],
        Annotated[NotCond, Tag("not")],
        Annotated[MacroCond, Tag("macro")],
    ],
    Discriminator(
        condition_key,
        custom_error_type="unknown_condition",
        custom_error_message=(
            "a condition is a mapping with exactly one of the keys: " + ", ".join(CONDITION_KEYS)
        ),
    ),
]


class Exception_(_Strict):
    """A known false positive: matches here suppress the rule (Falco-style)."""

    name: str
    reason: str
    until: date | None = Field(default=None, description="expiry date; past it, ignored")
    match: Condition


class Novelty(_Strict):
    """Fire on the first matching report per story; later matches update it."""

    per: Literal["story", "rule"] = "story"


class Templates(_Strict):
    title: str | None = Field(default=None, description="str.format over the alert context")
    summary: str | None = None


class RuleTests(_Strict):
    """Inline regression tests: texts that must fire, and texts that must not."""

    fire: list[str] = Field(default_factory=list)
    no_fire: list[str] = Field(default_factory=list)


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    title: str
    description: str = ""
    severity: Severity = "medium"
    enabled: bool = True
    version: str = "1"
    tags: list[str] = Field(default_factory=list)
    match: Condition
    exceptions: list[Exception_] = Field(default_factory=list)
    novelty: Novelty = Field(default_factory=Novelty)
    template: Templates = Field(default_factory=Templates)
    destinations: list[str] = Field(
        default_factory=list, description="extra alert topics, e.g. alerts.high"
    )
    tests: RuleTests = Field(default_factory=RuleTests)


class RuleFile(_Strict):
    """One YAML file in rules/: shared lists and macros, and rules."""

    lists: dict[str, list[str]] = Field(default_factory=dict)
    macros: dict[str, Condition] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)


for _model in (AllCond, AnyCond, NotCond, Exception_, Rule, RuleFile):
    _model.model_rebuild()


def json_schema() -> dict[str, Any]:
    """JSON Schema of a rule file, for editor completion."""
    return RuleFile.model_json_schema()
