"""An adversarial news stream written for the story tests (no third-party text).

One watched leader (Vladimir Putin) in many different events over months -
talks in Beijing, a forum speech and a trip to Ankara in the same week, a
trip to Minsk two days later, a summit with Kim Jong Un, three summits
announced on one day for different places, a meeting with farmers - several
events told by three outlets in different words, and unwatched events (two
earthquakes in one week, a tanker seizure, a celebrity arrest) reported twice
each. ``EVENTS`` is the truth: event id -> the ids of its reports.
"""

from __future__ import annotations

from datetime import datetime, timezone

from monitor.models import RawArticle

# (event, source, published "YYYY-MM-DD HH", title, body)
REPORTS: list[tuple[str, str, str, str, str]] = [
    ("beijing-talks", "harbour", "2023-05-16 06", "Putin and Xi hold talks in Beijing",
     "BEIJING, May 16 (Harbour Wire) -- Russian President Vladimir Putin held talks with Chinese President "
     "Xi Jinping in Beijing on Tuesday, the first day of a two-day state visit. The two leaders signed a joint "
     "statement on energy cooperation and a new gas pipeline through Mongolia."),
    ("beijing-talks", "steppe", "2023-05-16 09", "Xi welcomes Putin at the Great Hall of the People",
     "MOSCOW, May 16 (Steppe News) -- Xi Jinping welcomed Vladimir Putin with a ceremony at the Great Hall of "
     "the People on Tuesday before talks on energy. The Kremlin said the leaders agreed to speed up work on "
     "the pipeline that would carry gas across Mongolia."),
    ("beijing-talks", "peninsula", "2023-05-16 14", "China and Russia sign energy statement",
     "SEOUL, May 16 (Peninsula Daily) -- China and Russia signed a joint statement on energy during Putin's "
     "state visit to Beijing, Chinese state media said. Xi Jinping called the gas pipeline across Mongolia a "
     "project for the next decade."),

    ("forum-speech", "harbour", "2023-06-16 10", "Putin tells economic forum sanctions have failed",
     "ST PETERSBURG, June 16 (Harbour Wire) -- Vladimir Putin told the St Petersburg International Economic "
     "Forum on Friday that Western sanctions had failed and that the economy would grow this year. He spoke "
     "for ninety minutes to an audience of bankers and investors at the Expoforum hall."),
    ("forum-speech", "steppe", "2023-06-16 12", "At St Petersburg forum, Putin predicts growth",
     "MOSCOW, June 16 (Steppe News) -- Speaking at the St Petersburg International Economic Forum, Vladimir "
     "Putin predicted growth for the economy and said sanctions had not worked. Investors at the Expoforum "
     "applauded when he promised lower taxes on exporters."),

    ("quake-hualien", "harbour", "2023-06-17 02", "Strong earthquake shakes Hualien",
     "TAIPEI, June 17 (Harbour Wire) -- A magnitude 6.4 earthquake struck off Hualien county early on "
     "Saturday, the Central Weather Bureau said, toppling a hotel and cutting power to thousands of homes. "
     "Rescuers pulled four guests from the rubble of the Marshal Hotel."),
    ("quake-hualien", "peninsula", "2023-06-17 05", "Hotel collapses after Hualien quake",
     "SEOUL, June 17 (Peninsula Daily) -- Part of the Marshal Hotel in Hualien collapsed after a strong "
     "earthquake on Saturday morning. The Central Weather Bureau put the magnitude at 6.4 and warned of "
     "aftershocks along the east coast."),

    ("tanker-seizure", "steppe", "2023-06-17 08", "Revolutionary Guards seize tanker in Hormuz",
     "DUBAI, June 17 (Steppe News) -- Iran's Revolutionary Guards seized the Liberian-flagged tanker Aurora "
     "Star in the Strait of Hormuz on Saturday, accusing it of smuggling fuel. The ship's manager in Athens "
     "said it had lost contact with the crew of twenty-one."),
    ("tanker-seizure", "harbour", "2023-06-17 11", "Greek-managed tanker Aurora Star held by Iran",
     "ATHENS, June 17 (Harbour Wire) -- The managers of the Aurora Star said the tanker was boarded by "
     "Revolutionary Guards commandos while sailing through the Strait of Hormuz. Iranian media said the "
     "vessel had been taken to Bandar Abbas."),

    ("ankara-trip", "harbour", "2023-06-18 09", "Putin arrives in Turkey for talks with Erdogan",
     "ANKARA, June 18 (Harbour Wire) -- Vladimir Putin arrived in Ankara on Sunday for talks with Recep Tayyip "
     "Erdogan on grain shipments across the Black Sea. Erdogan met him at the Presidential Complex."),
    ("ankara-trip", "steppe", "2023-06-18 13", "Erdogan hosts Putin, grain corridor on the agenda",
     "MOSCOW, June 18 (Steppe News) -- Vladimir Putin arrived in Turkey on Sunday, the Kremlin said. Recep Tayyip "
     "Erdogan received him at the Presidential Complex in Ankara, where the Black Sea grain corridor "
     "topped the agenda."),
    ("ankara-trip", "peninsula", "2023-06-18 17", "Turkish leader and Putin discuss Black Sea grain",
     "SEOUL, June 18 (Peninsula Daily) -- Vladimir Putin arrived in Ankara for a one-day visit, Turkish "
     "officials said. Erdogan and Putin discussed reopening the Black Sea grain corridor."),

    ("quake-arequipa", "steppe", "2023-06-18 20", "Earthquake hits southern Peru",
     "LIMA, June 18 (Steppe News) -- A magnitude 6.1 earthquake struck the Arequipa region of southern Peru "
     "on Sunday evening, damaging colonial churches in the town of Chivay. The Geophysical Institute said "
     "the quake was centred in the Colca Valley."),
    ("quake-arequipa", "peninsula", "2023-06-19 03", "Churches damaged as quake strikes Colca Valley",
     "SEOUL, June 19 (Peninsula Daily) -- Colonial churches in Chivay were damaged when an earthquake "
     "shook the Colca Valley in Arequipa on Sunday, Peru's Geophysical Institute said. The magnitude was "
     "put at 6.1."),

    ("minsk-trip", "harbour", "2023-06-20 08", "Putin in Minsk for talks with Lukashenko",
     "MINSK, June 20 (Harbour Wire) -- Vladimir Putin arrived in Belarus on Tuesday for talks with Alexander "
     "Lukashenko on the Union State budget. The two men met at the Palace of Independence."),
    ("minsk-trip", "steppe", "2023-06-20 12", "Lukashenko greets Putin at Palace of Independence",
     "MOSCOW, June 20 (Steppe News) -- Vladimir Putin arrived in Minsk on Tuesday, where Alexander Lukashenko greeted "
     "him at the Palace of Independence for a day of talks on the Union State."),

    ("kim-summit", "harbour", "2023-09-13 08", "Putin and Kim hold summit at spaceport",
     "VOSTOCHNY, Sept 13 (Harbour Wire) -- Russian President Vladimir Putin and North Korean leader Kim Jong "
     "Un held a summit at the Vostochny Cosmodrome in the Amur region on Wednesday, touring the launch site "
     "before talks that lasted four hours."),
    ("kim-summit", "steppe", "2023-09-13 12", "Kim meets Putin at Russian space centre",
     "MOSCOW, Sept 13 (Steppe News) -- Kim Jong Un met Vladimir Putin at the Vostochny Cosmodrome in the "
     "Far East on Wednesday. The Kremlin said the two leaders discussed military cooperation over a lunch "
     "that followed a tour of the Angara rocket assembly hall."),
    ("kim-summit", "peninsula", "2023-09-14 01", "Kim invites Putin to Pyongyang after talks",
     "SEOUL, Sept 14 (Peninsula Daily) -- Talks between Kim Jong Un and Vladimir Putin at the Vostochny "
     "Cosmodrome ended late on Wednesday, North Korean state media said, with Kim inviting Putin to visit "
     "Pyongyang. Their first summit in 2019 was held in Vladivostok."),

    ("singer-arrest", "harbour", "2023-09-14 10", "Pop star Marco Velani arrested in Milan",
     "MILAN, Sept 14 (Harbour Wire) -- Italian pop singer Marco Velani was arrested at his home in Milan on "
     "Thursday on suspicion of tax fraud, the Guardia di Finanza said. His lawyer said he would cooperate."),
    ("singer-arrest", "steppe", "2023-09-14 15", "Singer Velani held over alleged tax fraud",
     "ROME, Sept 14 (Steppe News) -- Financial police detained the singer Marco Velani in Milan over "
     "alleged tax fraud worth four million euros. Velani, who won the Sanremo festival twice, denies "
     "wrongdoing, his lawyer said."),

    ("beijing-summit-plan", "harbour", "2023-10-02 07", "Putin to visit Beijing next week",
     "MOSCOW, Oct 2 (Harbour Wire) -- Vladimir Putin will travel to Beijing next week for a summit with Xi "
     "Jinping on the Belt and Road Forum, the Kremlin said on Monday."),
    ("delhi-summit-plan", "steppe", "2023-10-02 09", "Putin plans New Delhi summit with Modi",
     "MOSCOW, Oct 2 (Steppe News) -- Vladimir Putin will hold a summit with Narendra Modi in New Delhi next "
     "month, Indian officials said, the first visit since the invasion of Ukraine."),
    ("sochi-summit-plan", "peninsula", "2023-10-02 11", "Erdogan to meet Putin in Sochi",
     "SEOUL, Oct 2 (Peninsula Daily) -- Vladimir Putin will host a summit with Recep Tayyip Erdogan at his "
     "Black Sea residence in Sochi on Oct. 20, Turkish media reported."),
    ("beijing-summit-plan", "peninsula", "2023-10-02 15", "Kremlin confirms Putin trip to China",
     "SEOUL, Oct 2 (Peninsula Daily) -- The Kremlin confirmed that Vladimir Putin will go to Beijing next "
     "week to meet Xi Jinping at the Belt and Road Forum."),

    ("krasnodar-farmers", "harbour", "2023-11-03 09", "Putin promises farmers subsidies",
     "KRASNODAR, Nov 3 (Harbour Wire) -- Vladimir Putin met farmers in Krasnodar on Friday and promised "
     "subsidies for grain storage after a record wheat harvest in the Kuban."),
    ("krasnodar-farmers", "steppe", "2023-11-03 14", "Record Kuban harvest, Putin tells growers",
     "MOSCOW, Nov 3 (Steppe News) -- Putin told grain growers in the Kuban that the region had brought in a "
     "record wheat harvest, and promised new storage subsidies, at a meeting in Krasnodar."),

    ("murmansk-shipyard", "peninsula", "2023-11-05 10", "Putin inspects icebreaker at Murmansk yard",
     "SEOUL, Nov 5 (Peninsula Daily) -- Vladimir Putin inspected the nuclear icebreaker Chukotka at a "
     "shipyard in Murmansk on Sunday and called the Northern Sea Route a national priority."),
    ("murmansk-shipyard", "harbour", "2023-11-05 16", "Northern Sea Route a priority, Putin says in Murmansk",
     "MURMANSK, Nov 5 (Harbour Wire) -- Standing beside the icebreaker Chukotka at the Murmansk shipyard, "
     "Vladimir Putin said the Northern Sea Route would carry more cargo every year."),
]

EVENTS: dict[str, list[str]] = {}
for _i, (_event, *_rest) in enumerate(REPORTS):
    EVENTS.setdefault(_event, []).append(f"r{_i:02d}")


def when(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%d %H").replace(tzinfo=timezone.utc)


def raw_articles() -> list[RawArticle]:
    """The stream in time order, as watchers would deliver it."""
    return [RawArticle(id=f"r{i:02d}", source=source, title=title, content=body, published=when(stamp),
                       ingested_at=when(stamp))
            for i, (_event, source, stamp, title, body) in enumerate(REPORTS)]
