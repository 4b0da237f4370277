"""Rewrite the rules directory 20 times while articles stream through a running worker.

Valid edits (a rule added each time, one changed) and invalid ones (a schema
error, broken YAML, an unknown entity, a half-written file) alternate while 400
articles are sent in small batches. Asserts: the worker never stops, every
article is processed exactly as the stream goes on, invalid edits are refused
(previous rules kept) and, at the end, exactly the final rules are in effect."""

from __future__ import annotations

import asyncio
import json

import pytest

from monitor.models import RawArticle
from tests.daemon import newsmon_env, poll, running
from tests.reliability.corpus import PHRASE_STORY, RULES_YAML, make_corpus, write_rules
from tests.reliability.util import read_topics, send_many, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(420)]

N = 400
EDITS = 20
FINAL_PHRASE = "copper lighthouse"

FINAL_RULES = f"""\
rules:
  - id: final-rule
    title: The final ruleset is in effect
    severity: high
    match: {{text: {{phrases: ["{FINAL_PHRASE}"]}}}}
"""


def version(i: int) -> str:
    """Edit number i: valid ones add rule edit-i; every fifth is broken in a different way."""
    extra = f"""\
  - id: edit-{i}
    title: Edit number {i}
    severity: info
    match: {{text: {{phrases: ["edit marker {i}"]}}}}
"""
    broken = {
        2: extra.replace("severity: info", "severity: loud"),  # schema error
        7: "  - id: [unclosed\n",  # YAML syntax error
        12: extra.replace('{text: {phrases: ["edit marker 12"]}}', "{entity: {any: [person:nobody]}}"),
        17: None,  # half-written: the file cut in the middle of a rule
    }
    if i in broken:
        if broken[i] is None:
            text = RULES_YAML + extra
            return text[: len(RULES_YAML) + len(extra) // 2]
        return RULES_YAML + broken[i]
    return RULES_YAML + extra


def reload_events(logs: str) -> list[dict]:
    return [json.loads(line) for line in logs.splitlines()
            if line.startswith("{") and ('"rules_reloaded"' in line or '"rules_reload_failed"' in line)]


async def test_twenty_reloads_while_streaming(kafka_bootstrap, tmp_path):
    rules = write_rules(tmp_path / "rules")
    env = newsmon_env(kafka_bootstrap, tmp_path, NEWSMON_RULES_DIR=str(rules))
    prefix = env["NEWSMON_TOPIC_PREFIX"]
    raw, articles, duplicates, alerts = (f"{prefix}news.{n}" for n in ("raw", "articles", "duplicates", "alerts"))
    corpus = make_corpus(N, seed=33, prefix="r")
    pack = rules / "pack.yaml"

    async def stream() -> None:
        for start in range(0, N, 20):
            await send_many(kafka_bootstrap, raw, corpus.articles[start:start + 20])
            await asyncio.sleep(0.4)

    with running(["worker"], env, tmp_path / "worker") as worker:
        await poll(f"http://127.0.0.1:{env['NEWSMON_HTTP_PORT']}/readyz", lambda s, _: s == 200, timeout=180)
        sender = asyncio.create_task(stream())
        for i in range(EDITS - 1):
            pack.write_text(version(i))  # in place, as most editors do
            await asyncio.sleep(0.6 if i % 3 else 0.2)  # some edits land inside one debounce window
        assert not sender.done() or sender.exception() is None
        before_final = len(reload_events(worker.logs()))
        pack.write_text(FINAL_RULES)  # the 20th edit
        await wait_until(lambda: len(reload_events(worker.logs())) > before_final
                         and reload_events(worker.logs())[-1]["event"] == "rules_reloaded",
                         60, "the final edit reloaded", worker.logs)
        await sender

        probes = [RawArticle(id="probe-final", source="probe",
                             content=f"OSLO (Wire) -- Visitors climbed the {FINAL_PHRASE} on the north cape "
                                     "for the first time since the storm damaged its stairs."),
                  RawArticle(id="probe-removed", source="probe",
                             content=f"BERGEN (Wire) -- The {PHRASE_STORY} was explained to fishermen gathered "
                                     "at the market hall on a rainy Thursday morning.")]
        await send_many(kafka_bootstrap, raw, probes)
        expected = set(corpus.ids) | {p.id for p in probes}

        def done(v) -> bool:
            return expected <= {a["id"] for t in (articles, duplicates) for a in v[t]}

        out = await read_topics(kafka_bootstrap, [articles, duplicates, alerts], until=done, timeout=240, settle=2)
        logs = worker.logs()
        alive = worker.proc.poll() is None

    assert alive, logs[-4000:]
    seen = {a["id"] for t in (articles, duplicates) for a in out[t]}
    assert not expected - seen, f"dropped: {sorted(expected - seen)[:5]}\n{logs[-4000:]}"
    events = reload_events(logs)
    ok = [e for e in events if e["event"] == "rules_reloaded"]
    failed = [e for e in events if e["event"] == "rules_reload_failed"]
    assert ok and failed and all(e["kept"] == "previous ruleset" and e["errors"] for e in failed)
    assert "Traceback" not in logs
    by_article = {}
    for a in out[alerts]:
        by_article.setdefault(a["articles"][-1]["id"], set()).add(a["rule_id"])
    assert by_article.get("probe-final") == {"final-rule"}
    assert "probe-removed" not in by_article  # lantern-protocol is gone in the final rules
    print(f"\n{EDITS} edits: {len(ok)} reloads applied, {len(failed)} refused; {len(expected)} articles processed")
