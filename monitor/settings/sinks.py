"""What a sink is, as written under `sinks:` in newsmon.yaml or built by `newsmon sink ...`.

Pure data and validation: no Kafka, no network. monitor/sinks/registry.py
builds the sink each model describes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_serializer,
    field_validator,
    model_validator,
)

from monitor.models import Severity

MASK = "**********"


class SinkConfigBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        default="", pattern=r"^$|^[A-Za-z0-9._-]+$",
        description="unique; the sink's consumer group is <app_id>-sink-<name>, so renaming a sink "
        "starts it afresh. Default: the type plus a hash of the target",
    )
    topic: str | None = Field(default=None, description="alert topic; default news.alerts (with the topic prefix)")
    rules: list[str] = Field(default_factory=list, description="only these rule ids")
    min_severity: Severity | None = None
    entities: list[str] = Field(default_factory=list, description="only alerts mentioning one of these entity ids")
    start: Literal["earliest", "latest"] = Field(
        default="earliest",
        description="where a sink with no committed offset starts: earliest = every retained alert "
        "(nothing fired before the sink's first start is missed), latest = only new ones",
    )
    max_attempts: int = Field(default=5, ge=1, description="delivery attempts before the dead-letter topic")
    retry_base: float = Field(default=1.0, gt=0, description="first retry delay in seconds; doubles per attempt, with jitter")
    retry_cap: float = Field(default=60.0, gt=0, description="longest retry delay in seconds")

    def target(self) -> str:
        """What the sink delivers to; the default name hashes it (stable across restarts)."""
        raise NotImplementedError

    @model_validator(mode="after")
    def _default_name(self):
        if not self.name:
            digest = hashlib.sha256(self.target().encode()).hexdigest()[:8]
            self.name = f"{self.type}-{digest}"  # type: ignore[attr-defined]
        return self


def _resolve_secret(value: SecretStr | None, env_name: str | None, what: str) -> str | None:
    """A secret given inline, or read from the environment variable it names."""
    if value is not None:
        return value.get_secret_value()
    if env_name:
        secret = os.environ.get(env_name)
        if not secret:
            raise ValueError(f"{what}: environment variable {env_name} is not set")
        return secret
    return None


def _one_of(a: object, b: object, names: str) -> None:
    if a is not None and b is not None:
        raise ValueError(f"give {names}, not both")


class WebhookSinkConfig(SinkConfigBase):
    type: Literal["webhook"]
    url: SecretStr = Field(description="http(s) URL; masked when shown (a Slack webhook URL is itself a secret)")
    secret: SecretStr | None = Field(default=None, description="HMAC-SHA256 key for X-Newsmon-Signature")
    secret_env: str | None = Field(default=None, description="environment variable holding the secret")
    format: Literal["json", "slack"] = "json"
    timeout: float = Field(default=10.0, gt=0, description="seconds per request")
    headers: dict[str, str] = Field(default_factory=dict, description="extra request headers")

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: SecretStr) -> SecretStr:
        parts = urlsplit(url.get_secret_value())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return url

    @field_serializer("url", when_used="json")
    def _masked_url(self, url: SecretStr) -> str:
        parts = urlsplit(url.get_secret_value())
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/{MASK}"

    @model_validator(mode="after")
    def _one_secret(self):
        _one_of(self.secret, self.secret_env, "secret or secret_env")
        return self

    def target(self) -> str:
        return self.url.get_secret_value()

    def signing_key(self) -> bytes | None:
        secret = _resolve_secret(self.secret, self.secret_env, "secret_env")
        return secret.encode() if secret else None


class JsonlSinkConfig(SinkConfigBase):
    type: Literal["jsonl"]
    path: Path
    max_bytes: int = Field(default=100 * 1024 * 1024, ge=1, description="rotate before the file would exceed this")
    keep: int = Field(default=5, ge=0, description="rotated files kept: path.1 (newest) .. path.N")

    def target(self) -> str:
        return str(self.path.absolute())


SUBJECT_FIELDS = dict.fromkeys(("severity", "title", "rule_id", "alert_id", "action", "revision"), "")


class EmailSinkConfig(SinkConfigBase):
    type: Literal["email"]
    host: str = "localhost"
    port: int = Field(default=25, ge=1, le=65535)
    tls: Literal["auto", "starttls", "tls", "none"] = Field(
        default="auto", description="auto = STARTTLS when the server offers it; tls = implicit TLS (port 465)",
    )
    username: str | None = None
    password: SecretStr | None = None
    password_env: str | None = Field(default=None, description="environment variable holding the password")
    sender: str = Field(min_length=3)
    to: list[str] = Field(min_length=1)
    subject: str = Field(default="[newsmon {severity}] {title}", description="str.format over alert fields")
    timeout: float = Field(default=30.0, gt=0)

    @field_validator("subject")
    @classmethod
    def _known_fields(cls, subject: str) -> str:
        try:
            subject.format_map(SUBJECT_FIELDS)
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            raise ValueError(f"unknown field or bad format {exc}; fields: {', '.join(SUBJECT_FIELDS)}") from None
        return subject

    @model_validator(mode="after")
    def _one_password(self):
        _one_of(self.password, self.password_env, "password or password_env")
        return self

    def target(self) -> str:
        return f"{self.host}:{self.port}:{','.join(sorted(self.to))}"

    def smtp_password(self) -> str | None:
        return _resolve_secret(self.password, self.password_env, "password_env")


SINK_MODELS: dict[str, type[SinkConfigBase]] = {"webhook": WebhookSinkConfig, "jsonl": JsonlSinkConfig, "email": EmailSinkConfig}

SinkConfig = Annotated[WebhookSinkConfig | JsonlSinkConfig | EmailSinkConfig, Field(discriminator="type")]


def _unique_names(sinks: list) -> list:
    seen: set[str] = set()
    for sink in sinks:
        if sink.name in seen:
            raise ValueError(f"two sinks are named {sink.name!r}; names must be unique (each is a consumer group)")
        seen.add(sink.name)
    return sinks


SinkList = Annotated[list[SinkConfig], AfterValidator(_unique_names)]
