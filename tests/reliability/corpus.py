"""Synthetic articles and a small rules pack for the fault tests.

Texts are sentences of invented words (seeded, so every run is the same):
two originals share no 4-word shingle worth counting, so dedup flags only the
planted copies. Some articles carry one of two trigger phrases, and some name
the watched (invented) person, so rules fire throughout the stream:

* ``lantern-protocol`` (per story): each carrier is its own story, so each is a
  ``new`` alert with its own id;
* ``harbour-census`` (``group_by: [rule]``): one alert, ``new`` once, then updates;
* ``dorn-mentioned`` (entity rule on the watchlist, per story).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from monitor.models import RawArticle

WATCHED = "Velka Dorn"
PHRASE_STORY = "lantern protocol"
PHRASE_RULE = "harbour census"

RULES_YAML = f"""\
rules:
  - id: lantern-protocol
    title: Lantern protocol mentioned
    severity: medium
    match: {{text: {{phrases: ["{PHRASE_STORY}"]}}}}
  - id: harbour-census
    title: Harbour census coverage
    severity: low
    group_by: [rule]
    match: {{text: {{phrases: ["{PHRASE_RULE}"]}}}}
  - id: dorn-mentioned
    title: Velka Dorn in the news
    severity: high
    match: {{entity: {{any: [person:velka-dorn]}}}}
"""

WATCHLIST_YAML = f"""\
entities:
  - id: person:velka-dorn
    type: person
    name: {WATCHED}
    aliases: [Velka Dornova]
"""

_ONSET = "b br d dr f g gr h k kr l m n p pr r s st t tr v z".split()
_VOWEL = "a e i o u ai ea ou".split()
_CODA = ["", "", "n", "r", "s", "k", "l", "m", "nd", "st"]
CITIES = "GENEVA NAIROBI JAKARTA LIMA OSLO CAIRO WARSAW HANOI SANTIAGO ALMATY".split()


def write_rules(rules_dir: Path, extra_rules: str = "") -> Path:
    (rules_dir / "watchlists").mkdir(parents=True, exist_ok=True)
    (rules_dir / "watchlists" / "people.yaml").write_text(WATCHLIST_YAML)
    (rules_dir / "pack.yaml").write_text(RULES_YAML + extra_rules)
    return rules_dir


@dataclass
class Corpus:
    articles: list[RawArticle] = field(default_factory=list)
    copy_of: dict[str, str] = field(default_factory=dict)  # copy id -> original id
    triggers: dict[str, set[str]] = field(default_factory=dict)  # rule id -> ids of articles that match it

    @property
    def ids(self) -> list[str]:
        return [a.id for a in self.articles]


class Writer:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        words: set[str] = set()
        while len(words) < 3000:
            words.add("".join(self.rng.choice(_ONSET) + self.rng.choice(_VOWEL) + self.rng.choice(_CODA)
                              for _ in range(self.rng.randint(2, 3))))
        self.words = sorted(words)

    def sentence(self) -> str:
        words = self.rng.sample(self.words, self.rng.randint(9, 16))
        return " ".join(words).capitalize() + "."

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(2, 3)))

    def text(self, paragraphs: int, extra: str = "") -> str:
        paras = [self.paragraph() for _ in range(paragraphs)]
        if extra:
            i = self.rng.randrange(len(paras))
            paras[i] = f"{paras[i]} {extra}"
        city = self.rng.choice(CITIES)
        return f"{city} (Wire) -- " + "\n\n".join(paras)


def make_corpus(n: int, seed: int = 9, copy_rate: float = 0.08, prefix: str = "a") -> Corpus:
    """`n` articles in sending order: originals, and after them (never before)
    exact or edited copies of earlier originals, at about `copy_rate`."""
    w = Writer(seed)
    corpus = Corpus(triggers={"lantern-protocol": set(), "harbour-census": set(), "dorn-mentioned": set()})
    originals: list[RawArticle] = []
    for i in range(n):
        art_id = f"{prefix}{i:05d}"
        if originals and w.rng.random() < copy_rate:
            base = w.rng.choice(originals)
            content = base.content
            if w.rng.random() < 0.5:  # an edited copy: cut short, or with a paragraph added
                paras = content.split("\n\n")
                paras = paras[:-1] if len(paras) >= 4 and w.rng.random() < 0.5 else [*paras, w.paragraph()]
                content = "\n\n".join(paras)
            raw = RawArticle(id=art_id, source=f"outlet-{i % 7}", title=base.title, content=content)
            corpus.copy_of[art_id] = base.id
        else:
            roll, extra, rule = w.rng.random(), "", None
            if roll < 0.04:
                extra, rule = f"Officials described the {PHRASE_STORY} in detail.", "lantern-protocol"
            elif roll < 0.08:
                extra, rule = f"The {PHRASE_RULE} resumed on schedule.", "harbour-census"
            elif roll < 0.11:
                extra, rule = f"{WATCHED} attended the meeting.", "dorn-mentioned"
            raw = RawArticle(id=art_id, source=f"outlet-{i % 7}", title=w.sentence()[:-1],
                             content=w.text(w.rng.randint(3, 5), extra))
            originals.append(raw)
            if rule:
                corpus.triggers[rule].add(art_id)
        corpus.articles.append(raw)
    return corpus


def fresh_copy(original: RawArticle, art_id: str) -> RawArticle:
    """A syndicated copy of `original` sent later under another id and source."""
    return RawArticle(id=art_id, source="late-outlet", title=original.title, content=original.content)
