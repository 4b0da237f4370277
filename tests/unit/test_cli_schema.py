"""`newsmon schema`: subscribers get the JSON Schema of what each topic carries."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import main
from monitor.offline.scan import offline_pipeline
from monitor.settings import REPO_ROOT
from monitor.watch.reader import read_path


def schema_of(model: str) -> dict:
    result = CliRunner().invoke(main, ["schema", model])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_story_schema_describes_the_records_on_news_stories():
    schema = schema_of("story")
    assert schema["title"] == "StoryRecord"
    props = schema["properties"]
    assert {"id", "title", "status", "reports", "report_count", "sources", "names", "event_types"} <= set(props)
    assert set(props["status"]["enum"]) == {"active", "closed"}
    report = schema["$defs"]["StoryReport"]["properties"]
    assert {"article_id", "source", "seen_at", "modality", "duplicate_of"} <= set(report)

    pipeline = offline_pipeline(REPO_ROOT / "rules")
    [raw] = read_path(next(Path(REPO_ROOT / "examples").glob("01_*.txt")), 1 << 20)
    [record] = pipeline.process(raw).stories
    assert set(json.loads(record.model_dump_json())) <= set(props)  # every field published is described


def test_ack_schema_describes_the_dashboards_acknowledgements():
    schema = schema_of("ack")
    assert set(schema["required"]) == {"alert_id", "by", "at"}


def test_an_unknown_model_is_refused_with_the_choices():
    result = CliRunner().invoke(main, ["schema", "stories"])
    assert result.exit_code == 2 and "'story'" in result.output
