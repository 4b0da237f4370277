"""YAML files users edit, read with positions so every mistake is reported
at its line: one module for the whole project.

Two readings, for two kinds of file:

* `read_yaml` (watchlists, event catalogues, feeds.yaml, newsmon.yaml): the
  *safe* loader gives plain data; the file is also composed into a node tree
  (cheap: these files are small) and positions are looked up there
  (`YamlDoc.line`, `YamlDoc.key_line`) only when an error has to be reported;
  `validate` turns a pydantic error into one RuleFileError at its line.
* `roundtrip_yaml` (rule files): ruamel's round-trip nodes keep line and
  column on every mapping and sequence (`position`), so the rule loader can
  collect every error of a file with its place; `check_tree` refuses unsafe
  tags and alias bombs first.

`did_you_mean` / `close_matches` give every "unknown key" its suggestion.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from monitor.errors import RuleFileError

__all__ = ["MAX_YAML_NODES", "RuleFileError", "YamlDoc", "check_tree", "close_matches", "did_you_mean",
           "node_at", "plain", "position", "read_yaml", "roundtrip_yaml", "validate", "yaml_files"]

MAX_YAML_NODES = 100_000
_STANDARD_TAGS = {"str", "int", "float", "bool", "null", "map", "seq", "timestamp", "binary"}


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


def close_matches(word: str, options: Iterable[str], n: int = 1) -> list[str]:
    """The `n` options closest to `word` (difflib, cutoff 0.6), best first."""
    return difflib.get_close_matches(word, list(options), n=n, cutoff=0.6)


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest option, or ``""``."""
    close = close_matches(word, options)
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


# ---------------------------------------------------------------- round-trip (rule files)


def roundtrip_yaml() -> YAML:
    yaml = YAML(typ="rt")  # round-trip nodes keep line/column for error messages
    yaml.allow_duplicate_keys = False
    return yaml


def check_tree(node: Any, path: str) -> str | None:
    """Reject unsafe tags and alias bombs before anything walks the data."""
    seen = 0
    stack = [node]
    while stack:
        item = stack.pop()
        seen += 1
        if seen > MAX_YAML_NODES:
            return f"document too large or alias bomb (over {MAX_YAML_NODES} nodes)"
        tag = getattr(getattr(item, "tag", None), "value", None)
        if tag and tag.startswith("tag:yaml.org,2002:") and tag.rsplit(":", 1)[-1] not in _STANDARD_TAGS:
            return f"unsupported YAML tag {tag!r}"
        if tag and tag.startswith("!"):
            return f"unsupported YAML tag {tag!r}"
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


def position(root: Any, loc: tuple, skip: Collection[str] = ()) -> tuple[int | None, int | None]:
    """Line and column (1-based) of the deepest YAML node that `loc` reaches;
    keys in `skip` are not in the file (union tags pydantic adds) and are passed over."""
    node, line, col = root, None, None
    for key in loc:
        if isinstance(node, CommentedMap) and key in node:
            try:
                line, col = node.lc.key(key)
            except (KeyError, TypeError):
                pass
            node = node[key]
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
            try:
                line, col = node.lc.item(key)
            except (KeyError, TypeError):
                pass
            node = node[key]
        elif key in skip:  # e.g. a discriminator tag, not a YAML key
            continue
        else:
            break
    if line is None and isinstance(root, CommentedMap):
        line, col = root.lc.line, root.lc.col
    return (line + 1 if line is not None else None, col + 1 if col is not None else None)


def value_position(root: Any, loc: tuple, value: str, skip: Collection[str] = ()) -> tuple[int, int] | None:
    """Line and column (1-based) of the first scalar equal to `value` in the
    YAML under `loc` (a bad value rather than the key above it), or None."""
    node: Any = root
    for key in loc:
        if isinstance(node, (CommentedMap, CommentedSeq)) and (
                key in node if isinstance(node, CommentedMap) else isinstance(key, int) and key < len(node)):
            if not isinstance(node[key], (CommentedMap, CommentedSeq)):  # a scalar: `type: sumit`
                return _scalar_position(node, key) if str(node[key]) == value else None
            node = node[key]
        elif key not in skip:
            return None
    return _find_scalar(node, value)


def _scalar_position(node: CommentedMap | CommentedSeq, key: Any) -> tuple[int, int] | None:
    try:
        line, col = node.lc.value(key) if isinstance(node, CommentedMap) else node.lc.item(key)
    except (KeyError, TypeError):
        return None
    return line + 1, col + 1


def _find_scalar(node: Any, value: str) -> tuple[int, int] | None:
    if not isinstance(node, (CommentedMap, CommentedSeq)):
        return None
    for key, child in (node.items() if isinstance(node, CommentedMap) else enumerate(node)):
        if isinstance(child, (CommentedMap, CommentedSeq)):
            found = _find_scalar(child, value)
            if found:
                return found
        elif str(child) == value:
            return _scalar_position(node, key)
    return None


def node_at(root: Any, loc: tuple, skip: Collection[str] = ()) -> Any:
    node = root
    for key in loc:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            if key in skip:
                continue
            return None
    return node
