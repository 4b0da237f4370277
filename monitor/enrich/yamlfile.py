"""Reading user-editable YAML rule files with line numbers for error messages.

Watchlists and event definitions are edited by hand, so a mistake must be
reported as ``file:line: entity 'x': what is wrong (did you mean ...)``.
ruamel's *safe* loader gives plain data but no positions, so the file is
also composed into a node tree (cheap: these files are small) and positions
are looked up there only when an error has to be reported.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode


class RuleFileError(ValueError):
    """A rule file is invalid; the message names file, line and item id."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None,
                 item_id: str | None = None) -> None:
        self.file, self.line, self.item_id, self.detail = file, line, item_id, message
        where = f"{file}:{line}" if file and line else (file or "<rules>")
        who = f" {item_id!r}:" if item_id else ""
        super().__init__(f"{where}:{who} {message}")


class YamlDoc:
    """Plain data of one YAML file plus its node tree, for positions."""

    def __init__(self, path: Path, data: Any, root: Node | None) -> None:
        self.path, self.data, self.root = path, data, root

    def line(self, *keys: str | int) -> int | None:
        """1-based line of the value at ``keys`` (or of the deepest existing
        parent, so a bad key inside an item still points at the item)."""
        node, best = self.root, None
        for key in keys:
            if node is None:
                break
            best = node.start_mark.line + 1
            node = _child(node, key)
        if node is not None:
            best = node.start_mark.line + 1
        return best

    def key_line(self, *keys: str | int) -> int | None:
        """1-based line of the *key* ``keys[-1]`` inside mapping ``keys[:-1]``."""
        parent = self.root
        for key in keys[:-1]:
            parent = _child(parent, key) if parent is not None else None
        if isinstance(parent, MappingNode):
            for k, _ in parent.value:
                if getattr(k, "value", None) == keys[-1]:
                    return k.start_mark.line + 1
        return self.line(*keys[:-1])


def _child(node: Node, key: str | int) -> Node | None:
    if isinstance(node, MappingNode) and isinstance(key, str):
        return next((v for k, v in node.value if getattr(k, "value", None) == key), None)
    if isinstance(node, SequenceNode) and isinstance(key, int) and key < len(node.value):
        return node.value[key]
    return None


def read_yaml(path: Path) -> YamlDoc:
    """Load with the safe loader; syntax errors become RuleFileError with a line."""
    text = path.read_text(encoding="utf-8")
    yaml = YAML(typ="safe", pure=True)
    try:
        data = yaml.load(text)
        root = YAML(typ="safe", pure=True).compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise RuleFileError(f"YAML syntax error: {exc.problem or exc}", str(path),
                            mark.line + 1 if mark else None) from None
    return YamlDoc(path, data, root)


def yaml_files(paths: Iterable[Path | str]) -> list[Path]:
    """Expand directories to their ``*.yaml``/``*.yml`` files, sorted by name
    so that load order (and therefore override order) is deterministic."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(q for q in p.iterdir() if q.suffix in (".yaml", ".yml")))
        elif p.exists():
            out.append(p)
        else:
            raise RuleFileError("file not found", str(p))
    return out


def did_you_mean(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def validate(model: type[BaseModel], data: Any, doc: YamlDoc, at: Sequence[str | int],
             item_id: str | None) -> Any:
    """``model.model_validate(data)`` with pydantic errors turned into one
    RuleFileError at the offending line; unknown keys get a suggestion."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # a misspelt key also makes the intended one "missing": report the typo
        err = min(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        loc = [p for p in err["loc"]]
        if err["type"] == "extra_forbidden":
            key = str(loc[-1])
            parent = loc[:-1]
            fields = _fields_at(model, parent)
            msg = f"unknown key {key!r}{did_you_mean(key, fields)}"
            line = doc.key_line(*at, *parent, key)
        else:
            where = ".".join(str(p) for p in loc) or "item"
            msg = f"{where}: {err['msg']}"
            line = doc.line(*at, *loc)
        raise RuleFileError(msg, str(doc.path), line, item_id) from None


def _fields_at(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """Field names of the (nested) model at ``loc``, for suggestions."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        ann = field.annotation
        args = getattr(ann, "__args__", ()) or (ann,)
        nested = [a for a in _flatten(args) if isinstance(a, type) and issubclass(a, BaseModel)]
        if not nested:
            return []
        current = nested[0]
    return list(getattr(current, "model_fields", {}))


def _flatten(args: Iterable[Any]) -> Iterable[Any]:
    for a in args:
        inner = getattr(a, "__args__", None)
        if inner:
            yield from _flatten(inner)
        else:
            yield a
