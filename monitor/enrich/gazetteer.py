"""The built-in country gazetteer: one watchlist entity per country.

pycountry gives every ISO country its name, official name and common name;
``data/countries.yaml`` adds what news copy actually says (demonyms,
capitals used for governments, "DPRK", "U.S.") so that "North Korean",
"Pyongyang" and "DPRK" all resolve to ``country:KP``. Ambiguous words are
either dropped, made case-sensitive or gated on context there.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import pycountry

from monitor.enrich.entities import EntitySpec
from monitor.yamldoc import read_yaml

DATA = Path(__file__).with_name("data") / "countries.yaml"
_NO_PLURAL = ("s", "sh", "ch", "x", "z", "ese")


def country_id(code: str) -> str:
    return f"country:{code.upper()}"


def _plural(demonym: str) -> str | None:
    """English plural of a demonym ("Iranian" -> "Iranians"), or None when
    the word has none ("Chinese", "British", "Swiss")."""
    return None if demonym.lower().endswith(_NO_PLURAL) else demonym + "s"


def _pycountry_names(c: Any) -> list[str]:
    """ISO names, minus the inverted "Korea, Republic of" forms nobody writes."""
    names = [getattr(c, "common_name", None), c.name, getattr(c, "official_name", None)]
    out = []
    for n in names:
        if n and "," not in n:
            out.append(n.removeprefix("the "))
    return out


@lru_cache(maxsize=1)
def country_entities() -> tuple[EntitySpec, ...]:
    """All countries as entities, sorted by id. Cached: the table is static."""
    extra: dict[str, dict[str, Any]] = read_yaml(DATA).data or {}
    codes = {c.alpha_2: c for c in pycountry.countries}
    out = []
    for code in sorted(set(codes) | set(extra)):
        info = extra.get(code, {})
        iso = codes.get(code)
        iso_names = _pycountry_names(iso) if iso else []
        name = info.get("name") or (iso_names[0] if iso_names else code)
        drop = set(info.get("drop", []))
        demonyms = info.get("demonyms", [])
        plurals = [p for d in demonyms if (p := _plural(d))]
        forms = [name, *iso_names, *info.get("names", []), *demonyms, *plurals,
                 *info.get("capitals", [])]
        gated = info.get("context_only", [])
        gated = gated + [p for g in gated if g in demonyms and (p := _plural(g))]
        aliases = list(dict.fromkeys(f for f in forms if f not in drop and f not in gated))
        out.append(EntitySpec(
            id=country_id(code), type="country", name=name, aliases=aliases,
            requires_context=gated, exclude=info.get("exclude", []),
            case_sensitive_aliases=info.get("case_sensitive", []),
            country=country_id(code),
        ))
    return tuple(out)


@lru_cache(maxsize=1)
def _lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    for e in country_entities():
        code = e.id.split(":", 1)[1]
        table[code.casefold()] = e.id
        for alias in [e.name, *e.aliases]:
            table.setdefault(alias.casefold(), e.id)
    for c in pycountry.countries:
        table.setdefault(c.alpha_3.casefold(), country_id(c.alpha_2))
    return table


def resolve_country(ref: str) -> str | None:
    """``"KP"``, ``"PRK"``, ``"country:KP"`` or ``"North Korea"`` -> ``"country:KP"``."""
    key = ref.removeprefix("country:").strip().casefold()
    return _lookup().get(key)
