"""Deterministic synthetic inputs for the benchmarks.

* ``make_corpus(n, seed)``: ``n`` plain-text news articles of 2-6 KB in wire
  style (dateline ``GENEVA, March 3 (Wire) --``, news sentence templates over
  invented people/organisations/places plus real country names, outlet
  footers: some are boilerplate the normalizer drops, some survive). Several
  independent articles may cover one story (same cast, different text: they
  must NOT be flagged as copies). About 10% of the docs are edited syndicated
  copies of an earlier doc (another outlet; headline changed; lead kept or
  rewritten; paragraphs dropped, reordered or added; quote style and outlet
  footer changed; a few are copies of copies). A few percent of the stories
  involve watched entities in event sentences ("X crossed into Russia",
  "X delivered artillery shells to Y"). ``Corpus.truth`` says which doc is a
  copy of which original.
* ``entity_universe()`` / ``make_watchlist(n)``: synthetic person and
  organisation ``EntitySpec`` objects with aliases, short forms and the odd
  exclude; watchlist ``n`` is the first ``n`` of a fixed universe of 10,000,
  so a bigger watchlist contains every smaller one. The first 10 are the
  "core" watched entities the event sentences name.
* ``make_rulepack(n, entities)``: a ``RuleFile``-shaped dict of ``n`` rules
  in the real rule language (entity / event / text / compound rules, lists,
  a macro, some exceptions).
* ``write_rules_dir(dir, entities, rulepack)``: the YAML layout
  ``Pipeline.from_rules_dir`` reads.

Everything comes from ``random.Random(seed)``: the same arguments always give
the same corpus.
"""

from __future__ import annotations

import random
import re
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from monitor.enrich.watchlist import EntitySpec
from monitor.models import RawArticle, stable_id

T0 = datetime(2024, 3, 1, 6, 0, tzinfo=UTC)
UNIVERSE_SIZE = 10_000
CORE_WATCHED = 10  # universe[:10]: named in event sentences, in every watchlist

# --------------------------------------------------------------------- vocabulary

FIRST_F = ("Amara Sofia Ingrid Fatima Elena Yuki Leila Hana Mariam Nadia Ines Olga Priya Zainab "
           "Camille Astrid Noor Mei Teresa Ana Lucia Irina Aylin Keiko Rosa Selin Dana Mira Eva "
           "Amina Sara Lina Maya Nora Rina Vera Zora Ada Helga").split()
FIRST_M = ("Jonas Mateo Kwame Ravi Omar Tariq Bastien Corvin Emil Hugo Ivan Kenji Luca Milan "
           "Nikolai Pavel Rafael Samuel Tomas Viktor Yusuf Arjun Diego Farid Goran Hassan Idris "
           "Jamal Karim Lars Marek Nils Oskar Pedro Rustam Stefan Timur Anton Bruno Dmitri").split()
_ONSET = "b br c d dr f g gr h k kr l m n p r s sh st t tr v z zh j y".split() + [""]
_VOWEL = "a e i o u a e o ai ea".split()
_CODA = ["", "", "n", "r", "s", "k", "l", "m", "v", "nd", "sk", "th"]
_SURNAME_END = ("ov ski enko ari ez in ström ssen ashi ić ou ade ani berg uti ero escu ov ak".split()
                + ["", "", ""])
_PLACE_FORMS = ("{} Port_{} New_{} {}grad {}ville {}_Heights {}_Bay Lake_{} {}_Springs "
                "San_{} {}_City {}ia {}stad").split()

REAL_COUNTRIES = ("Russia China Ukraine Japan France Germany Brazil Kenya India Nigeria Egypt Iran "
                  "Poland Mexico Indonesia Vietnam Chile Norway Canada Australia Pakistan Ethiopia "
                  "Argentina Thailand Morocco Peru Kazakhstan Belarus Serbia Turkey").split() + [
                      "South Africa", "North Korea", "South Korea", "Saudi Arabia", "New Zealand"]
REAL_CITIES = ("GENEVA NAIROBI JAKARTA LIMA OSLO CAIRO WARSAW HANOI SANTIAGO ALMATY ISTANBUL "
               "LAGOS MUMBAI TORONTO SYDNEY KARACHI BRUSSELS VIENNA").split() + ["ADDIS ABABA", "BUENOS AIRES"]
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
MONTHS = ("January February March April May June July August September October November "
          "December").split()
MONTH_AP = ("Jan. Feb. March April May June July Aug. Sept. Oct. Nov. Dec.").split()

ORG_SECTORS = ("Grain Maritime Energy Mining Rail Water Health Textile Fisheries Telecom Power "
               "Port Steel Cocoa Cement Aviation Timber Dairy Transport Housing").split()
ORG_KINDS = ("Board Authority Corporation Union Commission Council Agency Group Holdings Alliance "
             "Institute Federation Company Bank Trust").split()
ROLES = [
    "the finance minister", "the interior minister", "the prime minister", "the energy minister",
    "a spokeswoman for the {O}", "a spokesman for the {O}", "the chief executive of the {O}",
    "an analyst at the {O}", "the mayor of {PL}", "the head of the {O}", "a senior official at the {O}",
    "the opposition leader", "a professor of economics at the University of {PL}",
    "the governor of {PL}", "a lawmaker from {PL}", "the chairman of the {O}",
]

