"""The rule language, as pydantic models.

Every model forbids unknown keys, so a typo is an error rather than a rule
that silently never fires. A condition is a mapping with exactly one key
(``entity``, ``name``, ``event``, ``text``, ``source``, ``duplicate``, ``all``,
``any``, ``not`` or ``macro``); the key picks the model, so validation errors come from
that one branch only and stay readable.

The stateful keys of a rule (``group_by``, ``threshold``, ``spike``,
``new_term``, ``throttle``, ``escalate``, ``resolve_after``, ``correlate``)
only describe behaviour; the engine keeps their state. Durations are strings
such as ``30s``, ``15m``, ``6h``, ``7d``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from monitor import durations
from monitor.durations import SEVERITIES, DurationError, format_duration
from monitor.models import EntityType, Modality, Severity, fold_name
from monitor.yamldoc import close_matches

MODALITIES: tuple[str, ...] = ("asserted", "planned", "speculative", "denied", "conditional")
CONDITION_KEYS: tuple[str, ...] = (
    "entity", "name", "event", "text", "source", "duplicate", "all", "any", "not", "macro",
)
SLOTS: tuple[str, ...] = ("actor", "destination", "location", "counterpart", "item")
ENTITY_TYPES: tuple[str, ...] = get_args(EntityType)
# What a group_by / new_term / correlate.on selector may name; see groups.selector_values.
SELECTORS: tuple[str, ...] = (
    ("story", "source", "entity") + tuple(f"entity:{t}" for t in ENTITY_TYPES)
    + ("event.type",) + tuple(f"event.{s}" for s in SLOTS)
)
MAX_ARTICLES_PER_ALERT = 50  # an alert lists (and counts as corroboration) the newest 50 reports


def suggest(word: str, choices: Iterable[str]) -> str | None:
    close = close_matches(word, choices, n=3)
    return f"did you mean {' or '.join(repr(c) for c in close)}?" if close else None


def rule_error(message: str, suggestion: str | None = None, at: str | None = None) -> PydanticCustomError:
    """A validation error the loader shows as-is: `suggestion` becomes the
    hint, and `at` names the key (under the failing mapping) to point the
    line number at."""
    return PydanticCustomError("rule_value", "{message}", {"message": message, "suggestion": suggestion, "at": at})


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


def _name_keys(value: Any) -> Any:
    """Names as written in the rule -> their folded keys (what NameTag.key holds)."""
    value = _as_list(value)
    if not isinstance(value, list):
        return value  # pydantic reports the wrong type
    keys = []
    for item in value:
        if not isinstance(item, str):
            raise rule_error(f"a name is a string, got {type(item).__name__} {item!r}",
                             'quote it: name: {any: ["Wagner Group"]}')
        key = fold_name(item)
        if not key:
            raise rule_error(f"{item!r} is not a name (nothing left once case and punctuation are folded)")
        keys.append(key)
    return keys


class NameSpec(_Strict):
    """Open-vocabulary names (``Article.names``), watched or not, matched on
    their folded keys: case, accents, dots, apostrophes and hyphens do not count."""

    any: list[str] = Field(default_factory=list, description="at least one of these names")
    all: list[str] = Field(default_factory=list, description="every one of these names")
    none: list[str] = Field(default_factory=list, description="none of these names")

    _keys = field_validator("any", "all", "none", mode="before")(_name_keys)

    @model_validator(mode="after")
    def _not_empty(self) -> NameSpec:
        if not (self.any or self.all or self.none):
            raise rule_error("a name condition needs at least one name",
                             'e.g. name: {any: ["Wagner Group", "Kim Jong Un"]}')
        return self


def _names(value: Any) -> Any:
    # `name: Wagner Group` and `name: [a, b]` are shorthands for `name: {any: [...]}`.
    return {"any": _as_list(value)} if isinstance(value, (str, list)) else value


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
        return {s: getattr(self, s) for s in SLOTS if getattr(self, s) is not None}


class TextSpec(_Strict):
    """Plain-text matching over title and body. Regexes run on RE2."""

    phrases: list[str] = Field(default_factory=list, description="any of these, case-insensitive")
    all_phrases: list[str] = Field(default_factory=list, description="every one of these")
    regex: list[str] = Field(default_factory=list, description="RE2 syntax, any may match")
    case_sensitive: bool = False

    _lists = field_validator("phrases", "all_phrases", "regex", mode="before")(_as_list)


class EntityCond(_Strict):
    entity: EntitySpec


class NameCond(_Strict):
    name: NameSpec

    _shorthand = field_validator("name", mode="before")(_names)


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
    Annotated[EntityCond, Tag("entity")] | Annotated[NameCond, Tag("name")] | Annotated[EventCond, Tag("event")] | Annotated[TextCond, Tag("text")] | Annotated[SourceCond, Tag("source")] | Annotated[DuplicateCond, Tag("duplicate")] | Annotated[AllCond, Tag("all")] | Annotated[AnyCond, Tag("any")] | Annotated[NotCond, Tag("not")] | Annotated[MacroCond, Tag("macro")],
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


def parse_duration(value: Any) -> timedelta:
    """monitor/durations.py's parse_duration, its error shown as a rule error with its hint."""
    try:
        return durations.parse_duration(value)
    except DurationError as exc:
        raise rule_error(str(exc), exc.suggestion) from None


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]+[smhd]$", "examples": ["30s", "15m", "6h", "7d"]}),
]


def _selector(value: str) -> str:
    if value not in SELECTORS:
        valid = ", ".join(SELECTORS)
        raise rule_error(f"unknown selector {value!r}", suggest(value, SELECTORS) or f"use one of: {valid}")
    return value


