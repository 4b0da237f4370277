"""The analyst dashboard's settings (README, Dashboard)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Dashboard(BaseSettings):
    """`NEWSMON_DASHBOARD_*` or a `dashboard:` block in newsmon.yaml."""

    model_config = SettingsConfigDict(env_prefix="NEWSMON_DASHBOARD_", extra="ignore")

    enabled: bool = Field(default=True, description="serve it from `newsmon run`")
    host: str = Field(default="127.0.0.1", description="bind address; anything else exposes it")
    port: int = Field(default=8080, ge=0, le=65535)
    auth: Literal["none", "token", "basic", "proxy"] = Field(
        default="none", description="none, token (login with a shared token), basic (HTTP basic auth), "
        "proxy (the user named by a trusted reverse proxy's header)")
    secret_file: Path | None = Field(
        default=None, description="token: its first line is the token; basic: lines of user:password")
    secret: SecretStr | None = Field(default=None, json_schema_extra={"env_only": True},
                                     description="the same, from the environment "
                                     "(NEWSMON_DASHBOARD_SECRET; basic: user:password pairs, comma-separated)")
    proxy_header: str = Field(default="X-Forwarded-User", description="proxy: the header naming the user")
    history_hours: float = Field(default=168, gt=0, description="how far back news.alerts is read on start")
    max_alerts: int = Field(default=10_000, ge=100, description="alerts kept in memory (the latest)")