# Per-domain vocabulary. Placeholders are filled by _Writer._fill.
DOMAINS: dict[str, dict[str, list[str]]] = {
    "economy": {
        "topic": ["inflation", "the budget deficit", "fuel subsidies", "the currency's slide",
                  "public sector wages", "the central bank's rate decision", "the sovereign debt talks",
                  "food prices", "the pension reform", "the new tax on remittances"],
        "action": ["raise interest rates by {N} basis points", "cut fuel subsidies by a third",
                   "freeze public sector hiring", "seek an emergency loan of {AMT}",
                   "delay the budget vote until {MON}", "cap the price of bread and cooking oil"],
        "incident": ["a run on two regional banks", "a sharp fall in the currency",
                     "a wave of factory closures", "a failed bond auction"],
        "metric": ["consumer prices", "the trade deficit", "unemployment", "industrial output",
                   "ten-year bond yields", "retail sales"],
        "quote": ["We cannot keep borrowing to pay for yesterday's promises.",
                  "Households are already paying the price for these delays.",
                  "The numbers speak for themselves, and they are not good.",
                  "This is a temporary adjustment, not a crisis.",
                  "Investors want to see a credible plan before they come back."],
        "head": ["rate rise", "budget row", "subsidy cuts", "currency slide", "debt talks"],
    },
    "energy": {
        "topic": ["the new pipeline", "power outages", "electricity tariffs", "the offshore gas field",
                  "the coal phase-out", "fuel shortages", "the hydropower dam", "the grid upgrade"],
        "action": ["ration electricity for {N} hours a day", "raise power tariffs by {PCT} percent",
                   "suspend gas exports", "reopen two idle coal plants", "sign a supply deal worth {AMT}",
                   "halt construction of the dam"],
        "incident": ["a fire at the main substation", "a leak on the export pipeline",
                     "a collapse of the transmission network", "a strike by refinery workers"],
        "metric": ["gas output", "electricity demand", "fuel imports", "power cuts", "refinery throughput"],
        "quote": ["The grid was never built for this kind of demand.",
                  "We are doing everything we can to keep the lights on.",
                  "Nobody warned us that the reserves were this low.",
                  "Every hour without power costs the economy millions.",
                  "The contract was signed without any public consultation."],
        "head": ["power cuts", "pipeline deal", "fuel shortage", "tariff hike", "gas field"],
    },
    "elections": {
        "topic": ["the runoff vote", "voter registration", "the electoral commission's count",
                  "the disputed results", "the campaign finance law", "the opposition boycott",
                  "the constitutional referendum", "the early election"],
        "action": ["recount ballots in {N} districts", "postpone the vote by {NUMW} weeks",
                   "ban two opposition parties", "publish results from every polling station",
                   "extend voter registration until {MON}", "invite foreign observers"],
        "incident": ["clashes outside a polling station", "the arrest of a candidate",
                     "a fire at the commission's warehouse", "allegations of ballot stuffing"],
        "metric": ["turnout", "the ruling party's share of the vote", "registered voters",
                   "spoilt ballots", "support for the opposition"],
        "quote": ["The people have spoken and their voice must be respected.",
                  "We will not accept results that were written in advance.",
                  "Every single ballot will be counted in public.",
                  "This election was neither free nor fair.",
                  "Our observers saw serious irregularities in the north."],
        "head": ["vote count", "runoff", "election row", "poll boycott", "ballot dispute"],
    },
    "disaster": {
        "topic": ["the floods", "the landslide", "relief convoys", "the evacuation", "the earthquake",
                  "the cyclone", "the wildfires", "the dam breach"],
        "action": ["evacuate {N} villages", "declare a state of emergency in {PL}",
                   "send {N} army engineers to {PL}", "release {AMT} in emergency aid",
                   "close schools across the province", "open shelters for displaced families"],
        "incident": ["the collapse of a bridge in heavy rain", "a landslide that buried homes",
                     "the river bursting its banks", "strong winds that tore roofs off schools"],
        "metric": ["the death toll", "the number of displaced people", "rainfall", "damage estimates",
                   "river levels"],
        "quote": ["The water came in the night and there was no time to run.",
                  "We have lost everything we built over twenty years.",
                  "Rescue teams are still searching for survivors.",
                  "The warning system failed when people needed it most.",
                  "Roads are cut and helicopters are our only link."],
        "head": ["floods", "landslide", "cyclone", "wildfires", "quake"],
    },
    "health": {
        "topic": ["the cholera outbreak", "the vaccination campaign", "hospital staffing",
                  "the measles outbreak", "drug shortages", "the new health insurance scheme",
                  "the malaria season", "the nurses' strike"],
        "action": ["vaccinate {N} children by {MON}", "open {N} field clinics",
                   "import emergency stocks of antibiotics", "hire {N} nurses",
                   "close markets in {PL}", "raise health spending by {PCT} percent"],
        "incident": ["a spike in cases in the capital", "the death of three health workers",
                     "a shortage of oxygen at the main hospital", "contaminated water in two districts"],
        "metric": ["new infections", "hospital admissions", "vaccination coverage", "waiting times",
                   "the number of confirmed cases"],
        "quote": ["Our staff have not been paid for three months.",
                  "The outbreak is under control but we cannot relax.",
                  "Clean water is the only lasting answer to this disease.",
                  "We are turning patients away every day.",
                  "The vaccines arrived late and in smaller numbers than promised."],
        "head": ["outbreak", "vaccine drive", "hospital strike", "drug shortage", "clinic closures"],
    },
    "trade": {
        "topic": ["grain exports", "the tariff dispute", "port congestion", "the customs union",
                  "the export ban", "the free trade agreement", "steel quotas", "shipping insurance"],
        "action": ["lift the export ban on maize", "impose tariffs of {PCT} percent on imports",
                   "reopen the northern border crossing", "sign the trade agreement in {MON}",
                   "cut port fees for {NUMW} months", "file a complaint with the trade body"],
        "incident": ["a backlog of ships outside the harbour", "the seizure of a cargo vessel",
                     "a sudden halt in customs clearance", "a strike by dock workers"],
        "metric": ["exports", "the trade surplus", "container traffic", "grain shipments", "import volumes"],
        "quote": ["Our farmers cannot wait another season for this deal.",
                  "These tariffs will hurt consumers on both sides.",
                  "The ships are waiting and the grain is rotting.",
                  "We were never consulted on the new rules.",
                  "Trade is the best guarantee of good relations."],
        "head": ["export ban", "tariff row", "trade deal", "port backlog", "grain deal"],
    },
    "security": {
        "topic": ["the border clashes", "the ceasefire", "the militia attacks", "the kidnappings",
                  "the peace talks", "the curfew", "the security operation", "the arms embargo"],
        "action": ["extend the curfew in {PL}", "deploy {N} police officers to the border",
                   "release {N} detainees", "open talks with the rebel leadership",
                   "close the main highway at night", "offer an amnesty to fighters who surrender"],
        "incident": ["an attack by gunmen on a police post", "a roadside bomb attack on a convoy",
                     "a raid by armed men on a village", "a drone strike on a fuel depot"],
        "metric": ["attacks", "casualties", "displacement", "arrests", "checkpoint incidents"],
        "quote": ["We will not negotiate with people who kill civilians.",
                  "The ceasefire is holding for now, but it is fragile.",
                  "Villagers are too afraid to go to their fields.",
                  "Our forces acted in self-defence.",
                  "There can be no military solution to this conflict."],
        "head": ["border clashes", "ceasefire", "militia attack", "peace talks", "curfew"],
    },
    "courts": {
        "topic": ["the corruption trial", "the appeal", "the supreme court ruling", "the extradition case",
                  "the land dispute", "the defamation suit", "the judicial reform", "the fraud inquiry"],
        "action": ["adjourn the trial until {MON}", "freeze assets worth {AMT}",
                   "summon {N} witnesses", "hear the appeal in full", "lift the travel ban",
                   "refer the case to the constitutional court"],
        "incident": ["the withdrawal of a key witness", "a protest outside the court",
                     "the loss of documents from the registry", "the judge's decision to step aside"],
        "metric": ["case backlogs", "pre-trial detentions", "convictions", "court fees", "appeals"],
        "quote": ["My client has done nothing wrong and will be cleared.",
                  "No one is above the law, however powerful.",
                  "The evidence was obtained illegally and must be thrown out.",
                  "This ruling sets a dangerous precedent.",
                  "Justice delayed is justice denied."],
        "head": ["graft trial", "court ruling", "appeal", "fraud probe", "extradition"],
    },
    "transport": {
        "topic": ["the rail strike", "the airport expansion", "the bridge collapse", "bus fares",
                  "the new metro line", "fuel rationing for trucks", "the highway toll", "air traffic delays"],
        "action": ["raise bus fares by {PCT} percent", "suspend flights to {PL}",
                   "close the bridge for {NUMW} months", "hire {N} new drivers",
                   "open the metro line in {MON}", "scrap the highway toll"],
        "incident": ["the derailment of a train near {PL}", "a bus crash in a ravine",
                     "the discovery of a crack in the bridge deck", "a walkout by air traffic controllers"],
        "metric": ["passenger numbers", "freight volumes", "delays", "ticket sales", "road deaths"],
        "quote": ["Commuters deserve a service that actually runs on time.",
                  "The bridge was declared safe only last year.",
                  "We will strike until our demands are met.",
                  "The project is on budget and on schedule.",
                  "Safety must come before profits."],
        "head": ["rail strike", "bridge closure", "fare rise", "airport plan", "metro delay"],
    },
    "agriculture": {
        "topic": ["the drought", "fertiliser prices", "the locust outbreak", "the harvest",
                  "irrigation quotas", "the cattle disease", "land reform", "seed subsidies"],
        "action": ["distribute seed to {N} farmers", "ban cattle movements in {PL}",
                   "cut fertiliser prices by {PCT} percent", "import {N} tonnes of maize",
                   "declare the drought a national disaster", "buy the harvest at a fixed price"],
        "incident": ["the arrival of locust swarms in the valley", "wells running dry in {N} villages",
                     "a fungus that destroyed much of the crop", "floods that washed away irrigation canals"],
        "metric": ["maize yields", "wheat prices", "cattle deaths", "rainfall", "crop losses"],
        "quote": ["We planted twice and lost both crops.",
                  "Without rain in the next two weeks the harvest is gone.",
                  "Fertiliser now costs more than the crop is worth.",
                  "The locusts ate everything in a single afternoon.",
                  "Farmers need help now, not promises for next year."],
        "head": ["drought", "harvest", "locust swarm", "fertiliser costs", "crop losses"],
    },
}

