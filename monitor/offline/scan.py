"""`newsmon scan` and `newsmon rules test` without Kafka: the daemon's pipeline
over files, with in-memory state, and the record `scan` prints per article."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from monitor.enrich.dedup import DedupConfig
from monitor.models import RawArticle
from monitor.pipeline import Pipeline, Result
from monitor.watch.files import RejectedFile
from monitor.watch.reader import read_path


def scan_record(result: Result) -> dict:
    """One line of `newsmon scan` output (schema documented in README); `story`
    is the StoryRecord the daemon publishes on news.stories after this article."""
    article = result.article
    story = next((s for s in result.stories if s.id == article.story_id), None)
    return {
        "id": article.id,
        "title": article.title,
        "published": article.published.isoformat() if article.published else None,
        "source": article.agency or article.source,
        "dateline": article.dateline,
        "text": article.text,
        "duplicate_of": article.duplicate_of,
        "dup_kind": article.dup_kind,
        "similarity": article.similarity,
        "story_id": article.story_id,
        "entities": [e.model_dump(mode="json") for e in article.entities],
        "events": [e.model_dump(mode="json") for e in article.events],
        "names": [n.model_dump(mode="json") for n in article.names],
        "alerts": [
            {"rule_id": a.rule_id, "alert_id": a.id, "severity": a.severity, "action": a.action}
            for a in result.alerts
        ],
        "story": story.model_dump(mode="json") if story is not None else None,
    }


def offline_pipeline(rules_dir: Path, dedup_config: DedupConfig | None = None) -> Pipeline:
    """The pipeline `scan` and `rules test` run: the daemon's, with in-memory state.
    Invalid rules raise RulesetError / RuleFileError / ValueError."""
    return Pipeline.from_rules_dir(rules_dir, dedup_config=dedup_config)


def read_inputs(paths: Iterable[Path], max_bytes: int,
                on_error: Callable[[Path, Exception], None]) -> Iterator[tuple[Path, list[RawArticle]]]:
    """(path, raw articles) per input file, in the order given; an unreadable
    input is reported to `on_error` and skipped."""
    for path in paths:
        try:
            raws = read_path(path, max_bytes)
        except (RejectedFile, OSError) as exc:
            on_error(path, exc)
            continue
        yield path, raws
