"""The processing core: one raw article in, one article and its alerts out.

normalize -> tag -> fingerprint (`prepare`, stateless), then dedup ->
stories -> rules (`decide`, stateful). Pure: no Kafka here. The daemon runs
the two halves as two agents; the offline `newsmon scan` calls
`Pipeline.process`, which is exactly the two in a row, so what a rule author
sees offline is what fires in production.

Stories are a stream too: `Result.stories` holds the `StoryRecord`s that
changed with this article (its story's new version, and stories closed by a
TTL sweep run on the way), `expire` returns the stories it closed; the
daemon publishes each on the compacted `news.stories` topic keyed by its id.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from monitor.enrich.dedup import DedupConfig, Deduplicator
from monitor.enrich.normalize import normalize
from monitor.enrich.tag import Tagger
from monitor.models import Alert, Article, PreparedArticle, RawArticle, StoryRecord, utcnow
from monitor.rules.engine import RuleEngine, SilenceMatcher
from monitor.rules.loader import Ruleset, load_ruleset
from monitor.state import StateStores
from monitor.stories import StoryClusterer, StoryConfig

EXPIRE_EVERY = 500  # articles between TTL sweeps of the state stores
# a TTL sweep reads every dedup document and rule state: on the daemon's timer
# (a quiet stream must still close its stories) at most this often
EXPIRE_TICK_EVERY = timedelta(minutes=5)


@dataclass
class Result:
    article: Article
    alerts: list[Alert] = field(default_factory=list)
    # stories that changed: the article's story (new report), then any closed by expiry
    stories: list[StoryRecord] = field(default_factory=list)


def load_rules(rules_dir: Path | str, tagger: Tagger) -> Ruleset:
    """The ruleset, checked against the entities and event types the tagger knows."""
    known_entities = {e.id for e in tagger.watchlist}
    return load_ruleset(rules_dir, known_entities, set(tagger.events.types))


class Pipeline:
    def __init__(
        self, tagger: Tagger, ruleset: Ruleset, stores: StateStores | None = None,
        dedup_config: DedupConfig | None = None, story_config: StoryConfig | None = None,
        *, confirm_closes: bool = False,
    ):
        self.stores = stores or StateStores()
        # the daemon's: a closed story's state is dropped by `stories_published`, once its record is out
        self.confirm_closes = confirm_closes
        self.tagger = tagger
        self.dedup = Deduplicator(self.stores.dedup_exact, self.stores.dedup_docs, dedup_config or DedupConfig())
        self.stories = StoryClusterer.from_stores(self.stores, story_config)
        self.engine = self._engine(ruleset)
        self._since_expiry = 0
        self._last_expiry: datetime | None = None

    @classmethod
    def from_rules_dir(cls, rules_dir: Path | str, stores: StateStores | None = None,
                       dedup_config: DedupConfig | None = None, story_config: StoryConfig | None = None,
                       *, confirm_closes: bool = False) -> Pipeline:
        tagger = Tagger.from_rules_dir(rules_dir)
        return cls(tagger, load_rules(rules_dir, tagger), stores, dedup_config, story_config,
                   confirm_closes=confirm_closes)

    def reload(self, rules_dir: Path | str) -> dict[str, list[str]]:
        """Load watchlists, events and rules afresh and swap them in together.

        Raises (and changes nothing) if anything is invalid, so a broken edit
        keeps the previous ruleset running. Alert state is keyed by rule id,
        so unchanged rules keep their state. Silences (and the count of what
        they muted) belong to the operator, not the ruleset, so they carry
        over. Returns the rule ids added, changed and removed."""
        tagger = Tagger.from_rules_dir(rules_dir)
        ruleset = load_rules(rules_dir, tagger)
        before = self.engine.ruleset.by_id()
        after = ruleset.by_id()
        engine = self._engine(ruleset, self.engine.silences)
        engine.silenced = self.engine.silenced
        self.tagger, self.engine = tagger, engine
        return {
            "added": sorted(after.keys() - before.keys()),
            "removed": sorted(before.keys() - after.keys()),
            "changed": sorted(k for k in after.keys() & before.keys() if after[k] != before[k]),
        }

    def _engine(self, ruleset: Ruleset, silences: SilenceMatcher | None = None) -> RuleEngine:
        engine = RuleEngine(ruleset, self.stores.rules, silences)
        engine.story_group_retention = timedelta(hours=self.stories.config.memory_hours)
        engine.story_is_open = self.stores.stories.__contains__
        return engine

    def reset_indexes(self) -> None:
        """Forget the in-memory indexes derived from the stores (dedup bands,
        story postings, article -> story): call it when the stores changed
        outside this pipeline (the daemon: after each table recovery). They
        are rebuilt from the stores on next use, so decisions stay the same."""
        self.dedup.reset_index()
        self.stories.reset_indexes()

    def rebuild_indexes(self, chunk: int = 5000) -> Iterator[None]:
        """``reset_indexes`` and build them now, ``chunk`` stored entries at a
        time, yielding between slices: the daemon runs it after a table
        recovery on its event loop, which must keep answering heartbeats
        (a million stored articles take tens of seconds)."""
        self.reset_indexes()
        yield from self.dedup.rebuild_steps(chunk)
        yield from self.stories.rebuild_steps(chunk)

    def process(self, raw: RawArticle, now: datetime | None = None) -> Result:
        return self.decide(self.prepare(raw), now)

    def prepare(self, raw: RawArticle) -> PreparedArticle:
        """The stateless half: clean, tag and fingerprint. The daemon runs it
        on every partition of news.raw in parallel."""
        article = self.tagger.tag(normalize(raw))
        return PreparedArticle(article=article, fingerprint=self.dedup.fingerprint(article))

    def decide(self, prepared: PreparedArticle, now: datetime | None = None) -> Result:
        """The stateful half: dedup, stories and rules against everything seen
        before. The daemon runs it where all articles meet (news.prepared)."""
        now = now or utcnow()
        article = self.dedup.process(prepared.article, now, prepared.fingerprint)
        article, story = self.stories.place(article, now)
        alerts = self.engine.evaluate(article, now)
        article = article.model_copy(update={"processed_at": utcnow()})
        stories = [story] if story is not None else []
        self._since_expiry += 1
        if self._since_expiry >= EXPIRE_EVERY:
            stories += self.expire(now)
        return Result(article, alerts, stories)

    def sweep(self, now: datetime) -> list[Alert]:
        """Resolve alerts whose group went quiet, as of `now` (RuleEngine.sweep).
        Processing an article sweeps first, so this is only needed while no
        article arrives: the daemon calls it on a timer. Idempotent."""
        return self.engine.sweep(now)

    def expire_due(self, now: datetime, every: timedelta = EXPIRE_TICK_EVERY) -> list[StoryRecord]:
        """`expire`, unless the last sweep (by article count or by timer) is
        less than `every` ago: the daemon calls it on its timer so a quiet
        stream still closes stories, at a cost bounded in time."""
        if self._last_expiry is not None and now - self._last_expiry < every:
            return []
        return self.expire(now)

    def expire(self, now: datetime) -> list[StoryRecord]:
        """TTL sweep of every store; returns the stories it closed (status
        `closed`), to publish once more on news.stories."""
        self._since_expiry, self._last_expiry = 0, now
        self.dedup.expire(now)
        closed = self.stories.closing(now) if self.confirm_closes else self.stories.expire(now)
        self.engine.expire(now)
        return closed

    def stories_published(self, records: list[StoryRecord]) -> None:
        """The broker acknowledged these story records: drop the state of the
        closed ones (with ``confirm_closes``; else they are gone already)."""
        closed = [r.id for r in records if r.status == "closed"]
        if closed:
            self.stories.drop_closed(closed)
