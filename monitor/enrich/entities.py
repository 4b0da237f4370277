"""What a watched entity is (`EntitySpec`), apart from where entities come
from: watchlist files (watchlist.py) and the built-in country gazetteer
(gazetteer.py) both make them, and the watchlist merges the two."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor.models import EntityType


class EntitySpec(BaseModel):
    """One watched entity, as written in a watchlist file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, pattern=r"^\S+$")
    type: EntityType
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    requires_context: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    case_sensitive: bool = False
    case_sensitive_aliases: list[str] = Field(default_factory=list)
    country: str | None = None
    tags: list[str] = Field(default_factory=list)

    @field_validator("aliases", "requires_context", "exclude", "case_sensitive_aliases")
    @classmethod
    def _non_blank(cls, v: list[str]) -> list[str]:
        if any(not a.strip() for a in v):
            raise ValueError("must not contain empty strings")
        return v

    def full_aliases(self) -> list[str]:
        """Every form that names the entity on its own: the name (unless it is
        itself listed as a short form, e.g. "Georgia"), aliases, cased aliases."""
        name = [] if self.name in self.requires_context else [self.name]
        return list(dict.fromkeys([*name, *self.aliases, *self.case_sensitive_aliases]))
