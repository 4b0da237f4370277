"""Topic names, one place; `NEWSMON_TOPIC_PREFIX` namespaces them all."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Topics(BaseSettings):
    """Topic names; `NEWSMON_TOPIC_PREFIX` namespaces them (tests use it)."""

    model_config = SettingsConfigDict(env_prefix="NEWSMON_TOPIC_", extra="ignore")

    prefix: str = ""

    def name(self, base: str) -> str:
        return f"{self.prefix}{base}"

    @property
    def raw(self) -> str:
        return self.name("news.raw")

    @property
    def prepared(self) -> str:
        """Internal: cleaned, tagged, fingerprinted articles; one partition,
        so every article meets every earlier one in dedup and stories."""
        return self.name("news.prepared")

    @property
    def articles(self) -> str:
        return self.name("news.articles")

    @property
    def duplicates(self) -> str:
        return self.name("news.duplicates")

    @property
    def alerts(self) -> str:
        return self.name("news.alerts")

    @property
    def deadletter(self) -> str:
        return self.name("news.deadletter")

    @property
    def alerts_deadletter(self) -> str:
        """Alerts a sink could not deliver, with the reason (see monitor/sinks/runner.py)."""
        return self.name("news.alerts.deadletter")

    @property
    def silences(self) -> str:
        """Compacted: key = silence id, value = Silence JSON, tombstone = removed."""
        return self.name("news.silences")

    @property
    def stories(self) -> str:
        """Compacted: key = story id, value = StoryRecord JSON (the latest state of each story)."""
        return self.name("news.stories")

    @property
    def acks(self) -> str:
        """Compacted: key = alert id, value = who acknowledged it and when; tombstone = withdrawn."""
        return self.name("news.acks")
