"""`newsmon scan`: the offline pipeline over the seeds with the default rule pack."""

from __future__ import annotations

import json

from click.testing import CliRunner

from monitor.cli import main
from monitor.models import StoryRecord
from monitor.settings import REPO_ROOT
from tests.seeds import seed_path

ORDER = ["004", "000", "001", "002", "003"]


def scan(*args: str):
    return CliRunner().invoke(main, ["scan", *args])


def test_seeds_fire_border_crossing_once_and_copies_stay_silent():
    result = scan(*(str(seed_path(s)) for s in ORDER))
    assert result.exit_code == 0, result.output
    records = dict(zip(ORDER, (json.loads(line) for line in result.output.splitlines())))

    crossing = {s: [a for a in r["alerts"] if a["rule_id"] == "leader-border-crossing"] for s, r in records.items()}
    assert [a["action"] for a in crossing["000"]] == ["new"]
    assert [a["action"] for a in crossing["001"]] == ["update"]
    assert [a["action"] for a in crossing["002"]] == ["update"]
    assert crossing["004"] == [] and crossing["003"] == []
    assert crossing["000"][0]["alert_id"] == crossing["002"][0]["alert_id"]
    assert crossing["000"][0]["severity"] == "high"

    assert records["003"]["duplicate_of"] == records["002"]["id"]
    assert records["003"]["dup_kind"] == "version"
    assert records["003"]["alerts"] == []
    assert all(records[s]["duplicate_of"] is None for s in ("000", "001", "002", "004"))
    assert len({r["story_id"] for r in records.values()}) == 1


def test_scan_output_schema_and_evidence():
    result = scan(str(seed_path("000")))
    (record,) = [json.loads(line) for line in result.output.splitlines()]
    for key in ("id", "title", "published", "source", "text", "duplicate_of", "dup_kind", "similarity",
                "story_id", "entities", "events", "alerts"):
        assert key in record
    assert record["published"].startswith("2023-09-12")
    assert "Legal Disclaimer" not in record["text"]
    crossing = [e for e in record["events"] if e["type"] == "border_crossing" and e["modality"] == "asserted"]
    assert crossing
    ev = crossing[0]["evidence"]
    assert record["text"][ev["start"]:ev["end"]] == ev["sentence"]


def test_unreadable_input_is_reported_and_scanning_goes_on(tmp_path):
    missing = tmp_path / "nope.txt"
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\x00\x01\x02")
    result = scan(str(missing), str(binary), str(seed_path("001")))
    assert result.exit_code == 0
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1
    assert "nope.txt" in result.stderr and "bin.txt" in result.stderr and "binary" in result.stderr


def test_nothing_readable_exits_non_zero(tmp_path):
    result = scan(str(tmp_path / "missing.txt"))
    assert result.exit_code == 1
    assert "missing.txt" in result.stderr


RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Example Wire</title>
<item><title>Leader crosses border</title><guid>w-1</guid>
<description>&lt;p&gt;SEOUL, May 3 (Wire) -- North Korean leader Kim Jong Un crossed into Russia by train
on Tuesday, officials said.&lt;/p&gt;</description><pubDate>Tue, 03 May 2022 10:00:00 GMT</pubDate></item>
<item><title>Harvest report</title><guid>w-2</guid><description>Wheat prices fell slightly.</description></item>
</channel></rss>"""


def test_saved_feed_file_gives_one_article_per_entry(tmp_path):
    feed = tmp_path / "wire.rss"
    feed.write_text(RSS)
    broken = tmp_path / "broken.xml"
    broken.write_text("<html><body>502 Bad Gateway</body></html>")
    result = scan(str(feed), str(broken))
    assert result.exit_code == 0
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["title"] == "Leader crosses border" and "crossed into Russia" in first["text"]
    assert first["published"].startswith("2022-05-03")
    assert [a["rule_id"] for a in first["alerts"]] == ["leader-border-crossing"]
    assert second["title"] == "Harvest report" and second["alerts"] == []
    assert "broken.xml" in result.stderr and "not a readable feed" in result.stderr


def test_json_feed_file_is_read_as_a_feed(tmp_path):
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps({
        "version": "https://jsonfeed.org/version/1.1", "title": "Example JSON wire",
        "items": [
            {"id": "j-1", "title": "Leader crosses border", "date_published": "2022-05-03T10:00:00+02:00",
             "content_text": "SEOUL, May 3 (Wire) -- North Korean leader Kim Jong Un crossed into Russia "
                             "by train on Tuesday, officials said.", "tags": ["asia"]},
            {"id": "j-2", "title": "Market wrap", "content_html": "<p>Shares rose.</p><p>Bonds fell.</p>"},
        ],
    }))
    result = scan(str(feed))
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["published"] == "2022-05-03T08:00:00+00:00"
    assert [a["rule_id"] for a in first["alerts"]] == ["leader-border-crossing"]
    assert second["text"] == "Shares rose.\n\nBonds fell."


def test_dedup_thresholds_are_configurable():
    seeds = [str(seed_path("002")), str(seed_path("003"))]
    default = [json.loads(line) for line in scan(*seeds).stdout.splitlines()]
    strict_env = {"NEWSMON_DEDUP": '{"containment_threshold": 0.99, "min_shared_paras": 40}'}
    strict = CliRunner(env=strict_env).invoke(main, ["scan", *seeds])
    assert default[1]["dup_kind"] == "version"
    assert [json.loads(line)["duplicate_of"] for line in strict.stdout.splitlines()] == [None, None]
    typo = CliRunner(env={"NEWSMON_DEDUP": '{"near_treshold": 0.8}'}).invoke(main, ["scan", *seeds])
    assert typo.exit_code == 1 and "near_treshold" in typo.output and "near_threshold" in typo.output


def test_each_record_carries_its_story_as_the_daemon_publishes_it():
    examples = sorted((REPO_ROOT / "examples").glob("*.txt"))
    result = scan(*map(str, examples))
    first, other, copy, putin = (json.loads(line) for line in result.output.splitlines())
    for record in (first, other, copy, putin):
        story = StoryRecord.model_validate(record["story"])
        assert story.id == record["story_id"] and story.latest_report.article_id == record["id"]
    assert [r["story"]["report_count"] for r in (first, other, copy)] == [1, 2, 3]
    story = copy["story"]
    assert [r["article_id"] for r in story["reports"]] == [first["id"], other["id"], copy["id"]]
    assert story["reports"][2]["duplicate_of"] == first["id"]
    assert story["sources"] == ["Harbour Wire", "Northern Daily"]
    assert "Kim Jong Un" in story["names"] and "border_crossing" in story["event_types"]
    assert story["title"] == first["title"]
    assert putin["story"]["id"] != story["id"] and putin["story"]["report_count"] == 1
