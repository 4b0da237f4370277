"""Watchlists: the entities newsmon tags, loaded from ``rules/watchlists/*.yaml``.

File format (all keys except ``id``/``type``/``name`` optional)::

    entities:
      - id: person:kim-jong-un          # unique, no spaces; "type:slug" by convention
        type: person                    # person organization country place facility weapon_system other
        name: Kim Jong Un               # display name; always also an alias
        aliases: [Kim Jong-un, Kim Jongun]
        requires_context: [Kim, Mr Kim] # short forms: count only if the article
                                        # also names the entity by a full alias
        exclude: [Kim Yo Jong]          # phrases inside which no alias matches
        case_sensitive: false           # all aliases must match exact case
        case_sensitive_aliases: [KJU]   # just these must (added to aliases)
        country: KP                     # ISO code or name -> "country:KP"
        tags: [border]                  # free labels; event slots may require them

Matching is case-insensitive and treats hyphens, dashes and spaces alike
("Kim Jong-un" == "Kim Jong Un"). Short all-caps forms ("US", "U.N.") are
case-sensitive automatically so that "us" is not the United States.
Countries come from the built-in gazetteer; an entry whose id is a country id
(``country:KP``) extends that country instead of redefining it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from monitor.enrich.entities import EntitySpec
from monitor.enrich.gazetteer import country_entities, resolve_country
from monitor.errors import RuleFileError
from monitor.yamldoc import read_yaml, validate, yaml_files

__all__ = ["EntitySpec", "Watchlist", "WatchlistError"]

WatchlistError = RuleFileError


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entities: list[dict] = Field(default_factory=list)


class Watchlist:
    """An immutable set of entities keyed by id."""

    def __init__(self, entities: Iterable[EntitySpec]) -> None:
        self.entities: tuple[EntitySpec, ...] = tuple(entities)
        self.by_id = {e.id: e for e in self.entities}
        if len(self.by_id) != len(self.entities):
            raise WatchlistError("duplicate entity ids")

    def __len__(self) -> int:
        return len(self.entities)

    def __iter__(self) -> Iterator[EntitySpec]:
        return iter(self.entities)

    def get(self, entity_id: str) -> EntitySpec | None:
        return self.by_id.get(entity_id)

    @classmethod
    def from_rules_dir(cls, rules_dir: Path | str, *, countries: bool = True) -> Watchlist:
        """All ``<rules_dir>/watchlists/*.yaml`` (missing folder: countries only)."""
        folder = Path(rules_dir) / "watchlists"
        return cls.load([folder] if folder.is_dir() else [], countries=countries)

    @classmethod
    def load(cls, paths: Iterable[Path | str], *, countries: bool = True) -> Watchlist:
        """Load files/directories; ``countries`` adds the built-in gazetteer."""
        merged: dict[str, EntitySpec] = {}
        if countries:
            merged.update((e.id, e) for e in country_entities())
        builtin = set(merged)
        seen_in: dict[str, str] = {}
        for path in yaml_files(paths):
            doc = read_yaml(path)
            validate(_File, doc.data or {}, doc, (), None)
            for i, raw in enumerate((doc.data or {}).get("entities", [])):
                item_id = raw.get("id") if isinstance(raw, dict) else None
                spec: EntitySpec = validate(EntitySpec, raw, doc, ("entities", i), item_id)
                if spec.country is not None:
                    cid = resolve_country(spec.country)
                    if cid is None:
                        raise WatchlistError(f"unknown country {spec.country!r}", str(path),
                                             doc.line("entities", i, "country"), spec.id)
                    spec = spec.model_copy(update={"country": cid})
                if spec.id in seen_in:
                    raise WatchlistError(f"duplicate id, first defined in {seen_in[spec.id]}",
                                         str(path), doc.line("entities", i), spec.id)
                seen_in[spec.id] = f"{path}:{doc.line('entities', i)}"
                if spec.id in builtin:
                    spec = _extend(merged[spec.id], spec)
                merged[spec.id] = spec
        return cls(merged.values())


def _extend(base: EntitySpec, extra: EntitySpec) -> EntitySpec:
    """A user entry for a built-in country adds to it rather than replacing it."""
    def union(a: list[str], b: list[str]) -> list[str]:
        return list(dict.fromkeys([*a, *b]))

    return base.model_copy(update={
        "aliases": union(base.aliases, [extra.name, *extra.aliases]),
        "requires_context": union(base.requires_context, extra.requires_context),
        "exclude": union(base.exclude, extra.exclude),
        "case_sensitive_aliases": union(base.case_sensitive_aliases, extra.case_sensitive_aliases),
        "tags": union(base.tags, extra.tags),
    })
