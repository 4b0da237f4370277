"""newsmon.yaml: the settings of monitor/settings/model.py in one file.

The file is found through ``NEWSMON_CONFIG`` (an error if that file is missing),
else ``./newsmon.yaml`` if present. Its keys are the setting names (an
environment variable without ``NEWSMON_``, lower case; ``bootstrap_servers``
for ``KAFKA_BOOTSTRAP_SERVERS``). Environment variables override the file.

A source of our own rather than pydantic-settings' YamlConfigSettingsSource:
that one needs PyYAML and reports errors without a line; this one reads with
the rule files' safe ruamel loader, so every mistake is reported as
``file:line: key: what is wrong`` before anything starts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from monitor.errors import ConfigError, RuleFileError
from monitor.settings.sinks import SINK_MODELS
from monitor.yamldoc import YamlDoc, did_you_mean, read_yaml

CONFIG_ENV = "NEWSMON_CONFIG"
DEFAULT_CONFIG = Path("newsmon.yaml")


def config_path() -> Path | None:
    named = os.environ.get(CONFIG_ENV)
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"{CONFIG_ENV}={named}: no such file")
        return path
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


class YamlConfigSource(PydanticBaseSettingsSource):
    """Settings source over newsmon.yaml; below the environment in precedence."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None = None) -> None:
        super().__init__(settings_cls)
        self.path = path if path is not None else config_path()
        self.data = load_config_file(settings_cls, self.path) if self.path else {}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return self.data


def load_config_file(settings_cls: type[BaseSettings], path: Path) -> dict[str, Any]:
    """The file's values, each checked against its setting (so errors name the
    file, line and key), keyed as the settings class expects them."""
    try:
        doc = read_yaml(path)
    except RuleFileError as exc:
        raise ConfigError(str(exc)) from None
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None
    if doc.data is None:
        return {}
    if not isinstance(doc.data, dict):
        raise ConfigError(f"{path}:1: expected a mapping of setting names to values")
    fields = settings_cls.model_fields
    values: dict[str, Any] = {}
    for key, value in doc.data.items():
        field = fields.get(key) if isinstance(key, str) else None
        if field is None:
            raise ConfigError(f"{path}:{doc.key_line(key)}: unknown key {key!r}{did_you_mean(str(key), fields)}")
        _refuse_secret(doc, (key,), field, fields, f"NEWSMON_{key.upper()}")
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseSettings):
            nested = field.annotation
            for sub in value if isinstance(value, dict) else ():
                if isinstance(sub, str) and sub in nested.model_fields:
                    prefix = str(nested.model_config.get("env_prefix") or "NEWSMON_")
                    _refuse_secret(doc, (key, sub), nested.model_fields[sub], nested.model_fields,
                                   f"{prefix}{sub}".upper())
            value = _under_environment(nested, value)
        try:
            kind = Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
            TypeAdapter(kind).validate_python(value)
        except ValidationError as exc:
            raise ConfigError(_describe(doc, key, value, exc)) from None
        values[_input_name(key, field)] = value
    return values


def _refuse_secret(doc: YamlDoc, where: tuple[str, ...], field: FieldInfo, siblings: dict[str, FieldInfo],
                   variable: str) -> None:
    """Secrets marked ``env_only`` are never read from a file that may be committed or shared."""
    if isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("env_only"):
        name = where[-1]
        alternative = f" or {name}_file" if f"{name}_file" in siblings else ""
        raise ConfigError(f"{doc.path}:{doc.key_line(*where)}: {'.'.join(where)}: a secret, not read from the "
                          f"file; set {variable} in the environment{alternative}")


def _under_environment(cls: type[BaseSettings], value: Any) -> Any:
    """A nested settings block (``topics:``) from the file, with the fields its own
    environment variables set (``NEWSMON_TOPIC_PREFIX``) taking precedence."""
    if not isinstance(value, dict):
        return value
    from_env = cls()
    return {**value, **{name: getattr(from_env, name) for name in from_env.model_fields_set}}


def _input_name(key: str, field: FieldInfo) -> str:
    """The name validation accepts: the first alias when a field has one."""
    alias = field.validation_alias
    choices = getattr(alias, "choices", None)
    if choices:
        return choices[0] if isinstance(choices[0], str) else key
    return alias if isinstance(alias, str) else key


def _describe(doc: YamlDoc, key: str, value: Any, exc: ValidationError) -> str:
    # a misspelt key also makes the intended one "missing": report the typo
    err = min(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    loc, model = _data_loc(value, err["loc"])
    where = key + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
    if err["type"] == "extra_forbidden":
        bad = str(loc[-1])
        known = list(getattr(model, "model_fields", {}))
        return f"{doc.path}:{doc.key_line(key, *loc)}: {where}: unknown key{did_you_mean(bad, known)}"
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):  # sinks[i].type
        tags = list(SINK_MODELS)
        tag = str(err["ctx"].get("tag", ""))
        problem = f"unknown type {tag!r}{did_you_mean(tag, tags)}" if tag else "missing"
        return f"{doc.path}:{doc.line(key, *loc, 'type')}: {where}.type: {problem}; one of {', '.join(tags)}"
    message = err["msg"].removeprefix("Value error, ")
    return f"{doc.path}:{doc.line(key, *loc)}: {where}: {message}"


def _data_loc(value: Any, loc: tuple) -> tuple[list[str | int], Any]:
    """Drop the union tags pydantic puts in error locations (``sinks.0.webhook.url``
    -> ``sinks[0].url``); also return the model the last tag selected."""
    out: list[str | int] = []
    model, current = None, value
    for part in loc:
        if isinstance(part, str) and part in SINK_MODELS and not (isinstance(current, dict) and part in current):
            model = SINK_MODELS[part]
            continue
        out.append(part)
        try:
            current = current[part]
        except (KeyError, IndexError, TypeError):
            current = None
    return out, model
