"""Load rule files into a validated, immutable ruleset.

Errors are collected, not raised one at a time: a rule author sees every
problem in one run, each with file, line, column, rule id, what is wrong and
a suggestion. A ruleset with any error is never half-applied.

Lint findings (unused lists and macros, rules with the same match, expired
exceptions, a `resolve_after` shorter than the rule's window, correlating
with a disabled rule) are warnings: they are reported the same way but never
stop a ruleset from loading.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, get_args

import re2
from pydantic import BaseModel, ValidationError
from ruamel.yaml.error import YAMLError

from monitor.errors import RulesetError
from monitor.rules.schema import (
    CONDITION_KEYS,
    AllCond,
    AnyCond,
    EntityCond,
    EventCond,
    MacroCond,
    NameCond,
    NotCond,
    Rule,
    RuleFile,
    TextCond,
    format_duration,
    suggest,
)
from monitor.yamldoc import check_tree, node_at, plain, position, roundtrip_yaml, value_position

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_CONDITION_DEPTH = 32


@dataclass(frozen=True)
class RuleError:
    file: str
    line: int | None
    column: int | None
    message: str
    rule_id: str | None = None
    suggestion: str | None = None
    level: str = "error"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        rule = f" [rule {self.rule_id}]" if self.rule_id else ""
        hint = f" ({self.suggestion})" if self.suggestion else ""
        return f"{where}:{rule} {self.level}: {self.message}{hint}"


@dataclass(frozen=True)
class LoadedRule:
    rule: Rule
    file: str
    line: int | None


@dataclass
class Ruleset:
    rules: list[LoadedRule] = field(default_factory=list)
    lists: dict[str, list[str]] = field(default_factory=dict)
    macros: dict[str, Any] = field(default_factory=dict)
    warnings: list[RuleError] = field(default_factory=list)

    def by_id(self) -> dict[str, Rule]:
        return {lr.rule.id: lr.rule for lr in self.rules}


@dataclass(frozen=True)
class Problem:
    """One finding of the semantic checks; `at` is the key path under the rule."""

    message: str
    suggestion: str | None = None
    level: str = "error"
    at: tuple = ()
    value: str | None = None  # the offending value, looked for under `at` for its exact position


def _rule_id_at(root: Any, loc: tuple) -> str | None:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        try:
            return str(root["rules"][loc[1]].get("id"))
        except (KeyError, IndexError, AttributeError, TypeError):
            return None
    return None


def _validation_errors(path: str, root: Any, exc: ValidationError) -> list[RuleError]:
    errors = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        line, col = position(root, loc, CONDITION_KEYS)
        message, hint = err["msg"], None
        if err["type"] == "rule_value":  # raised by schema.rule_error: message, hint, key
            ctx = err.get("ctx") or {}
            message, hint = ctx.get("message", message), ctx.get("suggestion")
            if ctx.get("at"):
                loc = loc + (ctx["at"],)
                line, col = position(root, loc, CONDITION_KEYS)
        elif err["type"] == "extra_forbidden":
            parent = _model_for(loc[:-1])
            valid = sorted(f.alias or name for name, f in parent.model_fields.items()) if parent else []
            message = f"unknown key {loc[-1]!r}"
            hint = suggest(str(loc[-1]), valid) or (f"valid keys: {', '.join(valid)}" if valid else None)
        elif err["type"] == "unknown_condition":
            bad = node_at(root, loc, CONDITION_KEYS)
            keys = list(bad) if isinstance(bad, dict) else []
            if len(keys) == 1:
                message = f"unknown condition {keys[0]!r}"
                hint = suggest(str(keys[0]), CONDITION_KEYS) or f"use one of: {', '.join(CONDITION_KEYS)}"
            elif len(keys) > 1:
                message = f"a condition has exactly one key, got {', '.join(map(str, keys))}"
                hint = "combine several conditions with all: [...] or any: [...]"
        errors.append(
            RuleError(path, line, col, f"{message} at {_dotted(loc)}", _rule_id_at(root, loc), hint)
        )
    return errors


_KEY_MODELS: dict[str, type[BaseModel]] = {
    "entity": EntityCond.model_fields["entity"].annotation,
    "name": NameCond.model_fields["name"].annotation,
    "event": EventCond.model_fields["event"].annotation,
    "text": TextCond.model_fields["text"].annotation,
}


def _model_for(loc: tuple) -> type[BaseModel] | None:
    """Best guess of which model owns the mapping at `loc`, for key suggestions."""
    if not loc:
        return RuleFile
    last = loc[-1]
    if isinstance(last, int) and len(loc) >= 2 and loc[-2] == "rules":
        return Rule
    if last in _KEY_MODELS:
        return _KEY_MODELS[last]
    if isinstance(last, str) and last in Rule.model_fields:
        annotation = Rule.model_fields[last].annotation
        for candidate in (annotation, *get_args(annotation)):  # `Throttle | None` -> Throttle
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                return candidate
    return None


def _dotted(loc: tuple) -> str:
    parts: list[str] = []
    previous = None
    for key in loc:
        if key == previous and key in CONDITION_KEYS:
            continue
        parts.append(f"[{key}]" if isinstance(key, int) else str(key))
        previous = key
    return ".".join(parts).replace(".[", "[")


def rule_files(directory: Path) -> list[Path]:
    """Rule files: *.yaml / *.yml directly in `directory`, editor litter ignored.

    Sub-folders (watchlists/, events/) hold other kinds of definitions."""
    if directory.is_file():
        return [directory]
    return sorted(
        p for p in directory.glob("*.y*ml")
        if p.suffix in (".yaml", ".yml") and not p.name.startswith((".", "#", "~"))
    )


def parse_file(path: Path) -> tuple[RuleFile | None, Any, list[RuleError]]:
    name = str(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None, None, [RuleError(name, None, None, f"file is over {MAX_FILE_BYTES} bytes")]
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, None, [RuleError(name, None, None, f"cannot read file: {exc}")]
    try:
        root = roundtrip_yaml().load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, None, [RuleError(
            name, mark.line + 1 if mark else None, mark.column + 1 if mark else None,
            f"invalid YAML: {problem}",
        )]
    if root is None:
        return RuleFile(), root, []
    if not isinstance(root, dict):
        return None, root, [RuleError(name, 1, 1, "a rule file is a mapping with keys lists, macros, rules")]
    problem = check_tree(root, name)
    if problem:
        return None, root, [RuleError(name, None, None, problem)]
    try:
        return RuleFile.model_validate(plain(root)), root, []
    except ValidationError as exc:
        # the file's other mistakes are reported in the same run: check what is left
        # without the unknown keys (rule order kept, so positions still hold)
        return _without_unknown_keys(plain(root), exc), root, _validation_errors(name, root, exc)
    except RecursionError:
        return None, root, [RuleError(name, None, None, "conditions are nested too deeply")]


def _without_unknown_keys(data: Any, exc: ValidationError) -> RuleFile | None:
    """The file as if its unknown keys were not there, if that is all that is
    wrong with it; else None (its other checks then wait for a fix)."""
    for err in exc.errors():
        if err["type"] != "extra_forbidden":
            return None
        node = data
        for key in err["loc"][:-1]:
            if (isinstance(node, dict) and key in node) or (isinstance(node, list) and isinstance(key, int) and key < len(node)):
                node = node[key]
            # else a union tag pydantic adds: not in the data
        if not isinstance(node, dict) or err["loc"][-1] not in node:
            return None
        del node[err["loc"][-1]]
    try:
        return RuleFile.model_validate(data)
    except (ValidationError, RecursionError):
        return None


def load_ruleset(
    directory: Path | str, known_entities: set[str] | None = None,
    known_events: set[str] | None = None, *, today: date | None = None,
) -> Ruleset:
    """Load and check every rule file under `directory`; raise RulesetError on any error.

    `today` (default: the UTC date) decides which exceptions have expired."""
    directory = Path(directory)
    today = today or datetime.now(UTC).date()
    errors: list[RuleError] = []
    ruleset = Ruleset()
    parsed: list[tuple[Path, RuleFile, Any]] = []
    if not directory.exists():
        raise RulesetError([RuleError(str(directory), None, None, "rules directory does not exist")])
    for path in rule_files(directory):
        model, root, file_errors = parse_file(path)
        errors.extend(file_errors)
        if model is not None:
            parsed.append((path, model, root))
            for key, values in model.lists.items():
                if key in ruleset.lists:
                    errors.append(RuleError(str(path), None, None, f"list {key!r} defined twice"))
                ruleset.lists[key] = values
            for key, cond in model.macros.items():
                if key in ruleset.macros:
                    errors.append(RuleError(str(path), None, None, f"macro {key!r} defined twice"))
                ruleset.macros[key] = cond

    seen_ids: dict[str, str] = {}
    where: dict[str, tuple[Path, Any, int]] = {}  # rule id -> file, YAML root, index
    for path, model, root in parsed:
        for index, rule in enumerate(model.rules):
            line, col = position(root, ("rules", index), CONDITION_KEYS)
            if rule.id in seen_ids:
                errors.append(RuleError(str(path), line, col, f"duplicate rule id (first in {seen_ids[rule.id]})", rule.id))
                continue
            seen_ids[rule.id] = str(path)
            where[rule.id] = (path, root, index)
            ruleset.rules.append(LoadedRule(rule, str(path), line))
    problems = {lr.rule.id: _check_rule(lr.rule, ruleset, known_entities, known_events, today) for lr in ruleset.rules}
    for rule_id, found in _check_correlations(ruleset).items():
        problems[rule_id] += found
    for rule_id, found in problems.items():
        path, root, index = where[rule_id]
        for problem in found:
            at = ("rules", index, *problem.at)
            line, col = ((problem.value is not None and value_position(root, at, problem.value, CONDITION_KEYS))
                         or position(root, at, CONDITION_KEYS))
            errors.append(RuleError(str(path), line, col, problem.message, rule_id, problem.suggestion, problem.level))
    errors.extend(_lint(parsed, ruleset))
    hard = [e for e in errors if e.level == "error"]
    ruleset.warnings = [e for e in errors if e.level != "error"]
    if hard:
        raise RulesetError(hard)
    return ruleset


def _conditions(cond: Any, depth: int = 0, at: tuple = ()) -> Iterable[tuple[Any, int, tuple]]:
    """Each condition under `cond`, with its depth and its key path in the YAML."""
    yield cond, depth, at
    if isinstance(cond, (AllCond, AnyCond)):
        key = "all" if isinstance(cond, AllCond) else "any"
        for index, child in enumerate(getattr(cond, key)):
            yield from _conditions(child, depth + 1, (*at, key, index))
    elif isinstance(cond, NotCond):
        yield from _conditions(cond.not_, depth + 1, (*at, "not"))


def _check_rule(rule: Rule, ruleset: Ruleset, known_entities, known_events, today: date) -> list[Problem]:
    """Semantic checks pydantic cannot do: references, regexes, depth."""
    problems: list[Problem] = []
    roots = [(rule.match, ("match",))] + [(exc.match, ("exceptions", i, "match")) for i, exc in enumerate(rule.exceptions)]
    for root, root_at in roots:
        for cond, depth, at in _conditions(root, at=root_at):
            if depth > MAX_CONDITION_DEPTH:
                problems.append(Problem(f"conditions nested deeper than {MAX_CONDITION_DEPTH}", at=at))
                break
            if isinstance(cond, MacroCond) and cond.macro not in ruleset.macros:
                problems.append(Problem(f"unknown macro {cond.macro!r}", suggest(cond.macro, ruleset.macros),
                                        at=at, value=cond.macro))
            if isinstance(cond, TextCond):
                for pattern in cond.text.regex:
                    try:
                        re2.compile(pattern)
                    except re2.error as exc:
                        problems.append(Problem(f"regex {pattern!r} is not valid RE2: {exc}",
                                                "RE2 has no backreferences or lookaround", at=at, value=pattern))
            if isinstance(cond, EventCond) and known_events is not None:
                for etype in cond.event.type:
                    if etype not in known_events:
                        problems.append(Problem(f"unknown event type {etype!r}", suggest(etype, known_events),
                                                at=(*at, "event", "type"), value=etype))
            if known_entities is not None:
                for ent in expand(_referenced_ids(cond), ruleset.lists):
                    if ent not in known_entities:
                        problems.append(Problem(f"unknown entity id {ent!r}", suggest(ent, known_entities),
                                                at=at, value=ent))
    problems.extend(_inline_tests_can_fire(rule))
    problems.extend(_expired_exceptions(rule, today))
    problems.extend(_resolve_before_window_ends(rule))
    return problems


def _check_correlations(ruleset: Ruleset) -> dict[str, list[Problem]]:
    """References between rules: an unknown id is an error (closest ids
    suggested), a cycle is an error (no rule in it could ever fire first),
    a disabled partner a warning (it never fires, so neither does this)."""
    rules = ruleset.by_id()
    problems: dict[str, list[Problem]] = {}
    for rule in rules.values():
        spec = rule.correlate
        if spec is None:
            continue
        at = ("correlate", "after" if spec.ordered else "with")
        partner = rules.get(spec.partner)
        if partner is None:
            hint = suggest(spec.partner, rules) or "correlate names another rule's id"
            problems.setdefault(rule.id, []).append(Problem(f"unknown rule id {spec.partner!r} in correlate", hint, at=at))
        elif not partner.enabled and rule.enabled:
            problems.setdefault(rule.id, []).append(Problem(
                f"correlates with disabled rule {spec.partner!r}, so it can never fire",
                f"enable {spec.partner!r}, or disable this rule too", "warning", at,
            ))
    reported: set[str] = set()
    for start in rules:  # each rule names at most one partner: follow the chain
        chain: list[str] = []
        current: str | None = start
        while current in rules and current not in chain and current not in reported:
            chain.append(current)
            spec = rules[current].correlate
            current = spec.partner if spec is not None else None
        if current in chain:
            cycle = chain[chain.index(current):]
            reported.update(cycle)
            first = cycle[0]
            at = ("correlate", "after" if rules[first].correlate.ordered else "with")
            path = " -> ".join([*cycle, first])
            message = "rule correlates with itself" if len(cycle) == 1 else f"correlation cycle {path}"
            problems.setdefault(first, []).append(Problem(
                f"{message}: no rule in it could ever fire first", "remove correlate from one rule of the cycle", at=at,
            ))
        reported.update(chain)
    return problems


def _resolve_before_window_ends(rule: Rule) -> list[Problem]:
    """A rule whose window is longer than its quiet period contradicts
    itself: reports `within` apart are one burst to the trigger, yet the
    alert resolves after a shorter silence, while the reports that opened
    it still count, and the next report starts a new episode."""
    if rule.resolve_after is None:
        return []
    window, key = None, None
    if rule.threshold is not None:
        window, key = rule.threshold.within, "threshold.within"
    elif rule.spike is not None:
        window, key = rule.spike.window, "spike.window"
    if window is None or rule.resolve_after >= window:
        return []
    return [Problem(
        f"resolve_after {format_duration(rule.resolve_after)} is shorter than {key} {format_duration(window)}: "
        "the alert can resolve while the reports that opened it still count",
        f"use resolve_after: {format_duration(window)} or longer", "warning", ("resolve_after",),
    )]


def _inline_tests_can_fire(rule: Rule) -> list[Problem]:
    """Inline tests run each sample alone on empty state, so a rule that needs
    several reports cannot pass a `fire` test; say so here, clearly, rather
    than as a puzzling 'expected to fire' failure."""
    if rule.correlate is not None and rule.tests.fire:
        return [Problem(
            f"inline fire tests run each sample alone, so rule {rule.correlate.partner!r} cannot have fired first",
            "keep no_fire tests inline; check firing with `newsmon scan` over reports of both rules",
            at=("tests", "fire"),
        )]
    needed, key = 1, None
    if rule.threshold is not None:
        needed, key = rule.threshold.count, "threshold.count"
    elif rule.spike is not None:
        needed, key = rule.spike.min_count, "spike.min_count"
    if needed <= 1 or not rule.tests.fire:
        return []
    return [Problem(
        f"inline fire tests run each sample alone on empty state, so they cannot reach {key} {needed}",
        "keep no_fire tests inline; check firing with `newsmon scan` over several reports",
        at=("tests", "fire"),
    )]


def _expired_exceptions(rule: Rule, today: date) -> list[Problem]:
    return [
        Problem(
            f"expired exception {exc.name!r}: its until date {exc.until} has passed, so it suppresses nothing",
            "remove it, or move `until` forward if the false positive persists",
            "warning", ("exceptions", index, "until"),
        )
        for index, exc in enumerate(rule.exceptions)
        if exc.until is not None and exc.until < today
    ]


def _lint(parsed: list[tuple[Path, RuleFile, Any]], ruleset: Ruleset) -> list[RuleError]:
    """Ruleset-wide warnings: definitions nothing uses, rules that repeat each other."""
    used_lists: set[str] = set()
    used_macros: set[str] = set()
    roots = [cond for _, model, _ in parsed for cond in model.macros.values()]
    roots += [c for _, model, _ in parsed for r in model.rules for c in [r.match] + [e.match for e in r.exceptions]]
    for root in roots:
        for cond, _, _ in _conditions(root):
            used_macros.update([cond.macro] if isinstance(cond, MacroCond) else [])
            used_lists.update(_referenced_ids(cond))
    warnings: list[RuleError] = []
    first_with_match: dict[str, str] = {}
    for path, model, root in parsed:
        for kind, names, used in (("list", model.lists, used_lists), ("macro", model.macros, used_macros)):
            for name in names:
                if name not in used:
                    line, col = position(root, (f"{kind}s", name), CONDITION_KEYS)
                    warnings.append(RuleError(
                        str(path), line, col, f"{kind} {name!r} is defined but no rule uses it",
                        suggestion="remove it, or refer to it from a rule", level="warning",
                    ))
        for index, rule in enumerate(model.rules):
            key = json.dumps(rule.match.model_dump(mode="json", by_alias=True), sort_keys=True)
            line, col = position(root, ("rules", index, "match"), CONDITION_KEYS)
            if key in first_with_match:
                warnings.append(RuleError(
                    str(path), line, col, f"same match condition as rule {first_with_match[key]}", rule.id,
                    "merge the two rules, or make their conditions differ", "warning",
                ))
            else:
                first_with_match[key] = f"{rule.id!r} ({path.name}:{line})"
    return warnings


def _referenced_ids(cond: Any) -> list[str]:
    """Entity ids and list names one condition names (lists expand in place)."""
    if isinstance(cond, EntityCond):
        return cond.entity.any + cond.entity.all + cond.entity.none
    if isinstance(cond, EventCond):
        return [i for arg in cond.event.arguments().values() for i in arg.any]
    return []


def expand(ids: Iterable[str], lists: dict[str, list[str]]) -> list[str]:
    """Replace list names by their items (Falco-style), keeping order, once each."""
    out: list[str] = []
    for item in ids:
        for value in lists.get(item, [item]):
            if value not in out:
                out.append(value)
    return out
