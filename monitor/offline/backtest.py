"""`newsmon rules test`: which rules would fire on which articles, and why.

Two sources, one report:

* files (`--input`): raw articles through `Pipeline.process`, exactly as
  `newsmon scan` runs them, stateful rules included, in the order given;
* history (`--from-topic news.articles`): articles the daemon already
  cleaned, deduplicated and assigned to stories, through `replay_article`.

`replay_article` runs only the stages after dedup, and with the candidate
rules directory's tagger, because a backtest asks "what would these rules
have done with what the daemon saw":

* it re-tags: tagging is a pure function of the cleaned text, so with
  unchanged watchlists the tags are the daemon's own, and with edited
  watchlists or event definitions they are what the candidate would see;
* it keeps the daemon's `story_id`: stories rebuilt from a 24-hour slice
  would start mid-story and get other ids, so alert ids (a hash of rule and
  group key) would no longer match the ones subscribers saw;
* duplicates are not needed: they never fire or count (the engine drops
  them) and their stories are already in `story_id`, which is why the
  backtest reads `news.articles` alone.

Pure: no Kafka here (see monitor/kafka/history.py for the reading).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.enrich.sentences import paragraph_spans, sentence_spans
from monitor.models import Alert, Article, EntityTag
from monitor.pipeline import Pipeline, Result


def replay_article(pipeline: Pipeline, article: Article, now: datetime) -> Result:
    """The stages after dedup for an article the daemon already processed:
    tag with the candidate watchlists, keep (or, if missing, assign) the
    story, evaluate the candidate rules at the article's own time `now`.
    Candidate for `Pipeline.process_article` once pipeline.py settles."""
    article = pipeline.tagger.tag(article)
    if article.story_id is None:
        article = pipeline.stories.assign(article, now)
    return Result(article, pipeline.engine.evaluate(article, now))


@dataclass
class Firing:
    """One emission of one rule: the article that caused it and the alert."""

    input: str
    article: Article
    alert: Alert

    def evidence(self) -> list[dict[str, str]]:
        """Why it fired: each matching event's sentence, else the sentence of
        each matching entity's first mention."""
        if self.alert.events:
            return [{"event": ev.type, "modality": ev.modality, "sentence": ev.evidence.sentence.strip()}
                    for ev in self.alert.events]
        return [{"entity": e.id, "sentence": _first_sentence(self.article, e)} for e in self.alert.entities]

    def evidence_lines(self) -> list[str]:
        return [f'{e["event"]} ({e["modality"]}): "{e["sentence"]}"' if "event" in e else f'{e["entity"]}: "{e["sentence"]}"'
                for e in self.evidence()]

    def to_json(self) -> dict[str, Any]:
        alert = self.alert
        return {
            "input": self.input, "article_id": self.article.id, "article_title": self.article.title,
            "source": self.article.agency or self.article.source, "story_id": self.article.story_id,
            "alert_id": alert.id, "alert_title": alert.title, "action": alert.action,
            "revision": alert.revision, "severity": alert.severity, "group_key": alert.group_key,
            "corroboration": alert.corroboration, "evidence": self.evidence(),
            "entities": [e.id for e in alert.entities],
        }


def _first_sentence(article: Article, entity: EntityTag) -> str:
    if not entity.mentions:
        return article.title or ""
    mention = entity.mentions[0]
    spans = paragraph_spans(article.text, article.paragraphs)
    start, end = spans[mention.paragraph] if mention.paragraph < len(spans) else (0, len(article.text))
    for s, e in sentence_spans(article.text, start, end):
        if s <= mention.start < e:
            return article.text[s:e].strip()
    return article.text[start:end].strip()


@dataclass
class Report:
    """Per rule of the candidate ruleset, in ruleset order: what it fired on."""

    pipeline: Pipeline
    articles: int = 0
    duplicates: int = 0
    firings: dict[str, list[Firing]] = field(default_factory=dict)

    def add(self, input: str, result: Result) -> None:
        self.articles += 1
        self.duplicates += result.article.is_duplicate
        for alert in result.alerts:
            self.firings.setdefault(alert.rule_id, []).append(Firing(input, result.article, alert))

    def rules(self) -> list[tuple[str, str, list[Firing], int]]:
        """(rule id, severity, firings, matches suppressed by exceptions)."""
        engine = self.pipeline.engine
        return [(c.rule.id, c.rule.severity, self.firings.get(c.rule.id, []), engine.suppressed.get(c.rule.id, 0))
                for c in engine.compiled]

    def to_json(self) -> dict[str, Any]:
        return {
            "articles": self.articles, "duplicates": self.duplicates,
            "rules": [
                {"rule_id": rule_id, "severity": severity, "fired": bool(firings),
                 "alerts": len({f.alert.id for f in firings}), "suppressed_by_exceptions": suppressed,
                 "firings": [f.to_json() for f in firings]}
                for rule_id, severity, firings, suppressed in self.rules()
            ],
        }

    def lines(self) -> list[str]:
        out: list[str] = []
        fired = 0
        for rule_id, severity, firings, suppressed in self.rules():
            alerts = len({f.alert.id for f in firings})
            fired += bool(firings)
            status = f"{alerts} alert(s), {len(firings)} emission(s)" if firings else "would not fire"
            extra = f", {suppressed} match(es) suppressed by exceptions" if suppressed else ""
            out.append(f"{rule_id}  [{severity}]  {status}{extra}")
            for f in firings:
                a, article = f.alert, f.article
                out.append(f'  {a.action:<7} rev {a.revision}  [{a.severity}]  alert {a.id}  "{a.title}"')
                title = f' "{article.title}"' if article.title else ""
                out.append(f"      on {f.input}  article {article.id} ({article.agency or article.source}){title}")
                out.extend(f"      {line}" for line in f.evidence_lines())
        dup = f" ({self.duplicates} duplicate(s), which never fire)" if self.duplicates else ""
        out.append(f"{self.articles} article(s){dup}; {fired} of {len(self.pipeline.engine.compiled)} rule(s) would fire")
        return out
