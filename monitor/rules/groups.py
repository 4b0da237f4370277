"""Selectors and group keys: what one alert, new term or correlation is about.

A selector (`story`, `source`, `entity`, `entity:<type>`, `event.type`,
`event.<slot>`) names values of one matching report. Group keys built from
them decide which reports share an alert (`group_by`), which values count as
seen (`new_term`) and which firings of two rules belong together
(`correlate.on`), so all three use this one module.
"""

from __future__ import annotations

from monitor.models import Article, stable_id
from monitor.rules.evidence import Evidence


def selector_values(selector: str, article: Article, evidence: Evidence) -> list[str]:
    """The values a selector takes for one matching report.

    Entities and events come from the evidence, i.e. what made the rule
    match, not from everything tagged in the article."""
    if selector == "story":
        return [article.story_id or article.id]
    if selector == "source":
        return [source_of(article)]
    if selector == "entity":
        return [e.id for e in evidence.entities]
    if selector.startswith("entity:"):
        wanted = selector.removeprefix("entity:")
        return [e.id for e in evidence.entities if e.type == wanted]
    if selector == "event.type":
        return [ev.type for ev in evidence.events]
    if selector.startswith("event."):
        slot = selector.removeprefix("event.")
        return [i for ev in evidence.events for i in ev.arguments.get(slot, [])]
    return []  # "rule": a single group for the whole rule


def group_key(selectors: tuple[str, ...], article: Article, evidence: Evidence) -> str:
    """Each selector's distinct values, sorted and joined by ',', selectors
    joined by '|' in the order given. Sorting makes the key (so the alert id)
    independent of tagging order; the default [story] gives the bare story
    id, so alert ids are the same as before group_by existed."""
    return "|".join(",".join(sorted(set(selector_values(s, article, evidence)))) for s in selectors)


def term_key(rule_id: str, selector: str, value: str) -> str:
    """Store key of a new_term value; prefixed so it never looks like an alert id."""
    return "term:" + stable_id(rule_id, selector, value)


def source_of(article: Article) -> str:
    """The source a report counts for: the agency if known (a wire story
    syndicated by three feeds is one source), else the feed."""
    return article.agency or article.source
