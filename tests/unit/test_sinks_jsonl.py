"""The JSONL sink's file: size rotation, kept generations, restarts."""

from __future__ import annotations

import json

from monitor.sinks.jsonl import RotatingJsonl


def line(n: int) -> bytes:
    return json.dumps({"id": f"a{n:02d}", "pad": "x" * 20}).encode()  # 44 bytes, 45 with the newline


def ids(path) -> list[str]:
    return [json.loads(raw)["id"] for raw in path.read_text().splitlines()]


def test_rotates_by_size_and_keeps_n_old_files(tmp_path):
    path = tmp_path / "out" / "alerts.jsonl"
    writer = RotatingJsonl(path, max_bytes=3 * 45, keep=2)
    for n in range(1, 11):
        writer.write(line(n))
    writer.close()

    # three lines per file, newest in alerts.jsonl, then .1, .2; older ones dropped
    assert ids(path) == ["a10"]
    assert ids(path.with_name("alerts.jsonl.1")) == ["a07", "a08", "a09"]
    assert ids(path.with_name("alerts.jsonl.2")) == ["a04", "a05", "a06"]
    assert not path.with_name("alerts.jsonl.3").exists()
    assert all(p.stat().st_size <= 3 * 45 for p in path.parent.iterdir())


def test_keep_zero_starts_a_fresh_file(tmp_path):
    path = tmp_path / "alerts.jsonl"
    writer = RotatingJsonl(path, max_bytes=2 * 45, keep=0)
    for n in range(1, 4):
        writer.write(line(n))
    writer.close()
    assert ids(path) == ["a03"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alerts.jsonl"]


def test_restart_appends_and_mends_a_cut_last_line(tmp_path):
    path = tmp_path / "alerts.jsonl"
    first = RotatingJsonl(path, max_bytes=10_000, keep=1)
    first.write(line(1))
    first.close()
    with path.open("ab") as fh:  # a crash in the middle of a write
        fh.write(b'{"id": "a02", "pa')

    second = RotatingJsonl(path, max_bytes=10_000, keep=1)
    second.write(line(3))
    second.close()
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["id"] == "a01"
    assert lines[1] == '{"id": "a02", "pa'  # left as is, but alone on its line
    assert json.loads(lines[2])["id"] == "a03"


def test_restart_counts_the_existing_size_toward_rotation(tmp_path):
    path = tmp_path / "alerts.jsonl"
    first = RotatingJsonl(path, max_bytes=2 * 45, keep=1)
    first.write(line(1))
    first.write(line(2))
    first.close()
    second = RotatingJsonl(path, max_bytes=2 * 45, keep=1)
    second.write(line(3))
    second.close()
    assert ids(path.with_name("alerts.jsonl.1")) == ["a01", "a02"]
    assert ids(path) == ["a03"]
