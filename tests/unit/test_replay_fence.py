"""The worker's record of alerts already out (monitor/worker/replay.py): what
it drops and for how long."""

from __future__ import annotations

from monitor.models import Alert
from monitor.worker import replay
from monitor.worker.replay import CLOCK_MARGIN_MS, KEEP_OWN_MS, ReplayFence


def alert(alert_id: str, revision: int = 1) -> Alert:
    return Alert(id=alert_id, rule_id="r1", rule_version="1", severity="high", title="t",
                 action="new" if revision == 1 else "update", revision=revision)


def test_found_alerts_are_dropped_only_under_the_same_topic_and_revision():
    fence = ReplayFence()
    fence.load({("news.alerts", "a1", 1)}, None)
    assert fence.already_sent("news.alerts", alert("a1"))
    assert not fence.already_sent("news.alerts", alert("a1", revision=2))
    assert not fence.already_sent("team.alerts", alert("a1"))  # an extra destination has its own record
    assert not fence.already_sent("news.alerts", alert("a2"))


def test_found_alerts_are_forgotten_once_the_replay_is_over(monkeypatch):
    clock = [1_000_000_000]
    monkeypatch.setattr(replay, "_now_ms", lambda: clock[0])
    fence = ReplayFence()
    fence.load({("news.alerts", "a1", 1)}, None)
    fence.passed(clock[0] - 60_000)  # produced before the load: still replaying
    assert fence.already_sent("news.alerts", alert("a1"))
    fence.passed(clock[0] + CLOCK_MARGIN_MS + 1)  # produced after it: new input
    assert not fence.already_sent("news.alerts", alert("a1"))


def test_own_sends_are_remembered_for_a_while(monkeypatch):
    clock = [1_000_000_000]
    monkeypatch.setattr(replay, "_now_ms", lambda: clock[0])
    fence = ReplayFence()
    fence.sent("news.alerts", alert("a1"))
    clock[0] += KEEP_OWN_MS // 2
    fence.sent("news.alerts", alert("a2"))
    assert fence.already_sent("news.alerts", alert("a1"))  # a rebalance replays our own recent work
    clock[0] += KEEP_OWN_MS // 2 + 1
    fence.sent("news.alerts", alert("a3"))
    assert not fence.already_sent("news.alerts", alert("a1"))  # long committed: forgotten
    assert fence.already_sent("news.alerts", alert("a2"))


def test_articles_found_or_sent_are_not_sent_again(monkeypatch):
    clock = [1_000_000_000]
    monkeypatch.setattr(replay, "_now_ms", lambda: clock[0])
    fence = ReplayFence()
    fence.load(set(), clock[0] - 60_000, {"art-1"})
    assert fence.article_already_sent("art-1")  # on news.articles before the crash
    assert not fence.article_already_sent("art-2")
    fence.article_sent("art-2")
    assert fence.article_already_sent("art-2")  # a rebalance replays our own uncommitted work
    fence.passed(clock[0] + CLOCK_MARGIN_MS + 1)
    assert not fence.article_already_sent("art-1")
    clock[0] += KEEP_OWN_MS + 1
    fence.article_sent("art-3")
    assert not fence.article_already_sent("art-2")
