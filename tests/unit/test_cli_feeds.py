"""`newsmon feeds import` and `newsmon feeds list`."""

from __future__ import annotations

from datetime import datetime, timezone

from click.testing import CliRunner

from monitor.cli import main
from monitor.watch.feeds import FeedHealth, FeedState, load_feeds, save_state

OPML = """<?xml version="1.0"?><opml version="2.0"><head><title>subs</title></head><body>
<outline text="World"><outline text="Example Wire" type="rss" xmlUrl="https://wire.example.org/rss"/></outline>
<outline text="Blog" type="rss" xmlUrl="http://blog.example.net/atom"/></body></opml>"""


def invoke(tmp_path, *args):
    env = {"NEWSMON_FEEDS_FILE": str(tmp_path / "feeds.yaml"), "NEWSMON_DATA_DIR": str(tmp_path / "data")}
    return CliRunner(env=env).invoke(main, list(args))


def test_opml_import_adds_each_feed_once(tmp_path):
    opml = tmp_path / "subs.opml"
    opml.write_text(OPML)
    first = invoke(tmp_path, "feeds", "import", str(opml))
    again = invoke(tmp_path, "feeds", "import", str(opml))
    assert "added 2 feed(s)" in first.output and "added 0 feed(s)" in again.output
    feeds = load_feeds(tmp_path / "feeds.yaml")
    assert [(f.name, f.url) for f in feeds] == [("Example Wire", "https://wire.example.org/rss"),
                                                  ("Blog", "http://blog.example.net/atom")]
    assert feeds[0].tags == ["World"]


def test_feeds_list_shows_health_from_the_state_file(tmp_path):
    (tmp_path / "feeds.yaml").write_text(
        "feeds:\n  - {name: Wire, url: 'https://wire.example.org/rss'}\n"
        "  - {name: Flaky, url: 'https://flaky.example.org/rss'}\n"
        "  - {name: New, url: 'https://new.example.org/rss'}\n"
    )
    when = datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc)
    save_state(tmp_path / "data" / "feeds-state.json", {
        "Wire": FeedState(url="https://wire.example.org/rss", health=FeedHealth(last_success=when, items_seen=12)),
        "Flaky": FeedState(url="https://flaky.example.org/rss", health=FeedHealth(
            last_error="HTTP 500", last_error_at=when, consecutive_failures=7)),
    })
    result = invoke(tmp_path, "feeds", "list")
    assert result.exit_code == 0, result.output
    lines = result.output
    assert "Wire  [ok]" in lines and "items seen 12" in lines
    assert "Flaky  [UNHEALTHY]" in lines and "HTTP 500" in lines
    assert "New  [never polled]" in lines


def test_invalid_feeds_file_is_a_clear_error(tmp_path):
    (tmp_path / "feeds.yaml").write_text("feeds:\n  - {name: Wire, url: 'ftp://x.example.org/rss'}\n")
    result = invoke(tmp_path, "feeds", "list")
    assert result.exit_code == 1
    assert "feeds.yaml" in result.output and "http" in result.output