LEADS = [
    "{PR} said on {DAY} that the government would {ACTION}, a move critics said came too late to ease {TOPIC}.",
    "At least {N} people were {AFFECTED} in {PL} after {INCIDENT}, officials said on {DAY}.",
    "The {O} said on {DAY} it would {ACTION}, as pressure mounted over {TOPIC} in {PL}.",
    "Talks on {TOPIC} between the {O} and the {O2} broke down on {DAY}, {PR} said.",
    "{PR} warned on {DAY} that {TOPIC} would worsen unless the authorities moved to {ACTION}.",
    "{COUNTRY}'s government announced {AMT} in support for {PL} on {DAY} as {TOPIC} dominated the agenda.",
    "Authorities in {PL} moved on {DAY} to {ACTION}, after {INCIDENT} raised fresh concerns over {TOPIC}.",
    "{METRIC_CAP} rose {PCT} percent in {MON}, the {O} said on {DAY}, adding to concerns over {TOPIC}.",
]
BODY = [
    "{PR} said the decision to {ACTION} had been taken after weeks of consultation.",
    "Officials in {PL} said {N} people had been {AFFECTED} since {DAY}.",
    "The {O} said in a statement that it was monitoring {TOPIC} closely and would {ACTION} if needed.",
    ("According to figures published by the {O}, {METRIC} rose {PCT} percent in {MON}, "
    "the largest increase since {YEAR}."),
    "{COUNTRY} and {COUNTRY2} have been at odds over {TOPIC} for {NUMW} years.",
    "Analysts at the {O} said {TOPIC} could cost the economy as much as {AMT} this year.",
    "The announcement came {TIMEREL} after {PN} met representatives of the {O} in {CITY}.",
    "{PS} did not respond to a request for comment on {DAY}.",
    "Residents of {PL} said they had received little information about {TOPIC}.",
    "The government of {COUNTRY} has promised {AMT} to help {PL} cope with {TOPIC}.",
    "{METRIC_CAP} fell by {PCT} percent over the same period, the {O} said.",
    "Critics say the plan to {ACTION} does little to address the causes of {TOPIC}.",
    "In {YEAR}, a similar dispute over {TOPIC} led to {NUMW} weeks of protests in {PL}.",
    "{PS} is due to brief lawmakers on {TOPIC} on {DAY}.",
    "The {O} has called for an independent inquiry into {INCIDENT}.",
    "Some {N} workers at the {O} walked off the job on {DAY}, demanding a response to {TOPIC}.",
    "{PN}, who took office in {YEAR}, has made {TOPIC} a priority of the {O}.",
    "Opposition lawmakers accused the {O} of mishandling {TOPIC} and demanded that it {ACTION}.",
    "A report by the {O} published in {MON} found that {METRIC} had been underestimated for years.",
    "Local media gave details of {INCIDENT} on {DAY}, though the figures could not be independently verified.",
    "{PS} said the {O} would {ACTION} before the end of {MON}.",
    "The {O2} said it had offered technical help but had not yet received a formal request.",
    "Markets in {CITY} were little changed on {DAY}, with traders waiting for details on {TOPIC}.",
    "Diplomats from {COUNTRY} and {COUNTRY2} are expected to discuss {TOPIC} at a meeting in {CITY} in {MON}.",
    "The {O} estimated that {N} households in {PL} were directly affected by {TOPIC}.",
    "It was not immediately clear whether the {O2} would support the move.",
    "Earlier this year, {PN} said the {O} had set aside {AMT} for {TOPIC}.",
    "The last time the authorities tried to {ACTION}, in {YEAR}, the plan was abandoned within {NUMW} months.",
]
QUOTE_FORMS = [
    '"{QUOTEC}" {PS} said.',
    '"{QUOTEC}" said {PR}.',
    '"{QUOTEC}" {PN} told reporters in {CITY}.',
    '"{QUOTE} {QUOTEC}" {PS} said in a statement.',
    '{PR} said: "{QUOTE}"',
]
HEADLINES = [
    "{PL} reels from {HEAD} as {O} warns of worse to come",
    "{COUNTRY}: {HEAD} deepens, {PN} under pressure",
    "{O} moves to {ACTION}",
    "{HEAD_CAP} in {PL} leaves {N} {AFFECTED}",
    "{PN} defends handling of {HEAD}",
    "Talks stall over {HEAD} in {PL}",
    "{HEAD_CAP}: what we know so far",
    "{O} under fire over {HEAD}",
]
AFFECTED = ["displaced", "injured", "evacuated", "affected", "left homeless", "stranded"]
TIMEREL = ["two days", "hours", "a week", "shortly", "days", "less than a day"]