def _group_selector(value: str) -> str:
    return value if value == "rule" else _selector(value)


Selector = Annotated[str, AfterValidator(_selector)]
GroupSelector = Annotated[str, AfterValidator(_group_selector)]


def _rule_alone(selectors: list[str] | None, key: str) -> None:
    if selectors is not None and "rule" in selectors and len(selectors) > 1:
        raise rule_error(
            f"{key} 'rule' means one group for the whole rule and cannot be combined",
            f"use {key}: [rule] alone, or drop 'rule'", at=key,
        )


class Threshold(_Strict):
    """Open the alert only once enough independent reports agree (ElastAlert
    'frequency'): one blog post is not yet news, three wires within hours are."""

    count: int = Field(ge=1, description="matching reports needed within the window")
    distinct_sources: int = Field(default=1, ge=1, description="from at least this many sources")
    within: Duration

    @model_validator(mode="after")
    def _reachable(self) -> Threshold:
        if self.distinct_sources > self.count:
            raise rule_error(
                f"distinct_sources {self.distinct_sources} is more than count {self.count}: it could never fire",
                f"raise count to at least {self.distinct_sources}", at="distinct_sources",
            )
        return self


class Spike(_Strict):
    """Emit while the group's report rate in `window` is at least `ratio` times
    its rate over the `baseline` before it: coverage surging, not just present."""

    window: Duration
    baseline: Duration
    ratio: float = Field(ge=1, description="current rate / baseline rate")
    min_count: int = Field(default=3, ge=1, description="at least this many reports in the window")


class NewTerm(_Strict):
    """Open the alert only when the report carries a value of `field` this rule
    has not seen within the lookback, e.g. a new destination country."""

    field: Selector
    within: Duration


class Throttle(_Strict):
    """At most one emission per group per period; the rest are counted."""

    period: Duration
    digest: bool = Field(default=False, description="say in the next alert how many were held back")


class Escalate(_Strict):
    """Raise severity once enough reports corroborate the alert."""

    at_corroboration: int = Field(ge=2, le=MAX_ARTICLES_PER_ALERT)
    to: Severity


class Correlate(_Strict):
    """Fire only when another rule fired for the same key within a time span
    (Sigma's temporal correlation): `after` in that order, `with` in either.
    A gate on top of `match`: a report that fails it is not a match at all."""

    after: str | None = Field(default=None, description="rule id that must have fired first, less than `within` before")
    with_: str | None = Field(
        default=None, alias="with", description="rule id that must fire less than `within` before or after, in either order",
    )
    within: Duration
    on: list[GroupSelector] | None = Field(
        default=None, min_length=1, description="selectors whose values must be equal for both rules; default: group_by",
    )

    @model_validator(mode="after")
    def _one_partner(self) -> Correlate:
        if (self.after is None) == (self.with_ is None):
            raise rule_error(
                "correlate needs exactly one of 'after' (in that order) and 'with' (either order)",
                "e.g. correlate: {after: other-rule-id, within: 7d}",
            )
        _rule_alone(self.on, "on")
        return self

    @property
    def partner(self) -> str:
        """The id of the rule this one correlates with."""
        return self.after if self.after is not None else self.with_  # type: ignore[return-value]

    @property
    def ordered(self) -> bool:
        return self.after is not None


TRIGGERS: tuple[str, ...] = ("threshold", "spike", "new_term")


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
    group_by: list[GroupSelector] | None = Field(
        default=None, min_length=1, description="alert group; default [story]"
    )
    threshold: Threshold | None = None
    spike: Spike | None = None
    new_term: NewTerm | None = None
    throttle: Throttle | None = None
    escalate: Escalate | None = None
    resolve_after: Duration | None = Field(
        default=None, description="resolve the alert once its group had no matching report for this long",
    )
    correlate: Correlate | None = None

    @model_serializer(mode="wrap")
    def _dump(self, handler):
        """With group_by set, novelty has no effect (and both together are
        refused), so a dump leaves it out: every dump loads back."""
        data = handler(self)
        if self.group_by is not None and isinstance(data, dict):
            data.pop("novelty", None)
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        """Combinations that have no single clear meaning are refused."""
        if self.group_by is not None and "novelty" in self.model_fields_set:
            raise rule_error(
                "novelty and group_by both set", "novelty: {per: X} is short for group_by: [X]; keep one",
                at="group_by",
            )
        _rule_alone(self.group_by, "group_by")
        triggers = [t for t in TRIGGERS if getattr(self, t) is not None]
        if len(triggers) > 1:
            raise rule_error(
                f"{' and '.join(triggers)} are alternative triggers; a rule takes at most one",
                "split it into two rules", at=triggers[1],
            )
        if self.escalate and SEVERITIES.index(self.escalate.to) <= SEVERITIES.index(self.severity):
            raise rule_error(
                f"escalate.to {self.escalate.to!r} is not above the rule's severity {self.severity!r}",
                f"use one of: {', '.join(SEVERITIES[SEVERITIES.index(self.severity) + 1:]) or '(none: already critical)'}",
                at="escalate",
            )
        return self

    @property
    def grouping(self) -> tuple[str, ...]:
        """The group_by selectors in force: `novelty.per` is sugar for them."""
        return tuple(self.group_by) if self.group_by is not None else (self.novelty.per,)

    @property
    def correlation_key(self) -> tuple[str, ...]:
        """The selectors both correlated rules' reports must agree on."""
        on = self.correlate.on if self.correlate is not None else None
        return tuple(on) if on is not None else self.grouping


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
