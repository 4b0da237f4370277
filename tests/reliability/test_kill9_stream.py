"""kill -9 the worker in the middle of a stream of 2,000 articles, then restart it.

Asserts: every article reaches news.articles or news.duplicates (none lost), an
article seen twice (at-least-once replay) always has the same verdict, every
planted copy points at its original, every matching article is reported in an
alert (none lost), no alert id is emitted twice as `new`, and dedup and rule
state survived (a copy sent after the restart of an article processed before
it is flagged; a later report updates the open group alert)."""

from __future__ import annotations

import os
import signal
from collections import Counter, defaultdict

import pytest

from monitor.models import RawArticle
from tests.daemon import newsmon_env, poll, running
from tests.reliability.corpus import PHRASE_RULE, fresh_copy, make_corpus, write_rules
from tests.reliability.util import articles_done, read_topics, send_many, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(420)]

N = 2000
FIRST_BATCH = 1500  # sent before the kill; the rest while the worker is dead
KILL_AFTER = 500  # articles done by the first worker when it is killed


async def test_kill_9_mid_stream_loses_nothing_and_duplicates_no_alert(kafka_bootstrap, tmp_path):
    rules = write_rules(tmp_path / "rules")
    env = newsmon_env(kafka_bootstrap, tmp_path, NEWSMON_RULES_DIR=str(rules))
    prefix = env["NEWSMON_TOPIC_PREFIX"]
    t = {name: f"{prefix}news.{name}" for name in ("raw", "articles", "duplicates", "alerts")}
    corpus = make_corpus(N)
    port = env["NEWSMON_HTTP_PORT"]

    with running(["worker"], env, tmp_path / "first") as first:
        await poll(f"http://127.0.0.1:{port}/readyz", lambda status, _: status == 200, timeout=180)
        await send_many(kafka_bootstrap, t["raw"], corpus.articles[:FIRST_BATCH])
        await wait_until(lambda: _at_least(port, KILL_AFTER), 240, f"{KILL_AFTER} articles processed", first.logs)
        os.killpg(first.proc.pid, signal.SIGKILL)
        first.proc.wait(10)
        first_logs = first.logs()

    before = await read_topics(kafka_bootstrap, [t["articles"], t["duplicates"]], until=lambda v: False,
                               timeout=5)
    done_before = {a["id"] for values in before.values() for a in values}
    # (outputs still in the killed producer's buffer never reached the broker)
    assert KILL_AFTER // 5 <= len(done_before) < FIRST_BATCH, "the kill did not land mid-stream"
    await send_many(kafka_bootstrap, t["raw"], corpus.articles[FIRST_BATCH:])  # while no worker runs

    # copies, sent after the restart, of originals only the killed worker saw
    originals = [a for a in corpus.articles[:FIRST_BATCH]
                 if a.id in done_before and a.id not in corpus.copy_of][:3]
    late = [fresh_copy(a, f"late-copy-{i}") for i, a in enumerate(originals)]
    late_census = RawArticle(id="late-census", source="late-outlet",
                             content=f"OSLO (Wire) -- The {PHRASE_RULE} counted four hundred boats this spring, "
                                     "fewer than the harbour master expected after the storms.")
    expected = set(corpus.ids) | {a.id for a in late} | {late_census.id}

    def all_done(values) -> bool:
        return expected <= {a["id"] for topic in (t["articles"], t["duplicates"]) for a in values[topic]}

    with running(["worker"], env, tmp_path / "second") as second:
        await send_many(kafka_bootstrap, t["raw"], [*late, late_census])
        out = await read_topics(kafka_bootstrap, [t["articles"], t["duplicates"], t["alerts"]], until=all_done,
                                timeout=300, settle=3)
        second_logs = second.logs()
        assert second.proc.poll() is None, second_logs[-4000:]

    # -- nothing lost
    verdicts: dict[str, set[tuple]] = defaultdict(set)
    for topic in (t["articles"], t["duplicates"]):
        for a in out[topic]:
            verdicts[a["id"]].add((topic, a["duplicate_of"]))
    missing = expected - verdicts.keys()
    assert not missing, (f"{len(missing)} articles never processed, e.g. {sorted(missing)[:5]}\n"
                         f"first worker:\n{first_logs[-2000:]}\nsecond worker:\n{second_logs[-3000:]}")
    assert not verdicts.keys() - expected
    # -- a replayed article keeps its verdict
    assert {k: v for k, v in verdicts.items() if len(v) > 1} == {}
    verdict = {k: next(iter(v)) for k, v in verdicts.items()}
    # -- dedup: every planted copy, and the late copies of pre-crash originals
    wanted = {**corpus.copy_of, **{c.id: o.id for c, o in zip(late, originals)}}
    assert {k: verdict[k] for k in wanted} == {k: (t["duplicates"], o) for k, o in wanted.items()}
    assert sum(1 for topic, _ in verdict.values() if topic == t["duplicates"]) == len(wanted)

    # -- alerts: none lost, no id `new` twice
    alerts = out[t["alerts"]]
    news = Counter(a["id"] for a in alerts if a["action"] == "new")
    assert [i for i, n in news.items() if n > 1] == []
    same_revision: dict[tuple, set] = defaultdict(set)  # a replayed revision is the same alert
    for a in alerts:
        same_revision[(a["id"], a["revision"])].add((a["action"], a["articles"][-1]["id"], a["corroboration"]))
    assert {k: v for k, v in same_revision.items() if len(v) > 1} == {}
    reported: dict[str, set[str]] = defaultdict(set)
    for a in alerts:
        reported[a["rule_id"]].add(a["articles"][-1]["id"])
    for rule_id, ids in corpus.triggers.items():
        assert ids <= reported[rule_id], f"{rule_id}: no alert for {sorted(ids - reported[rule_id])[:5]}"
    lantern_new = {a["id"] for a in alerts if a["rule_id"] == "lantern-protocol" and a["action"] == "new"}
    assert len(lantern_new) == len(corpus.triggers["lantern-protocol"])  # one story each
    # -- rule state survived: the group_by [rule] alert opened before the crash is updated, not re-opened
    census = [a for a in alerts if a["rule_id"] == "harbour-census"]
    assert len({a["id"] for a in census}) == 1
    after = [a for a in census if a["articles"][-1]["id"] == late_census.id]
    assert after and all(a["action"] == "update" for a in after)

    outputs = Counter(a["id"] for topic in (t["articles"], t["duplicates"]) for a in out[topic])
    revisions = Counter((a["id"], a["revision"]) for a in alerts)
    print(f"\nkill -9 after {len(done_before)} of {FIRST_BATCH} sent were output; {len(expected)} articles, "
          f"{len(wanted)} copies flagged, {len(news)} new alerts, {len(alerts)} alert messages; replayed with "
          f"the same verdict: {sum(outputs.values()) - len(outputs)} article outputs, "
          f"{sum(revisions.values()) - len(revisions)} alert revisions")


async def _at_least(port: str, n: int) -> bool:
    return await articles_done(port) >= n