# Event sentences naming the core watched entities (WP/WP2 person, WO org) and
# real countries (RC/RC2). Modalities vary so rules see asserted and not.
EVENT_SENTENCES = [
    "{WP} crossed into {RC} by train on {DAY}, officials in {CITY} said.",
    "{WP} arrived in {RC} on {DAY} for talks on {TOPIC}, state media reported.",
    "{WP} is expected to cross into {RC} next week, according to the {O}.",
    "{RC} delivered artillery shells to {RC2} last month, the {O} said.",
    "The {WO} delivered {N} drones to {RC} in {MON}, according to documents seen by the {O}.",
    "Analysts said {RC} may supply ammunition to {RC2} in exchange for fuel.",
    "{RC} denied that it had sent weapons to {RC2}.",
    "{WP} held talks with {WP2} in {CITY} on {DAY}.",
    "{WP} and {WP2} met in {CITY} on {DAY} to discuss {TOPIC}.",
    "{RC} imposed new sanctions on the {WO} on {DAY}.",
    "{RC} deployed troops to the border with {RC2}, the {O} said.",
    "{RC} launched two ballistic missiles into the sea on {DAY}, the {O} said.",
    "The {WO} staged joint drills with {RC} near {PL} on {DAY}.",
]

OUTLETS = [
    # name, agency in dateline, domain, footer kind, quote style, byline, hard-wrapped
    ("Wire", "Wire", "wire.example.com", "credits", "straight", False, False),
    ("Meridian Press", "MPN", "meridianpress.example", "disclaimer", "curly", True, False),
    ("Northern Ledger", "Ledger", "northernledger.example", "about", "curly", True, False),
    ("Coastal Times", "Coastal Times", "coastaltimes.example", "copyright", "straight", True, False),
    ("Harbor Daily", "HD", "harbordaily.example", "follow", "curly", False, False),
    ("Daily Sentinel", "Sentinel", "dailysentinel.example", "end", "straight", False, False),
    ("Valley Courier", "Courier", "valleycourier.example", "updated", "straight", True, True),
    ("Eastern Post", "EP", "easternpost.example", "none", "curly", False, False),
]


# --------------------------------------------------------------------- names


class _Namer:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def _syl(self) -> str:
        r = self.rng
        return r.choice(_ONSET) + r.choice(_VOWEL) + r.choice(_CODA)

    def word(self, n_syl: int) -> str:
        w = "".join(self._syl() for _ in range(n_syl))
        return w[:1].upper() + w[1:]

    def surname(self) -> str:
        while len(s := self.word(self.rng.choice((1, 2, 2))) + self.rng.choice(_SURNAME_END)) < 2:
            pass
        return s

    def person(self) -> tuple[str, str, str]:
        """(first, last, honorific)."""
        if self.rng.random() < 0.5:
            return self.rng.choice(FIRST_F), self.surname(), "Ms"
        return self.rng.choice(FIRST_M), self.surname(), "Mr"

    def place(self) -> str:
        return self.rng.choice(_PLACE_FORMS).format(self.word(self.rng.choice((1, 2)))).replace("_", " ")

    def org(self, places: list[str]) -> str:
        r, kind = self.rng, self.rng.choice(ORG_KINDS)
        form = r.random()
        if form < 0.4:
            return f"{r.choice(places)} {r.choice(ORG_SECTORS)} {kind}"
        if form < 0.6:
            return f"{self.surname()} {r.choice(('Holdings', 'Group', 'Industries', 'Partners'))}"
        if form < 0.8:
            return f"National {r.choice(ORG_SECTORS)} {kind} of {r.choice(places)}"
        return f"{r.choice(ORG_SECTORS)} Workers' {r.choice(('Union', 'Federation', 'Alliance'))} of {r.choice(places)}"


def _slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-") or "x"


def _acronym(name: str) -> str | None:
    letters = "".join(w[0] for w in name.replace("'", "").split() if w[:1].isupper())
    return letters if 3 <= len(letters) <= 5 else None


def _translit(last: str) -> str:
    out = last.replace("v", "w").replace("k", "c").replace("y", "i").replace("ou", "u")
    return out if out != last else last + "e"


@lru_cache(maxsize=2)
def _places(seed: int) -> tuple[str, ...]:
    namer = _Namer(random.Random(seed * 31 + 1))
    return tuple(p for p in dict.fromkeys(namer.place() for _ in range(400)) if len(p) >= 4)


@lru_cache(maxsize=2)
def entity_universe(seed: int = 7) -> tuple[EntitySpec, ...]:
    """10,000 synthetic watched entities (70% people, 30% organisations);
    the first 10 are 6 people and 4 organisations."""
    rng = random.Random(seed)
    namer = _Namer(rng)
    places = list(_places(seed))
    names: set[str] = set()
    out: list[EntitySpec] = []
    i = 0
    while len(out) < UNIVERSE_SIZE:
        is_person = (i % 10 < 6) if i < CORE_WATCHED else rng.random() < 0.7
        i += 1
        if is_person:
            first, last, hon = namer.person()
            name = f"{first} {last}"
            if name in names:
                continue
            aliases: list[str] = []
            r = rng.random()
            if r < 0.5:
                aliases.append(f"{first} {rng.choice('ABCDEFGHJKLMNPRST')}. {last}")
            if rng.random() < 0.3:
                aliases.append(f"{first} {_translit(last)}")
            if rng.random() < 0.15:
                aliases.append(f"{last} {first}")
            exclude = [f"{rng.choice(FIRST_F + FIRST_M)} {last}"] if rng.random() < 0.05 else []
            exclude = [e for e in exclude if e != name]
            spec = EntitySpec(id=f"person:{_slug(name)}", type="person", name=name, aliases=aliases,
                              requires_context=[last, f"{hon} {last}"], exclude=exclude,
                              tags=["watched"] if len(out) < CORE_WATCHED else [])
        else:
            name = namer.org(places)
            if name in names:
                continue
            acr = _acronym(name)
            aliases = [acr] if acr and rng.random() < 0.6 else []
            if name.startswith("National ") and rng.random() < 0.5:
                aliases.append(name.removeprefix("National ").split(" of ")[0] + " of " + name.split(" of ")[-1])
            spec = EntitySpec(id=f"org:{_slug(name)}", type="organization", name=name,
                              aliases=list(dict.fromkeys(a for a in aliases if a != name)),
                              tags=["watched"] if len(out) < CORE_WATCHED else [])
        if spec.id in {e.id for e in out[-50:]}:
            continue
        names.add(name)
        out.append(spec)
    ids = [e.id for e in out]
    if len(set(ids)) != len(ids):  # slug collisions: make ids unique by position
        out = [e.model_copy(update={"id": f"{e.id}-{k}"}) for k, e in enumerate(out)]
    return tuple(out)


def make_watchlist(n: int, seed: int = 7) -> list[EntitySpec]:
    """The first ``n`` entities of the universe (n <= 10,000)."""
    if n > UNIVERSE_SIZE:
        raise ValueError(f"at most {UNIVERSE_SIZE} entities")
    return list(entity_universe(seed)[:n])


# --------------------------------------------------------------------- corpus


@dataclass
class _Person:
    first: str
    last: str
    hon: str
    role: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass
class _Story:
    idx: int
    domain: str
    people: list[_Person]
    orgs: list[str]
    places: list[str]
    countries: list[str]
    city: str
    start: datetime
    watched: bool
    background: str = ""


@dataclass
class _Doc:
    """One article before rendering: paragraphs with straight quotes, no dateline."""

    story: _Story
    outlet: int
    title: str
    paras: list[str]
    published: datetime
    kind: str = "original"  # original | copy
    edit: str | None = None  # verbatim | light | medium | heavy (copies)
    base: _Doc | None = None
    root: _Doc | None = None
    id: str = ""


@dataclass
class DocTruth:
    id: str
    story: int
    copy_of: str | None  # root original id, for copies
    base: str | None  # the doc it was edited from (a copy, for copies of copies)
    edit: str | None
    watched: bool
    outlet: str


@dataclass
class Corpus:
    docs: list[RawArticle]
    truth: dict[str, DocTruth] = field(default_factory=dict)

    @property
    def copies(self) -> dict[str, str]:
        """copy id -> original id."""
        return {i: t.copy_of for i, t in self.truth.items() if t.copy_of}

    def stats(self) -> dict[str, Any]:
        sizes = sorted(len(d.content.encode()) for d in self.docs)
        edits: dict[str, int] = {}
        for t in self.truth.values():
            if t.edit:
                edits[t.edit] = edits.get(t.edit, 0) + 1
        return {
            "docs": len(self.docs), "copies": len(self.copies), "copy_edits": edits,
            "copies_of_copies": sum(1 for t in self.truth.values() if t.copy_of and t.base != t.copy_of),
            "watched_docs": sum(1 for t in self.truth.values() if t.watched),
            "stories": len({t.story for t in self.truth.values()}),
            "bytes_median": sizes[len(sizes) // 2] if sizes else 0,
            "bytes_min": sizes[0] if sizes else 0, "bytes_max": sizes[-1] if sizes else 0,
        }


_SLOT = re.compile(r"\{(\w+)\}")


class _Writer:
    def __init__(self, rng: random.Random, seed: int) -> None:
        self.rng = rng
        self.namer = _Namer(rng)
        self.places = list(_places(7))
        universe = entity_universe(7)
        self.core_people = [e for e in universe[:CORE_WATCHED] if e.type == "person"]
        self.core_orgs = [e for e in universe[:CORE_WATCHED] if e.type == "organization"]
        # half of the people/orgs in the news are in the 10,000 universe, half are not
        self.universe_people = [e for e in universe[CORE_WATCHED:] if e.type == "person"]
        self.universe_orgs = [e for e in universe[CORE_WATCHED:] if e.type == "organization"]

    # -- cast

    def _person(self) -> _Person:
        r = self.rng
        if r.random() < 0.5:
            e = r.choice(self.universe_people)
            first, last = e.name.split(" ", 1)
            hon = "Ms" if first in FIRST_F else "Mr"
        else:
            first, last, hon = self.namer.person()
        return _Person(first, last, hon, r.choice(ROLES))

    def _org(self) -> str:
        if self.rng.random() < 0.5:
            return self.rng.choice(self.universe_orgs).name
        return self.namer.org(self.places)

    def story(self, idx: int, start: datetime, watched: bool) -> _Story:
        r = self.rng
        city = r.choice(REAL_CITIES) if r.random() < 0.4 else r.choice(self.places).upper()
        st = _Story(idx, r.choice(list(DOMAINS)), [self._person() for _ in range(r.randint(2, 4))],
                    [self._org() for _ in range(r.randint(2, 3))], r.sample(self.places, 3),
                    r.sample(REAL_COUNTRIES, 2), city, start, watched)
        st.background = self.paragraph(st, 2, background=True)
        return st

    # -- text

    def _fill(self, template: str, st: _Story, local: dict[str, str] | None = None,
              top: bool = False) -> str:
        """Fill ``{SLOT}``s; ``top``: a whole sentence (capitalised, punctuation tidied)."""
        r = self.rng
        dom = DOMAINS[st.domain]
        local = {} if local is None else local

        def one(m: re.Match[str]) -> str:
            key = m.group(1)
            if key in local:
                return local[key]
            if key in ("PR", "PN", "PS"):
                p = r.choice(st.people)
                if key == "PN":
                    return p.name
                if key == "PS":
                    return f"{p.hon} {p.last}" if r.random() < 0.7 else p.name
                return f"{p.name}, {self._fill(p.role, st)},"
            if key in ("O", "O2"):
                return r.choice(st.orgs)
            if key == "PL":
                return r.choice(st.places)
            if key in ("COUNTRY", "COUNTRY2", "RC", "RC2"):
                pool = st.countries if key.startswith("C") else REAL_COUNTRIES
                val = r.choice(pool)
                other = local.get("RC" if key == "RC2" else "COUNTRY" if key == "COUNTRY2" else "")
                while other == val:
                    val = r.choice(REAL_COUNTRIES)
                local[key] = val
                return val
            if key == "CITY":
                return st.city.title() if r.random() < 0.7 else r.choice(st.places)
            if key in {"WP", "WP2"}:
                val = r.choice(self.core_people).name
                while key == "WP2" and val == local.get("WP"):
                    val = r.choice(self.core_people).name
                local[key] = val
                return val
            if key == "WO":
                return r.choice(self.core_orgs).name
            if key == "N":
                return str(r.choice((r.randint(2, 40), r.randint(40, 900), r.randint(1000, 25000))))
            if key == "NUMW":
                return r.choice(("two", "three", "four", "five", "six", "eight", "ten"))
            if key == "PCT":
                return f"{r.randint(1, 40)}.{r.randint(0, 9)}"
            if key == "AMT":
                unit = r.choice(("million", "billion"))
                cur = r.choice(("${} {}", "{} {} euros", "{} {} dollars"))
                return cur.format(f"{r.randint(1, 900) / 10:g}", unit)
            if key == "DAY":
                return r.choice(WEEKDAYS)
            if key == "MON":
                return r.choice(MONTHS)
            if key == "YEAR":
                return str(r.randint(1998, 2022))
            if key == "TIMEREL":
                return r.choice(TIMEREL)
            if key == "AFFECTED":
                return r.choice(AFFECTED)
            if key in ("QUOTE", "QUOTEC"):
                q = r.choice([q for q in dom["quote"] if q != local.get("QUOTE")])
                local.setdefault("QUOTE", q)
                return q[:-1] + "," if key == "QUOTEC" and q.endswith(".") else q
            if key in ("TOPIC", "ACTION", "INCIDENT", "METRIC", "HEAD"):
                return self._fill(r.choice(dom[key.lower()]), st, local)
            if key in ("METRIC_CAP", "HEAD_CAP"):
                s = self._fill(r.choice(dom[key[:-4].lower()]), st, local)
                return s[:1].upper() + s[1:]
            raise KeyError(key)

        s = _SLOT.sub(one, template)
        if not top:
            return s
        s = s.replace(",.", ".").replace(",,", ",").replace(", said:", " said:").replace(',"', ',"')
        return s[:1].upper() + s[1:]

    def sentence(self, st: _Story) -> str:
        return self._fill(self.rng.choice(BODY), st, top=True)

    def paragraph(self, st: _Story, n: int | None = None, background: bool = False) -> str:
        r = self.rng
        if not background and r.random() < 0.25:
            s = self._fill(r.choice(QUOTE_FORMS), st, top=True)
            return s + (" " + self.sentence(st) if r.random() < 0.4 else "")
        n = n or r.choice((1, 2, 2, 3))
        return " ".join(self.sentence(st) for _ in range(n))

    def lead(self, st: _Story) -> str:
        s = self._fill(self.rng.choice(LEADS), st, top=True)
        return s + (" " + self.sentence(st) if self.rng.random() < 0.4 else "")

    def event_para(self, st: _Story) -> str:
        s = self._fill(self.rng.choice(EVENT_SENTENCES), st, top=True)
        return s + (" " + self.sentence(st) if self.rng.random() < 0.5 else "")

    def headline(self, st: _Story) -> str:
        return self._fill(self.rng.choice(HEADLINES), st, top=True)

    def original(self, st: _Story, outlet: int, published: datetime) -> _Doc:
        r = self.rng
        target = r.randint(2000, 5600)
        paras = [self.lead(st)]
        size = len(paras[0])
        while size < target:
            p = self.paragraph(st)
            paras.append(p)
            size += len(p) + 2
        if st.watched:
            for _ in range(r.randint(1, 2)):
                paras.insert(r.randint(0, min(3, len(paras))), self.event_para(st))
        if r.random() < 0.5:
            paras.insert(max(1, len(paras) - r.randint(1, 3)), st.background)
        return _Doc(st, outlet, self.headline(st), paras, published)

    def copy(self, base: _Doc, published: datetime, edit: str) -> _Doc:
        """An edited republication of ``base`` by another outlet."""
        r, st = self.rng, base.story
        outlet = r.choice([i for i in range(len(OUTLETS)) if i != base.outlet])
        title = base.title if edit == "verbatim" or r.random() < 0.1 else self.headline(st)
        paras = list(base.paras)
        if edit == "light":
            paras = [_invert_attribution(p) if r.random() < 0.3 else p for p in paras]
        elif edit == "medium":
            lead, body = paras[0], [p for p in paras[1:] if r.random() >= 0.15]
            if len(body) > 2 and r.random() < 0.6:
                k = r.randrange(len(body) - 1)
                body[k], body[k + 1] = body[k + 1], body[k]
            if r.random() < 0.5:
                body.insert(r.randint(0, len(body)), self.paragraph(st))
            paras = [lead, *body]
        elif edit == "heavy":
            # lead rewritten (or kept), first 2-4 paragraphs verbatim, rest cut or rewritten
            keep = r.randint(2, 4)
            lead = self.lead(st) if r.random() < 0.6 else paras[0]
            kept = paras[1:1 + keep]
            rest = [p for p in paras[1 + keep:] if r.random() < 0.3]
            new = [self.paragraph(st) for _ in range(r.randint(1, 4))]
            paras = [lead, *kept, *new, *rest]
        return _Doc(st, outlet, title, paras, published, "copy", edit, base, base.root or base)

    # -- rendering

    def render(self, d: _Doc) -> RawArticle:
        r = self.rng
        name, agency, domain, footer, quotes, byline, wrapped = OUTLETS[d.outlet]
        st = d.story
        month = MONTH_AP[d.published.month - 1] if quotes == "straight" else MONTHS[d.published.month - 1]
        dateline = f"{st.city}, {month} {d.published.day} ({agency}) -- "
        paras = [dateline + d.paras[0], *d.paras[1:]]
        if quotes == "curly":
            paras = [_curly(p) for p in paras]
        footer_paras = _footer(footer, name, d, r)
        head: list[str] = []
        if byline:
            p = r.choice(st.people)
            head.append(f"By {self.namer.person()[0]} {p.last if r.random() < 0.2 else self.namer.surname()}")
        if wrapped:
            paras = [textwrap.fill(p, 72, break_long_words=False, break_on_hyphens=False) for p in paras]
        content = "\n\n".join([*head, *paras, *footer_paras])
        slug = _slug(d.title)[:60]
        url = f"https://{domain}/{d.published:%Y/%m/%d}/{slug}-{d.id[:8]}"
        guid = url if d.outlet % 2 == 0 else None  # half the feeds give a guid (the link)
        return RawArticle(id=d.id, source=name, source_kind="feed", url=url, guid=guid, title=d.title,
                          content=content, content_type="text", published=d.published,
                          ingested_at=d.published)


def _curly(p: str) -> str:
    out, open_ = [], True
    for ch in p:
        if ch == '"':
            out.append("\u201c" if open_ else "\u201d")
            open_ = not open_
        elif ch == "'":
            out.append("\u2019")
        else:
            out.append(ch)
    return "".join(out)


_ATTRIB = re.compile(r'^"([^"]+)" (?:said ([^.,"]+)|([^.,"]+?) said)\.')


def _invert_attribution(p: str) -> str:
    """'"Q" said X.' <-> '"Q" X said.' (a house-style edit)."""
    m = _ATTRIB.match(p)
    if not m:
        return p
    who = m.group(2) or m.group(3)
    new = f'"{m.group(1)}" {who} said.' if m.group(2) else f'"{m.group(1)}" said {who}.'
    return new + p[m.end():]


def _footer(kind: str, name: str, d: _Doc, r: random.Random) -> list[str]:
    if kind == "credits":
        return [f"(Reporting by {r.choice(FIRST_M)} {d.story.people[0].last}; Editing by {r.choice(FIRST_F)} Moran)"]
    if kind == "disclaimer":
        return ["Legal Disclaimer:", (f"{name} provides the information \u201cas is\u201d without warranty of any "
                "kind. We do not accept any responsibility or liability for the accuracy, content, images, "
                "videos, licenses, completeness, legality, or reliability of the information contained in "
                "this article. If you have any complaints or copyright issues related to this article, "
                "kindly contact the provider above.")]
    if kind == "about":
        return [(f"About the {name}: The {name} is an independent newspaper covering politics, business and "
                "society across the region since 1987. Our reporters work from twelve bureaus and follow "
                "a published code of ethics.")]
    if kind == "copyright":
        return [f"\u00a9 {d.published.year} {name}. All rights reserved."]
    if kind == "follow":
        return ["Follow us on X and Telegram for more news."]
    if kind == "end":
        return ["(end)"]
    if kind == "updated":
        return [(f"This story was updated on {MONTHS[d.published.month - 1]} {d.published.day} to add "
                f"comments from the {r.choice(d.story.orgs)}.")]
    return []


def make_corpus(n: int, seed: int = 1, copy_rate: float = 0.10, watched_rate: float = 0.04,
                per_day: int = 1000) -> Corpus:
    """``n`` raw articles in publication order (see module doc). Ids are
    16-hex ``stable_id``s like the watchers'; every copy comes after its original."""
    rng = random.Random(seed)
    w = _Writer(rng, seed)
    n_copies = round(n * copy_rate)
    n_orig = n - n_copies
    span = timedelta(days=max(1.0, n / per_day))
    originals: list[_Doc] = []
    k = 0
    while len(originals) < n_orig:
        start = T0 + span * rng.random()
        st = w.story(k, start, rng.random() < watched_rate)
        k += 1
        for _ in range(min(rng.choice((1, 1, 1, 2, 2, 3)), n_orig - len(originals))):
            published = start + timedelta(minutes=rng.randint(0, 36 * 60))
            originals.append(w.original(st, rng.randrange(len(OUTLETS)), published))
    copies: list[_Doc] = []
    for _ in range(n_copies):
        if copies and rng.random() < 0.1:
            base = rng.choice(copies)  # a copy of a copy
        else:
            base = rng.choice(originals)
        edit = rng.choices(("verbatim", "light", "medium", "heavy"), (0.1, 0.35, 0.3, 0.25))[0]
        published = base.published + timedelta(minutes=rng.randint(5, 18 * 60))
        copies.append(w.copy(base, published, edit))
    docs = sorted(originals + copies, key=lambda d: d.published)
    for i, d in enumerate(docs):
        d.id = stable_id("bench", str(seed), str(i))  # 16 hex, like the watchers' ids
    corpus = Corpus([w.render(d) for d in docs])
    for d in docs:
        corpus.truth[d.id] = DocTruth(
            d.id, d.story.idx, d.root.id if d.root else None, d.base.id if d.base else None,
            d.edit, d.story.watched, OUTLETS[d.outlet][0])
    return corpus


# --------------------------------------------------------------------- rules

# Rule phrases: specific phrases from the corpus vocabulary (each in a few
# percent of articles) and phrases the corpus never uses (most watch rules
# wait for something rare). Same for regexes.
PHRASES_CORPUS = sorted({t for dom in DOMAINS.values() for t in dom["action"] + dom["incident"]
                         if "{" not in t})
PHRASES_RARE = ("nuclear test|coup attempt|chemical weapons|cyberattack|hostage crisis|"
                "assassination attempt|martial law|naval blockade|mass grave|dirty bomb|"
                "uranium enrichment|no-fly zone|state of siege|mutiny|border closure|"
                "airspace violation|ransomware|hijacked|prison break|general strike").split("|")
REGEXES = [
    r"\bstate of emergency in [A-Z]\w+", r"\b(?:coup|junta)\b", r"\bsanctions? (?:on|against) [A-Z]\w+",
    r"\b(?:ballistic|cruise) missiles?\b", r"\b(?:crossed|cross) into\b", r"\bdrones?\b",
    r"\b(?:nuclear|radiological)\b", r"\bhostages?\b", r"\bin the (?:19[5-9]0|19[6-9]\d)s\b",
    r"\b\d{4,} (?:people|workers) (?:were|had been) (?:killed|displaced)\b",
]
EVENT_TYPES = ["border_crossing", "arms_transfer", "summit", "sanctions", "military_exercise",
               "missile_launch", "troop_movement"]
MODALITIES = ["asserted", "planned", "speculative", "denied", "conditional"]
HISTORICAL = {"name": "historical-background", "reason": "background about decades ago",
              "match": {"text": {"regex": [r"\bin the (19[5-9]0|19[6-9]\d)s\b"]}}}


def _invented(rng: random.Random, words: int = 2) -> str:
    """A phrase the corpus never uses (made-up consonant words)."""
    return " ".join("".join(rng.choices("bcdfghjklmnpqrstvwxz", k=7)) for _ in range(words))


def make_rulepack(n: int, entities: list[EntitySpec], seed: int = 11, *, inert: bool = False,
                  prefix: str = "") -> dict[str, Any]:
    """A RuleFile-shaped dict of ``n`` rules over ``entities`` plus countries.

    ``inert``: the same mix of rule kinds, but no rule can match the corpus:
    ``entities`` should be ones it never names, no countries or core entities,
    invented phrases and regexes, macro rules as entity rules. ``prefix`` goes
    before rule ids and list names, so an inert pack can join another one."""
    from monitor.enrich.gazetteer import resolve_country

    rng = random.Random(seed * 1000 + n)
    countries = [c for c in (resolve_country(x) for x in REAL_COUNTRIES) if c]
    core = [e.id for e in entities[:CORE_WATCHED]]
    ids = [e.id for e in entities]
    lists = {
        f"{prefix}watched_people": [e.id for e in entities[:CORE_WATCHED] if e.type == "person"],
        f"{prefix}watched_orgs": [e.id for e in entities[:CORE_WATCHED] if e.type == "organization"],
        f"{prefix}watched_states": ids[:8] if inert else countries[:8],
    }
    for k in range(max(1, n // 100)):
        lists[f"{prefix}group_{k}"] = rng.sample(ids, min(20, len(ids)))
    macros = {} if inert else {"watched_movement": {"event": {"type": ["border_crossing", "troop_movement"],
                                                              "modality": ["asserted", "planned"]}}}

    def some_ids(k: int) -> list[str]:
        if inert:
            return rng.sample(ids, min(k, len(ids)))
        if rng.random() < 0.95:
            picked = rng.sample(ids, min(k, len(ids)))
        else:
            picked = rng.sample(countries, rng.randint(1, 2))
        if rng.random() < 0.2:
            picked.append(rng.choice(core))
        return list(dict.fromkeys(picked))

    def condition(kind: str) -> dict[str, Any]:
        if kind == "entity_any":
            return {"entity": {"any": some_ids(rng.randint(3, 6))}}
        if kind == "entity_all":
            spec: dict[str, Any] = {"all": some_ids(2)}
            if rng.random() < 0.3:
                spec["in_headline"] = True
            if rng.random() < 0.3:
                spec["min_mentions"] = 2
            return {"entity": spec}
        if kind == "entity_list":
            return {"entity": {"any": [rng.choice([k for k in lists if k.startswith(f"{prefix}group_")])]}}
        if kind == "event":
            spec = {"type": rng.sample(EVENT_TYPES, rng.randint(1, 2)),
                    "modality": rng.sample(MODALITIES, rng.randint(1, 3))}
            r = rng.random()
            if inert:  # indexed by event type like any event rule, but its actor is never named
                spec["actor"] = {"any": some_ids(2)}
            elif r < 0.3:
                spec["actor"] = rng.choice(["watched_people", "watched_orgs", "watched_states"])
            elif r < 0.5:
                spec["actor"] = {"type": ["country", "person", "organization"]}
            elif r < 0.6:
                spec["destination"] = {"any": countries[:10]}
            if rng.random() < 0.2:
                spec["min_confidence"] = 0.6
            return {"event": spec}
        if kind == "text_phrases":
            if inert:
                return {"text": {"phrases": [_invented(rng) for _ in range(rng.randint(1, 3))]}}
            if rng.random() < 0.1:
                return {"text": {"phrases": [rng.choice(PHRASES_CORPUS)]}}
            return {"text": {"phrases": rng.sample(PHRASES_RARE, rng.randint(1, 3))}}
        if kind == "text_all":
            if inert:
                return {"text": {"all_phrases": [_invented(rng), _invented(rng)]}}
            return {"text": {"all_phrases": rng.sample(PHRASES_CORPUS + PHRASES_RARE, 2)}}
        if kind == "text_regex":
            if inert:
                return {"text": {"regex": [rf"\b{_invented(rng, 1)}s?\b"]}}
            return {"text": {"regex": [rng.choice(REGEXES)]}}
        if kind == "compound_all":
            return {"all": [condition("entity_any"), condition("text_phrases")]}
        if kind == "compound_any":
            return {"all": [{"any": [condition("event"), condition("entity_any")]},
                            {"not": {"duplicate": True}}]}
        if kind == "macro":
            if inert:
                return condition("entity_any")
            return {"all": [{"macro": "watched_movement"}, {"entity": {"any": ["watched_states"]}}]}
        if kind == "source":
            return {"all": [{"source": rng.sample([o[0] for o in OUTLETS], 2)}, condition("text_phrases")]}
        raise ValueError(kind)

    kinds = ["entity_any", "entity_all", "entity_list", "event", "text_phrases", "text_all", "text_regex",
             "compound_all", "compound_any", "macro", "source"]
    weights = [25, 8, 4, 18, 14, 4, 6, 8, 6, 3, 4]
    rules = []
    for i in range(n):
        kind = kinds[i % len(kinds)] if i < len(kinds) else rng.choices(kinds, weights)[0]
        rule: dict[str, Any] = {
            "id": f"{prefix}bench-{kind.replace('_', '-')}-{i:04d}",
            "title": f"Bench rule {i} ({kind})",
            "severity": rng.choice(["info", "low", "medium", "high", "critical"]),
            "tags": ["bench", kind],
            "match": condition(kind),
        }
        if rng.random() < 0.1:
            rule["exceptions"] = [HISTORICAL]
        if rng.random() < 0.2:
            rule["template"] = {"title": "{rule_title}: {entities} ({source})"}
        if rng.random() < 0.1:
            rule["novelty"] = {"per": "rule"}
        rules.append(rule)
    return {"lists": lists, "macros": macros, "rules": rules}


def _dump_yaml(data: Any, path: Path) -> None:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    with path.open("w", encoding="utf-8") as fh:
        yaml.dump(data, fh)


def write_rules_dir(directory: Path | str, entities: list[EntitySpec],
                    rulepack: dict[str, Any] | None) -> Path:
    """``<dir>/watchlists/bench.yaml`` and ``<dir>/bench_rules.yaml``, the layout
    ``Pipeline.from_rules_dir`` reads."""
    directory = Path(directory)
    (directory / "watchlists").mkdir(parents=True, exist_ok=True)
    _dump_yaml({"entities": [e.model_dump(exclude_defaults=True) for e in entities]},
               directory / "watchlists" / "bench.yaml")
    if rulepack is not None:
        _dump_yaml(rulepack, directory / "bench_rules.yaml")
    return directory


if __name__ == "__main__":  # a quick look: python -m bench.corpus
    import json
    import sys

    c = make_corpus(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
    print(json.dumps(c.stats(), indent=2))
    first_copy = next(i for i, t in c.truth.items() if t.copy_of)
    by_id = {d.id: d for d in c.docs}
    for i in (c.truth[first_copy].copy_of, first_copy):
        print("=" * 80, i, by_id[i].source, by_id[i].title, sep="\n")
        print(by_id[i].content)
