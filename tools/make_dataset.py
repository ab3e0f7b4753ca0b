#!/usr/bin/env python3
"""Generate the bundled demo dataset that `wall demo` replays on a loop.

Writes `posts.json` (about 300 posts in the webhook format of docs/api.md) and the small SVG images in
`media/` next to this file. Everything is synthetic: the brand Nordlys Phones, its X3 launch, the competitor
Kestrel Mobile, every person, handle and `*.example` address are invented.

The scenario is launch morning, 2026-03-12 from 07:00 to 12:00 UTC, keynote at 08:00. Texts are built from
phrase pieces per language (en, fi, de, es, fr, ja, ar, nb) and tone (positive, neutral, negative, sarcastic),
plus a few hand-written posts for the awkward cases (multi-line text, `<3`, ZWJ emoji, flags, RTL, links in
parentheses). Stdlib only, fixed seed: running it again gives byte-identical files.

    python3 tools/make_dataset.py
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent.parent / "ingest" / "demo"  # the dataset ships in the package
POSTS_FILE = HERE / "posts.json"
MEDIA_DIR = HERE / "media"
MEDIA_URL = "/demo/media/"
SEED = 20260312
DAY = datetime(2026, 3, 12, tzinfo=UTC)
MAX_LEN = 280  # code points

# Posts per language; they add up to the size of the dataset.
LANGUAGES = {"en": 165, "fi": 30, "de": 25, "es": 22, "fr": 20, "ja": 18, "ar": 14, "nb": 6}
TOTAL = sum(LANGUAGES.values())
# Posts per tone over the whole dataset; "pos" takes the rest.
TONES = {"neg": 36, "sarc": 15, "neu": 66}

# The morning in pieces (start, end, relative posting rate): the keynote is the busiest stretch.
RATES = [
    ("07:00", "07:45", 0.8),
    ("07:45", "08:00", 1.6),
    ("08:00", "08:50", 2.4),
    ("08:50", "09:30", 2.0),
    ("09:30", "12:00", 1.1),
]
PHASES = {"pre": ("07:00", "08:00"), "event": ("08:00", "08:50"), "after": ("08:50", "12:00")}

# How likely each topic is in each phase of the morning (topics missing from a phase are not picked).
TOPIC_WEIGHTS = {
    "pre": {"event_pre": 5, "queue_wait": 4, "office": 2},
    "event": {"event_live": 6, "handson": 2, "design": 1, "office": 1, "queue_wait": 1},
    "after": {
        "battery": 3,
        "camera": 3,
        "price": 2,
        "delivery": 3,
        "support": 3,
        "event": 2,
        "handson": 1,
        "office": 1,
        "kestrel": 2,
        "design": 2,
        "queue": 1,
        "queue_wait": 1,
    },
}
# Topics where people talk about the phone they now hold: "would recommend" and the like fit only there.
OWNER_TOPICS = {"battery", "camera", "price", "delivery", "support", "kestrel", "design", "queue"}
# Complaints about these may well ask @NordlysSupport for help.
SUPPORT_TOPICS = {"battery", "camera", "price", "delivery", "support", "design", "event_live"}


def hm(clock: str) -> datetime:
    """The demo day at a wall-clock time such as "08:30", in UTC."""
    hours, minutes = clock.split(":")
    return DAY.replace(hour=int(hours), minute=int(minutes))


def phase_of(at: datetime) -> str:
    for name, (start, end) in PHASES.items():
        if hm(start) <= at < hm(end):
            return name
    return "after"


# ---------------------------------------------------------------------------------------------------------
# People (all invented)


@dataclass(frozen=True)
class Person:
    name: str
    handle: str
    lang: str
    initials: str = ""  # drawn on the avatar; empty: this person has no avatar
    grumpy: bool = False  # more likely to be the author of complaints

    @property
    def avatar_file(self) -> str:
        return f"avatar-{self.handle.lower()}.svg"

    def as_author(self) -> dict[str, str]:
        author = {"name": self.name, "handle": self.handle}
        if self.initials:
            author["avatar_url"] = MEDIA_URL + self.avatar_file
        return author


PEOPLE = [
    Person("Maya Collins", "mayacollins", "en", "MC"),
    Person("Tom Okafor", "tom_okafor", "en", "TO"),
    Person("Priya Raman", "priyatech", "en", "PR"),
    Person("Grace Liu", "gracelshoots", "en", "GL"),
    Person("Sam Whitaker", "samw", "en"),
    Person("Olivia Brandt", "liv_brandt", "en"),
    Person("Marcus Bell", "marcusbell", "en"),
    Person("Hannah Price", "hannahp_dev", "en"),
    Person("Leo Fitzgerald", "leofitz", "en"),
    Person("Ruth Adeyemi", "ruthadeyemi", "en"),
    Person("Jamie Stone", "jstone", "en", grumpy=True),
    Person("Fiona MacLeod", "fionamacleod", "en"),
    Person("Arjun Mehta", "arjun_m", "en", grumpy=True),
    Person("Zoe Carter", "zoecarter", "en"),
    Person("Nathan Park", "nathanpark", "en"),
    Person("Ellie Ward ☕", "ellieward", "en"),
    Person("Aino Virtanen", "aino", "fi", "AV"),
    Person("Kalle Mäkinen", "kallem", "fi", grumpy=True),
    Person("Sanna Heikkilä", "sannah", "fi"),
    Person("Eetu Laine", "eetu_l", "fi"),
    Person("Jonas Becker", "jonasb", "de", "JB"),
    Person("Lena Hoffmann", "lena_hoff", "de"),
    Person("Felix Wagner", "fwagner", "de", grumpy=True),
    Person("Lucía Romero", "luciaromero", "es", "LR"),
    Person("Javier Ortiz", "javiortiz", "es"),
    Person("Carmen Vidal", "carmenv", "es", grumpy=True),
    Person("Daniel Reyes", "dreyes", "es"),
    Person("Camille Martin", "camille_m", "fr", "CM"),
    Person("Hugo Lefèvre", "hugolef", "fr", grumpy=True),
    Person("Inès Moreau", "inesmoreau", "fr"),
    Person("田中 結衣", "yui_tanaka", "ja", "結"),
    Person("佐藤 健", "ken_sato", "ja", grumpy=True),
    Person("小林 美咲", "misaki_k", "ja"),
    Person("ليلى حداد", "layla_haddad", "ar", "ل"),
    Person("عمر نصار", "omar_nassar", "ar"),
    Person("سارة الخطيب", "sara_khatib", "ar", grumpy=True),
    Person("Ingrid Solberg", "ingridsol", "nb"),
    Person("Magnus Berg", "magnusberg", "nb"),
]
OFFICIAL = [
    Person("Nordlys Phones", "NordlysPhones", "en", "N"),
    Person("Nordlys Support", "NordlysSupport", "en", "NS"),
    Person("Gadget North", "gadgetnorth", "en"),
]
BY_HANDLE = {p.handle: p for p in PEOPLE + OFFICIAL}
AVATAR_COLOURS = [
    ("#5ee7c4", "#0f766e"),
    ("#fda4af", "#be123c"),
    ("#93c5fd", "#1d4ed8"),
    ("#fcd34d", "#b45309"),
    ("#c4b5fd", "#6d28d9"),
    ("#86efac", "#15803d"),
    ("#fdba74", "#c2410c"),
    ("#67e8f9", "#0e7490"),
    ("#f9a8d4", "#be185d"),
    ("#a5b4fc", "#4338ca"),
    ("#34d399", "#1e3a8a"),
    ("#7dd3fc", "#0c4a6e"),
]


# ---------------------------------------------------------------------------------------------------------
# Phrase banks, one per language. Cores are keyed by topic, then tone ("pos", "neu", "neg", "sarc").
# Slots: {hours} {pct} {drop} {minutes} {n} {city}.

Cores = dict[str, dict[str, list[str]]]
ByTone = dict[str, list[str]]


@dataclass(frozen=True)
class Bank:
    lang: str
    cores: Cores
    openers: ByTone
    extras: ByTone  # second sentences that fit any post of that tone
    owner_extras: ByTone  # ... and those that only fit once the phone is in people's hands
    shorts: ByTone  # whole short posts by tone, and the upbeat ones for the "pre" and "event" phases
    tags: list[str]  # hashtags of this language, added to the shared ones
    flags: list[str]
    friend_lines: list[str]  # "{friend}" is an @mention of another person
    support_asks: list[str]
    cities: tuple[str, ...] = ("Helsinki",)
    space: str = " "  # between sentences
    stops: tuple[str, str] = (".", "!")  # plain and excited end of sentence
    cased: bool = True


EN = Bank(
    lang="en",
    cores={
        "battery": {
            "pos": [
                "the X3 battery is unreal, {pct}% left after {hours} hours of maps, music and far too many "
                "photos",
                "first phone in years that gets me through a full day and the late train home",
                "did the 15-minute top-up during breakfast and went from 9% to 48%",
                "{hours} hours off the charger and it still says {pct}%, I keep checking if the number is "
                "stuck",
                "the battery widget says two more days and for once I believe it",
            ],
            "neu": [
                "the X3 has a 5,200 mAh battery and 45 W charging, no charger in the box",
                "has anyone measured standby drain on the X3 yet? Curious about overnight numbers",
                "there is a new 'gentle charge' toggle in the X3 battery settings that stops at 85%",
                "running my usual battery test on the X3 today, results tonight",
            ],
            "neg": [
                "battery dropped {drop} points in an hour doing nothing, something is eating it in the "
                "background",
                "the X3 gets warm while charging and fast charging stops at 80%, not what the ad promised",
                "no charger in the box and my old one only does 10 W, so much for fast charging",
            ],
            "sarc": [
                "the battery lasts all day, as long as your day ends at 2 pm",
                "love that 'all-day battery' now means 'all day if you never unlock it'",
            ],
        },
        "camera": {
            "pos": [
                "the night mode on the X3 is ridiculous, shot the harbour at 5 am and it looks like golden "
                "hour",
                "portrait mode finally gets hair right, even my dog's",
                "zoomed 5x on the stage from row 20 and you can read the slides",
                "the colours straight out of the X3 camera need zero editing",
                "took one photo of my breakfast and now I understand the whole keynote",
            ],
            "neu": [
                "X3 camera: 50 MP main, 48 MP ultrawide, 5x periscope, and raw capture is in the Pro tab",
                "comparing X3 night shots with my old phone this afternoon, samples later",
                "does the X3 record 4K at 120 fps or only at 60? The spec page is vague",
            ],
            "neg": [
                "the camera app takes almost two seconds to open, I missed the shot twice already",
                "the ultrawide is soft at the edges and its colours don't match the main lens",
                "the camera bump makes the X3 wobble on the desk with every tap",
            ],
            "sarc": [
                "the 5x zoom is great for reading the 'sold out' sign from across the street",
                "the new HDR is so enthusiastic that my grey office now looks like a sunset",
            ],
        },
        "price": {
            "pos": [
                "699 € for this is fair, the Kestrel flagship costs 200 more",
                "trade-in gave me 180 € for my four-year-old phone, so the X3 was basically half price",
                "the X3 price is the nicest surprise of the morning, expected much worse",
            ],
            "neu": [
                "X3 pricing: 699 € for 256 GB, 799 € for 512 GB, in Fjord Blue, Birch and Graphite",
                "students get 10% off the X3 with the campus code, details on the store page",
                "the X3 is 699 € in the eurozone, UK and US prices not announced yet",
            ],
            "neg": [
                "699 € and no charger, no case, not even a sticker",
                "the 512 GB model costs 100 € more for storage that costs them a fraction of that",
            ],
            "sarc": [
                "only 699 €, so basically free if you stop eating for a month",
                "cheaper than Kestrel, which is like bragging your umbrella leaks less than the other one",
            ],
        },
        "delivery": {
            "pos": [
                "the courier rang at 7:40 with my X3, best doorbell of the year",
                "pre-ordered in February and the tracking just switched to 'out for delivery'",
                "click and collect took four minutes, in and out with a Fjord Blue X3",
            ],
            "neu": [
                "the store page now says 3 to 5 working days for Fjord Blue",
                "tracking says 'handed to carrier', no delivery time yet",
            ],
            "neg": [
                "pre-ordered the day it opened, still 'processing', while people in the queue walk out with "
                "theirs",
                "my delivery window was 8 to 12 and the tracker hasn't moved since yesterday",
                "the order got split in two, and of course the case arrived and the phone didn't",
            ],
            "sarc": [
                "my X3 is taking the scenic route, currently admiring the same warehouse for the third day",
                "nothing says launch day like a tracking page that says 'label created'",
            ],
        },
        "support": {
            "pos": [
                "support chat sorted my eSIM transfer in ten minutes, a real human and very patient",
                "shout-out to the support person who walked my dad through the whole setup on the phone",
            ],
            "neu": [
                "the X3 setup guides are up on the support site, including moving data from another brand",
                "is there an official way to move old chat history to the X3? The help page doesn't say",
            ],
            "neg": [
                "on hold with support for {minutes} minutes, the hold music is lovely, the wait is not",
                "the support bot keeps sending me the same article about restarting the phone",
            ],
            "sarc": [
                "support told me to turn it off and on again, truly revolutionary",
                "support queue position 48, I'll tell my grandchildren about this phone",
            ],
        },
        "event_pre": {
            "pos": [
                "launch day! Can't sit still, the keynote is in less than an hour",
                "front row seats for the X3 launch, my first one ever",
                "coffee in hand and the launch stream open on two screens, let's go",
                "first time I've set an alarm for a phone launch, no regrets so far",
            ],
            "neu": [
                "the X3 keynote starts at 08:00 UTC, stream link below",
                "the launch hall is filling up, there are still seats at the back",
                "setting up the big screen in the meeting room for the launch stream",
                "the countdown on the Nordlys site just hit ten minutes",
            ],
            "neg": [
                "the launch stream page won't load for me, anyone else?",
                "the cloakroom queue at the launch hall is longer than the store queues",
            ],
            "sarc": [
                "counting down to a phone keynote like it's New Year's Eve, this is my life now",
                "got up at 5 to watch a company tell me about a phone, peak adulthood",
            ],
        },
        "event_live": {
            "pos": [
                "watching the launch stream with the whole team, someone brought cinnamon buns",
                "the crowd just cheered for a battery chart, only at a Nordlys launch",
                "the camera demo on the big screen looks unreal, the whole hall went quiet",
                "the presenter just unboxed an X3 on stage and the paper packaging got applause",
                "two minutes into the keynote and they've already shown the aurora wallpaper, I'm sold",
            ],
            "neu": [
                "the keynote is showing the camera now, 5x periscope confirmed",
                "price still not mentioned, twenty minutes into the keynote",
                "the host says a replay of the launch will be on the site later",
                "they're showing the battery test now: 31 hours of video playback, they say",
                "keynote so far: three colours, two storage sizes, no mini model",
                "now on charging: 45 W with a cable, 15 W wireless",
                "live night camera demo right now, they turned off every light in the hall",
            ],
            "neg": [
                "the stream keeps buffering right when they show the camera samples",
                "the sound in the back rows of the hall is awful, can barely hear the speakers",
                "the stream has no subtitles, hard to follow in an open office",
                "my stream is ten seconds behind the office next door, I hear every cheer before I see why",
            ],
            "sarc": [
                "they've said 'seamless' eleven times so far, and I only started counting after my coffee",
                "the keynote has reached the part with a graph that has no numbers on it",
            ],
        },
        "handson": {
            "pos": [
                "tried a demo unit in the launch hall, the screen is stunning in person",
                "five minutes with a demo X3 and I already want one, it's really light",
            ],
            "neu": ["the demo tables are open and the line for them is already long"],
            "neg": ["the demo units are chained to the tables, so you can't feel the weight properly"],
        },
        "event": {
            "pos": [
                "the launch stage was gorgeous, the aurora light show at the start gave me chills",
                "the keynote was short and actually answered the questions people had, more of that please",
                "that live demo of moving a photo from phone to laptop with no cable got a real cheer",
                "best bit of the keynote: the camera engineers getting a huge round of applause",
            ],
            "neu": [
                "keynote summary: bigger battery, better night camera, same price as last year",
                "the keynote is over, the replay should be up on the site soon",
            ],
            "neg": [
                "forty minutes of keynote and the price was the very last slide, classic",
                "lots of marketing talk in the keynote and not a word about repairs",
            ],
            "sarc": [
                "the demo phone froze on stage, very on brand for a 'seamless' launch",
                "loved the part where they said 'one more thing' and it was a case",
            ],
        },
        "queue_wait": {
            "pos": [
                "queueing outside the {city} store since 6:30 and the staff just brought hot chocolate",
                "the queue in {city} is half fans, half people who want the free coffee, good vibes either "
                "way",
            ],
            "neu": [
                "about {n} people queueing at the {city} store right now",
                "staff in {city} are handing out numbered tickets, so no need to stand in line all morning",
            ],
            "neg": ["it's sleeting on the {city} queue and we still have an hour to go"],
            "sarc": ["nothing like queueing in the sleet for a phone I could have ordered from my sofa"],
        },
        "queue": {
            "pos": ["made it! Number {n} in line and walked out with a Fjord Blue one"],
            "neg": [
                "stood in the {city} queue for {minutes} minutes and they ran out of Fjord Blue three people "
                "before me"
            ],
        },
        "office": {
            "pos": [
                "the wall in our office lobby is showing launch posts live and people keep stopping to read "
                "it",
                "the whole floor is in X3 shirts today and the coffee machine is drawing aurora foam",
                "proud of the team that built this, years of work behind the X3",
                "the launch video team is having the best morning, their work is on every screen",
                "someone brought a cake shaped like the X3 to the office, it tastes better than it looks",
            ],
            "neu": [
                "reminder for Nordlys staff: launch breakfast is on the 3rd floor until 10",
                "the meeting room screens are all showing the keynote today",
                "the lobby wall switched from the weather forecast to live #nordlys posts this morning",
                "the all-hands moved to 14:00 so everyone can watch the launch",
            ],
            "neg": [
                "the office wifi picked the worst possible morning to give up",
                "the meeting room booked for the launch stream was double-booked, of course",
            ],
            "sarc": [
                "best part of launch day: the office printer still doesn't work",
                "nothing boosts productivity like a whole office refreshing the same stream",
            ],
        },
        "kestrel": {
            "pos": [
                "switched from Kestrel after six years and the X3 feels faster in every app I use",
                "side by side with the Kestrel K9, the X3 screen is clearly brighter in daylight",
            ],
            "neu": [
                "Kestrel Mobile announcing their own event for next month, right after this launch, "
                "interesting timing",
                "X3 vs Kestrel K9: same chip class, the X3 has the bigger battery, Kestrel the faster "
                "charging",
            ],
            "neg": [
                "still think the Kestrel K9 has the better camera, the X3 oversharpens everything",
                "honestly the Kestrel feels nicer in the hand, the X3 is a bit slippery",
            ],
            "sarc": ["Kestrel fans in the replies explaining why a smaller battery is actually a feature"],
        },
        "design": {
            "pos": [
                "the Fjord Blue is even nicer in person, it shifts towards green in daylight",
                "the X3 feels lighter than it looks, and the matte back doesn't hold fingerprints",
                "went for Birch and it looks like a little piece of furniture, love it",
            ],
            "neu": [
                "X3 colours are Fjord Blue, Birch and Graphite, and the official cases don't quite match"
            ],
            "neg": [
                "the buttons are on the wrong side for me, I keep taking screenshots by accident",
                "the Graphite one is a fingerprint magnet, whatever the ad says",
            ],
            "sarc": ["bold new design: a rectangle, but with rounder corners"],
        },
    },
    openers={
        "pos": [
            "Okay,",
            "Honestly,",
            "Wow.",
            "Day one verdict:",
            "Not gonna lie,",
            "Can confirm:",
            "Small thing, but",
            "Update:",
        ],
        "neu": ["Quick note:", "FYI,", "For those asking:", "So,", "Heads up:"],
        "neg": ["Ugh.", "Well.", "Sigh.", "Not impressed:", "Real talk:", "Hmm."],
        "sarc": ["Oh great,", "Love that for me:", "Fantastic news:", "Wonderful.", "Sure,"],
    },
    extras={
        "pos": ["What a morning.", "Made my day.", "Loving this."],
        "neu": ["Will report back.", "Curious what others see.", "More in the thread."],
        "neg": ["Disappointed.", "Not a great start.", "Not impressed."],
        "sarc": [
            "Living the dream.",
            "Can't wait for the sequel.",
            "Truly the future.",
            "10/10 experience.",
            "Innovation!",
        ],
    },
    owner_extras={
        "pos": [
            "Very happy so far.",
            "Would recommend.",
            "Colour me impressed.",
            "Ten out of ten, would queue again.",
            "More thoughts after the weekend.",
            "My old phone is going in a drawer.",
            "This one's a keeper.",
        ],
        "neu": ["Full review next week.", "More after a few days with it."],
        "neg": ["Expected better at this price.", "Not what I paid for."],
    },
    shorts={
        "pos": [
            "X3 day! 🎉",
            "Got mine. 📱✨",
            "Fjord Blue it is 💙",
            "Okay, this camera though 😍",
            "Best launch in years 🚀",
            "Unboxing time!",
            "It's here!!",
            "Birch gang 🌳",
            "Loving the X3 so far",
        ],
        "pre": [
            "Stream starts soon.",
            "Keynote in ten minutes.",
            "Almost time! ⏳",
            "Who else is up early for this?",
            "Queue update soon.",
        ],
        "event": [
            "Watching the launch now.",
            "Here we go! 🚀",
            "The keynote is on!",
            "Lights down, here we go.",
        ],
        "neu": ["Spec sheet is out.", "Replay link, anyone?", "Reading the spec sheet now."],
        "neg": [
            "Still no tracking update.",
            "Stream down again 😤",
            "Sold out already?",
            "Charger sold separately. Seriously?",
        ],
        "sarc": [
            "Great, another phone. 🙄",
            "Wow, a camera bump. Groundbreaking.",
            "Shocking news: phone is rectangle.",
        ],
    },
    tags=["#launchday", "#tech"],
    flags=["🇬🇧", "🇺🇸", "🇮🇪", "🇨🇦", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"],
    friend_lines=["cc {friend}", "{friend} look at this", "{friend} you need to see this"],
    support_asks=[
        "@NordlysSupport any news?",
        "@NordlysSupport help?",
        "@NordlysSupport please sort this out",
        "@NordlysSupport is this normal?",
    ],
    cities=("Helsinki", "Oslo", "Berlin", "Dublin", "Manchester", "Stockholm", "Glasgow"),
)

FI = Bank(
    lang="fi",
    cores={
        "battery": {
            "pos": [
                "X3:n akku kestää ihan älyttömästi, {pct} % jäljellä {hours} tunnin jälkeen",
                "pikalataus toimii: aamukahvin aikana 9 prosentista melkein puoleen",
            ],
            "neu": ["X3:ssa on 5 200 mAh:n akku ja 45 W:n lataus, laturia ei tule pakkauksessa"],
            "neg": ["akku lämpenee latauksessa ja pikalataus pysähtyy 80 prosenttiin"],
            "sarc": ["akku kestää koko päivän, kunhan päivä loppuu kahdelta"],
        },
        "camera": {
            "pos": [
                "yökuvat X3:lla ovat uskomattomia, satama näytti aamuviideltä kuin kultainen tunti",
                "5x-zoomilla luki lavan diat riviltä 20",
            ],
            "neu": ["vertailen iltapäivällä X3:n yökuvia vanhaan puhelimeeni, kuvia myöhemmin"],
            "neg": ["kamerasovellus käynnistyy hitaasti, ehdin menettää kuvan jo kahdesti"],
        },
        "price": {
            "pos": ["vaihtohyvitys oli 180 €, joten X3 maksoi käytännössä puolet"],
            "neu": ["X3 maksaa 699 €, ja 512 gigatavun malli 799 €"],
            "neg": ["699 euroa eikä pakkauksessa ole edes laturia"],
            "sarc": ["vain 699 euroa, eli käytännössä ilmainen, jos lopettaa syömisen kuukaudeksi"],
        },
        "delivery": {
            "pos": ["kuriiri toi X3:n jo 7.40, paras ovikello pitkään aikaan"],
            "neg": ["ennakkotilaus tehty helmikuussa ja tila on yhä 'käsittelyssä'"],
            "sarc": ["pakettini taitaa kiertää maisemareittiä, kolmatta päivää samassa varastossa"],
        },
        "support": {
            "pos": ["tuki auttoi eSIM-siirrossa kymmenessä minuutissa, oikea ihminen ja tosi kärsivällinen"],
            "neg": ["jonotin asiakaspalveluun {minutes} minuuttia, eikä kukaan vastannut"],
        },
        "event_pre": {
            "pos": [
                "julkaisupäivä! Kahvi kädessä ja striimi auki",
                "herätyskello soi viideltä julkaisun takia, eikä kaduta",
            ],
            "neu": [
                "julkaisu alkaa kello 10 Suomen aikaa, striimi alla",
                "lähtölaskenta Nordlysin sivuilla näyttää kymmentä minuuttia",
            ],
        },
        "event_live": {
            "pos": ["sali taputti juuri akkukaaviolle, tätä on vain Nordlysin julkaisussa"],
            "neu": [
                "nyt esitellään kameraa, 5x-zoom vahvistettu",
                "nyt esitellään värit: Fjord Blue, Birch ja Graphite",
            ],
            "neg": ["striimi pätkii juuri kun näytetään kameran esimerkkikuvia"],
            "sarc": ["nyt ollaan siinä kohdassa, jossa näytetään kaavio ilman numeroita"],
        },
        "event": {
            "pos": ["julkaisun valoshow oli upea, revontulet lavalla saivat kylmät väreet"],
            "neu": ["julkaisu on ohi, tallenne tulee sivuille myöhemmin"],
            "sarc": ["demopuhelin jäätyi lavalla, tosi 'saumaton' julkistus"],
        },
        "queue_wait": {"neu": ["Helsingin myymälän edessä jonottaa noin {n} ihmistä"]},
        "queue": {
            "pos": ["jonotin Tampereella tunnin ja sain Fjord Bluen, henkilökunta toi kaakaota jonoon"],
            "neg": ["jonotin {minutes} minuuttia ja Fjord Blue loppui kolme ihmistä ennen minua"],
        },
        "office": {
            "pos": [
                "toimiston aulan näytöllä pyörivät julkaisupostaukset livenä ja kaikki pysähtyvät lukemaan",
                "koko kerros X3-paidoissa tänään, kahvikoneen vaahdossakin on revontulet",
            ],
            "neu": ["kaikki toimiston näytöt näyttävät tänään julkaisustriimiä"],
            "sarc": ["julkaisupäivän paras osa: toimiston tulostin ei vieläkään toimi"],
        },
        "kestrel": {
            "pos": ["vaihdoin Kestreliltä kuuden vuoden jälkeen, eikä kaduta yhtään"],
            "neu": ["X3 vs. Kestrel K9: X3:ssa isompi akku, Kestrel latautuu nopeammin"],
            "neg": ["Kestrelin K9:ssa on mielestäni edelleen parempi kamera"],
        },
        "design": {
            "pos": ["Fjord Blue on livenä vielä kauniimpi, päivänvalossa melkein vihreä"],
            "neg": ["napit ovat minulle väärällä puolella, otan koko ajan vahingossa kuvakaappauksia"],
        },
    },
    openers={
        "pos": ["No niin,", "Pakko sanoa:", "Vau."],
        "neu": ["Tiedoksi:", "Huom:"],
        "neg": ["Huoh.", "Ei hyvä:"],
        "sarc": ["Mahtavaa.", "No kiva."],
    },
    extras={
        "pos": ["Mahtava fiilis.", "Mikä aamu!"],
        "neu": ["Lisää myöhemmin.", "Katsotaan miten käy."],
        "neg": ["Pettymys.", "Huono alku."],
        "sarc": ["Elämää suuremmin.", "Tulevaisuus on täällä."],
    },
    owner_extras={
        "pos": ["Tosi tyytyväinen tähän asti.", "Suosittelen!", "Vanha puhelin jää laatikkoon."],
        "neg": ["Odotin parempaa."],
    },
    shorts={
        "pos": ["X3-päivä! 🎉", "Sain omani! 📱", "Ihan paras 😍"],
        "pre": ["Striimi alkaa pian.", "Kohta alkaa!"],
        "event": ["Nyt alkaa! 🎬", "Katsotaan striimiä."],
        "neg": ["Taas loppuunmyyty 😤"],
        "sarc": ["Ai, taas uusi puhelin 🙄"],
    },
    tags=["#julkaisu", "#suomi"],
    flags=["🇫🇮"],
    friend_lines=["{friend} katso tätä", "cc {friend}"],
    support_asks=["@NordlysSupport apua?", "@NordlysSupport mitä tapahtuu?"],
)

DE = Bank(
    lang="de",
    cores={
        "battery": {
            "pos": ["der Akku vom X3 ist der Wahnsinn, nach {hours} Stunden noch {pct} % übrig"],
            "neu": ["5.200 mAh, 45 W Laden, kein Netzteil im Karton"],
            "neg": ["das Handy wird beim Laden warm und die Schnellladung stoppt bei 80 %"],
        },
        "camera": {
            "pos": ["der Nachtmodus ist unglaublich, der Hafen um 5 Uhr sieht aus wie zur goldenen Stunde"],
            "neu": ["hat schon jemand RAW-Fotos vom X3 bearbeitet? Wie viel Spielraum gibt es?"],
            "neg": ["die Kamera-App braucht fast zwei Sekunden zum Starten, zweimal das Motiv verpasst"],
        },
        "price": {
            "pos": ["für 699 € ein fairer Preis, das Kestrel-Flaggschiff kostet 200 € mehr"],
            "neg": ["699 € und nicht mal ein Ladegerät dabei"],
            "sarc": ["nur 699 €, also praktisch geschenkt, wenn man einen Monat lang nichts isst"],
        },
        "delivery": {
            "pos": ["der Paketbote stand um 7:40 mit meinem X3 vor der Tür"],
            "neg": ["seit Februar vorbestellt und der Status steht immer noch auf 'in Bearbeitung'"],
            "sarc": ["mein Paket macht offenbar eine Sightseeing-Tour durch drei Verteilzentren"],
        },
        "support": {
            "pos": ["der Support hat meine eSIM in zehn Minuten umgezogen, sehr geduldig"],
            "neg": ["seit {minutes} Minuten in der Warteschleife, die Musik ist schön, das Warten nicht"],
        },
        "event_pre": {
            "pos": ["Launch-Tag! Popcorn steht bereit"],
            "neu": [
                "die Keynote beginnt um 9 Uhr deutscher Zeit, Link zum Stream unten",
                "der Countdown auf der Nordlys-Seite steht bei zehn Minuten",
            ],
        },
        "event_live": {
            "pos": [
                "der Saal hat gerade für ein Akkudiagramm geklatscht, herrlich",
                "Live-Demo der Nachtkamera, sie haben im ganzen Saal das Licht ausgemacht, stark",
            ],
            "neu": [
                "jetzt kommt die Kamera, 5-fach-Periskop bestätigt",
                "jetzt werden die Farben gezeigt: Fjord Blue, Birch und Graphite",
            ],
            "neg": ["der Stream ruckelt genau bei den Kamerabeispielen"],
            "sarc": ["die Keynote ist jetzt bei der Grafik ohne Zahlen angekommen"],
        },
        "handson": {
            "pos": ["kurz ein Vorführgerät in der Hand gehabt, das Display ist der Hammer"],
            "neu": ["die Demo-Tische sind offen, die Schlange ist schon lang"],
        },
        "event": {
            "pos": ["die Lichtshow am Anfang der Keynote war richtig stark"],
            "neu": ["die Keynote ist vorbei, die Aufzeichnung kommt später auf die Website"],
            "sarc": ["das Demo-Handy ist auf der Bühne eingefroren, sehr 'nahtlos'"],
        },
        "queue_wait": {"neu": ["vor dem Store in {city} stehen etwa {n} Leute"]},
        "queue": {
            "neg": [
                "{minutes} Minuten in {city} angestanden und drei Leute vor mir war Fjord Blue ausverkauft"
            ],
        },
        "office": {
            "pos": ["im Büro läuft die Social Wall mit den Launch-Posts und alle bleiben davor stehen"],
            "neu": ["im Büro zeigen heute alle Bildschirme den Livestream"],
        },
        "kestrel": {
            "neu": ["X3 gegen Kestrel K9: gleiche Chipklasse, X3 mit größerem Akku, Kestrel lädt schneller"],
            "neg": ["das Kestrel liegt ehrlich gesagt besser in der Hand"],
            "pos": ["nach sechs Jahren Kestrel gewechselt und keine Sekunde bereut"],
        },
        "design": {
            "pos": ["Fjord Blue sieht in echt noch besser aus, im Tageslicht fast grün"],
            "neg": ["die Tasten sitzen für mich auf der falschen Seite, ständig Screenshots aus Versehen"],
        },
    },
    openers={
        "pos": ["Ehrlich gesagt,", "Wow.", "Erster Eindruck:"],
        "neu": ["Kurze Info:", "Zur Info:"],
        "neg": ["Naja.", "Hmm.", "Leider:"],
        "sarc": ["Na toll.", "Super."],
    },
    extras={
        "pos": ["Was für ein Morgen!", "Macht Laune."],
        "neu": ["Mehr dazu später."],
        "neg": ["Enttäuschend.", "Kein guter Start."],
        "sarc": ["Die Zukunft ist da.", "Ganz großes Kino."],
    },
    owner_extras={
        "pos": ["Bin echt begeistert.", "Klare Empfehlung.", "Das alte Handy kommt in die Schublade."],
        "neu": ["Ausführlicher Test folgt."],
        "neg": ["Hatte mehr erwartet."],
    },
    shorts={
        "pos": ["Endlich da! 🎉", "Meins ist angekommen 📦"],
        "pre": ["Gleich geht's los."],
        "event": ["Es geht los! 🎬", "Spannende Keynote bisher."],
        "neg": ["Schon wieder ausverkauft? 😤"],
        "sarc": ["Toll, ein Kamerabuckel. Revolutionär 🙄"],
    },
    tags=["#Launch", "#Technik"],
    flags=["🇩🇪", "🇦🇹", "🇨🇭"],
    friend_lines=["{friend} schau mal", "cc {friend}"],
    support_asks=["@NordlysSupport was ist da los?", "@NordlysSupport Hilfe?"],
    cities=("Berlin", "München", "Hamburg", "Köln", "Wien"),
)

ES = Bank(
    lang="es",
    cores={
        "battery": {
            "pos": ["la batería del X3 es una locura, {pct} % después de {hours} horas"],
            "neg": ["el móvil se calienta al cargar y la carga rápida se corta al 80 %"],
        },
        "camera": {
            "pos": ["el modo noche es increíble, el puerto a las 5 de la mañana parece la hora dorada"],
            "neu": ["¿alguien sabe si el X3 graba 4K a 120 fps?"],
            "neg": ["la app de la cámara tarda casi dos segundos en abrir"],
        },
        "price": {
            "pos": ["por 699 € me parece justo, el de Kestrel cuesta 200 € más"],
            "neg": ["699 € y ni siquiera trae cargador"],
            "sarc": ["solo 699 €, prácticamente gratis si dejas de comer un mes"],
        },
        "delivery": {
            "pos": ["el repartidor llegó a las 7:40 con mi X3, el mejor timbre del año"],
            "neg": [
                "lo reservé en febrero y sigue 'en proceso' mientras la gente sale de la tienda con el suyo"
            ],
            "sarc": ["mi paquete está haciendo turismo por tres almacenes distintos"],
        },
        "support": {
            "pos": ["el soporte me pasó la eSIM en diez minutos, una persona real y muy paciente"],
            "neg": ["llevo {minutes} minutos en espera con atención al cliente"],
        },
        "event_pre": {
            "pos": ["día de lanzamiento, café en mano y el directo abierto"],
            "neu": ["la presentación empieza a las 9:00 hora peninsular, enlace abajo"],
        },
        "event_live": {
            "pos": ["demo del modo noche en directo, han apagado todas las luces de la sala, impresionante"],
            "neu": [
                "ahora enseñan la cámara, zoom periscópico 5x confirmado",
                "ahora presentan los colores: Fjord Blue, Birch y Graphite",
            ],
            "neg": ["el directo se corta justo cuando enseñan las fotos de la cámara"],
        },
        "handson": {"pos": ["he probado una unidad de demo, la pantalla es preciosa en persona"]},
        "event": {
            "pos": ["el espectáculo de luces del lanzamiento fue precioso, auroras en el escenario"],
            "neu": ["la presentación ha terminado, la repetición estará en la web"],
        },
        "queue_wait": {"neu": ["unas {n} personas haciendo cola en la tienda de {city}"]},
        "queue": {"pos": ["¡lo tengo! Número {n} en la cola y me llevo el Fjord Blue"]},
        "office": {
            "pos": [
                "en la oficina tenemos la pantalla con los posts del lanzamiento y todo el mundo se para a "
                "leer"
            ],
            "neu": ["todas las pantallas de la oficina tienen el directo puesto"],
        },
        "kestrel": {
            "pos": ["me cambio de Kestrel después de seis años y no me arrepiento"],
            "neg": ["sigo pensando que el Kestrel K9 tiene mejor cámara"],
        },
        "design": {
            "pos": ["el Fjord Blue en persona es todavía más bonito"],
        },
    },
    openers={
        "pos": ["¡Qué pasada!", "Sinceramente,", "Primer veredicto:"],
        "neu": ["Dato:", "Para quien pregunte:"],
        "neg": ["Uf.", "Pues nada."],
        "sarc": ["Genial.", "Maravilloso."],
    },
    extras={
        "pos": ["¡Qué mañana!", "Me ha alegrado el día."],
        "neu": ["Os cuento más luego."],
        "neg": ["Decepcionante.", "Mal comienzo."],
        "sarc": ["El futuro ya está aquí.", "Experiencia 10/10."],
    },
    owner_extras={
        "pos": ["De momento, muy bien.", "Lo recomiendo.", "Mi móvil viejo se va al cajón."],
        "neu": ["Reseña completa la semana que viene."],
        "neg": ["Esperaba más por ese precio."],
    },
    shorts={
        "pos": ["¡Ya lo tengo! 📱", "¡Día del X3! 🎉"],
        "pre": ["Empieza el directo."],
        "event": ["¡Empieza! 🎬", "Viendo la presentación."],
        "neg": ["¿Agotado ya? 😤"],
        "sarc": ["Otro móvil más, qué emoción 🙄"],
    },
    tags=["#lanzamiento", "#tecnología"],
    flags=["🇪🇸", "🇲🇽", "🇦🇷"],
    friend_lines=["{friend} mira esto", "cc {friend}"],
    support_asks=["@NordlysSupport ¿alguna novedad?", "@NordlysSupport ¿hola?"],
    cities=("Madrid", "Barcelona", "Valencia", "Sevilla"),
    stops=(".", "."),
)

FR = Bank(
    lang="fr",
    cores={
        "battery": {
            "pos": ["la batterie du X3 est impressionnante, encore {pct} % après {hours} heures"],
            "neg": ["le téléphone chauffe en charge et la charge rapide s'arrête à 80 %"],
        },
        "camera": {
            "pos": ["le mode nuit est bluffant, le port à 5 h du matin ressemble à l'heure dorée"],
            "neg": ["l'appli photo met presque deux secondes à s'ouvrir, j'ai raté la photo deux fois"],
        },
        "price": {
            "neg": ["699 € et même pas de chargeur dans la boîte"],
            "sarc": ["seulement 699 €, autant dire gratuit si on arrête de manger pendant un mois"],
        },
        "delivery": {
            "pos": ["le livreur est passé à 7 h 40 avec mon X3, meilleure sonnette de l'année"],
            "neg": ["précommandé en février et toujours 'en cours de traitement'"],
        },
        "support": {
            "pos": ["le support a transféré mon eSIM en dix minutes, un vrai humain, très patient"],
            "sarc": ["le support m'a conseillé d'éteindre et de rallumer, révolutionnaire"],
        },
        "event_pre": {
            "pos": ["jour de lancement, café à la main et direct ouvert"],
            "neu": ["la présentation commence à 9 h heure de Paris, lien du direct ci-dessous"],
        },
        "event_live": {
            "pos": [
                "démo du mode nuit en direct, ils ont éteint toutes les lumières de la salle, impressionnant"
            ],
            "neu": [
                "ils montrent l'appareil photo, zoom périscope x5 confirmé",
                "ils présentent les couleurs : Fjord Blue, Birch et Graphite",
            ],
            "neg": ["le direct coupe pile au moment des photos d'exemple"],
        },
        "handson": {"pos": ["j'ai pu tenir un X3 de démo, l'écran est superbe en vrai"]},
        "event": {
            "pos": ["le spectacle de lumières au début de la keynote était magnifique"],
            "neu": ["la keynote est terminée, le replay sera en ligne plus tard"],
        },
        "queue_wait": {"neu": ["environ {n} personnes font la queue devant la boutique de {city}"]},
        "office": {
            "pos": [
                "au bureau, l'écran du hall affiche les posts du lancement en direct et tout le monde "
                "s'arrête pour lire"
            ],
            "neu": ["tous les écrans du bureau diffusent le direct aujourd'hui"],
        },
        "kestrel": {
            "neu": [
                "X3 contre Kestrel K9 : même gamme de puce, batterie plus grosse pour le X3, charge plus "
                "rapide pour Kestrel"
            ],
            "neg": ["je trouve toujours que le Kestrel K9 a un meilleur appareil photo"],
        },
        "design": {
            "pos": ["le Fjord Blue est encore plus beau en vrai, presque vert à la lumière du jour"],
        },
    },
    openers={
        "pos": ["Franchement,", "Verdict du jour :", "Bon,"],
        "neu": ["Pour info :", "À noter :"],
        "neg": ["Bof.", "Bon."],
        "sarc": ["Génial.", "Super."],
    },
    extras={
        "pos": ["Quelle matinée !", "Ça fait plaisir."],
        "neu": ["Je vous en dis plus ce soir."],
        "neg": ["Déçu.", "Mauvais départ."],
        "sarc": ["Vivement la suite.", "Le futur, quoi."],
    },
    owner_extras={
        "pos": ["Très content pour l'instant.", "Je recommande.", "Mon ancien téléphone part au tiroir."],
        "neu": ["Test complet la semaine prochaine."],
        "neg": ["Franchement décevant pour ce prix."],
    },
    shorts={
        "pos": ["Il est là ! 📱", "Jour du X3 ! 🎉"],
        "pre": ["Le direct commence."],
        "event": ["C'est parti ! 🎬", "Je regarde la keynote."],
        "neg": ["Déjà en rupture ? 😤"],
        "sarc": ["Encore un téléphone, quelle surprise 🙄"],
    },
    tags=["#lancement", "#tech"],
    flags=["🇫🇷", "🇧🇪", "🇨🇭"],
    friend_lines=["{friend} regarde ça", "cc {friend}"],
    support_asks=["@NordlysSupport une idée ?", "@NordlysSupport un peu d'aide ?"],
    cities=("Lyon", "Paris", "Bordeaux", "Lille"),
    stops=(".", " !"),
)

JA = Bank(
    lang="ja",
    cores={
        "battery": {
            "pos": ["X3のバッテリーすごい。{hours}時間使ってまだ{pct}%残ってる"],
            "neu": ["X3は5200mAh、45W充電対応。充電器は別売り"],
            "neg": ["充電中にかなり熱くなるし、急速充電が80%で止まる"],
            "sarc": ["バッテリーは一日もつ。ただし14時で終わる一日なら"],
        },
        "camera": {
            "pos": ["夜景モードが本当にきれい。早朝の港がゴールデンアワーみたいに写った"],
            "neg": ["カメラアプリの起動が遅くて、シャッターチャンスを2回逃した"],
        },
        "price": {
            "neu": ["X3の価格は256GBで699ユーロ、512GBで799ユーロ"],
            "neg": ["699ユーロで充電器なしはちょっと厳しい"],
        },
        "delivery": {
            "pos": ["朝7時40分にX3が届いた。最高の朝"],
            "neg": ["2月に予約したのにまだ「処理中」のまま"],
        },
        "support": {
            "pos": ["サポートのチャットが親切で、eSIMの移行が10分で終わった"],
        },
        "event_pre": {
            "pos": ["今日は発表会。コーヒー片手に配信待ち"],
            "neu": ["発表会は日本時間17時から。配信リンクはこちら"],
        },
        "event_live": {
            "pos": ["会場がバッテリーのグラフに拍手してる"],
            "neu": ["今カメラの説明中。5倍ペリスコープ確定", "カラーはFjord Blue、Birch、Graphiteの3色"],
            "sarc": ["数字のないグラフが出てきた。さすが"],
        },
        "event": {
            "pos": ["発表会のオーロラの演出、鳥肌が立った"],
            "sarc": ["ステージのデモ機がフリーズ。さすが「シームレス」"],
        },
        "office": {
            "pos": ["オフィスのロビーの画面に発表の投稿がリアルタイムで流れてて、みんな立ち止まって見てる"],
            "neu": ["今日はオフィスの全部の画面で発表会の配信を流してる"],
        },
        "kestrel": {
            "pos": ["Kestrelから乗り換えたけど正解だった"],
            "neu": ["X3とKestrel K9を比べると、バッテリーはX3、充電速度はKestrel"],
        },
        "design": {
            "pos": ["Fjord Blue、実物のほうがずっときれい"],
        },
    },
    openers={"pos": ["正直、", "やばい。"], "neu": ["メモ。"], "neg": ["うーん。"], "sarc": ["いやー、"]},
    extras={
        "pos": ["最高の朝。", "わくわくする。"],
        "neu": ["また後で詳しく書きます。"],
        "neg": ["残念。"],
        "sarc": ["未来だなあ。"],
    },
    owner_extras={
        "pos": ["買ってよかった。", "おすすめです。"],
        "neg": ["期待してたのに。"],
    },
    shorts={
        "pos": ["X3届いた📱", "発売日だ🎉"],
        "pre": ["配信もうすぐ。"],
        "event": ["配信見てる。", "始まった🎬"],
        "neg": ["もう売り切れかな😤"],
    },
    tags=["#ノルドリス", "#発表会"],
    flags=["🇯🇵"],
    friend_lines=["{friend} 見て", "cc {friend}"],
    support_asks=["@NordlysSupport 対応お願いします"],
    space="",
    stops=("。", "。"),
    cased=False,
)

AR = Bank(
    lang="ar",
    cores={
        "battery": {
            "pos": ["بطارية X3 مذهلة، بقي {pct}% بعد {hours} ساعة من الاستخدام"],
            "neg": ["الهاتف يسخن أثناء الشحن والشحن السريع يتوقف عند 80%"],
        },
        "camera": {
            "pos": ["الوضع الليلي رائع، صورت الميناء في الخامسة فجرًا وكأنها الساعة الذهبية"],
            "neg": ["تطبيق الكاميرا بطيء جدًا في الفتح"],
        },
        "price": {
            "neu": ["سعر X3 هو 699 يورو لنسخة 256 غيغابايت"],
            "neg": ["699 يورو ولا يوجد شاحن في العلبة"],
            "sarc": ["699 يورو فقط، يعني مجانًا تقريبًا إذا توقفت عن الأكل شهرًا"],
        },
        "delivery": {
            "pos": ["وصل هاتفي X3 الساعة 7:40 صباحًا، أجمل بداية لليوم"],
            "neg": ["طلبته مسبقًا في فبراير وما زال الطلب «قيد المعالجة»"],
        },
        "support": {
            "pos": ["فريق الدعم ساعدني في نقل الشريحة الإلكترونية خلال عشر دقائق، شكرًا لكم"],
            "sarc": ["الدعم الفني نصحني بإطفاء الهاتف وتشغيله من جديد. فكرة ثورية"],
        },
        "event_pre": {
            "pos": ["يوم الإطلاق! القهوة جاهزة والبث مفتوح"],
            "neu": ["يبدأ حفل الإطلاق الساعة 12 ظهرًا بتوقيت دبي، الرابط في الأسفل"],
        },
        "event_live": {
            "pos": ["عرض حي للكاميرا الليلية، أطفأوا كل أضواء القاعة، مذهل"],
            "neu": ["الآن يعرضون الكاميرا، والتقريب البصري 5x مؤكد"],
        },
        "event": {"pos": ["عرض الأضواء في بداية الحفل كان رائعًا، شفق قطبي على المسرح"]},
        "office": {
            "pos": ["شاشة المكتب تعرض منشورات الإطلاق مباشرة والكل يتوقف ليقرأ"],
            "neu": ["كل شاشات المكتب تعرض البث المباشر اليوم"],
        },
        "kestrel": {
            "pos": ["انتقلت من Kestrel بعد ست سنوات ولست نادمًا"],
            "neu": ["مقارنة بين X3 و Kestrel K9: البطارية أكبر في X3 والشحن أسرع في Kestrel"],
        },
        "design": {
            "pos": ["اللون الأزرق Fjord Blue أجمل بكثير على الطبيعة"],
        },
    },
    openers={"pos": ["بصراحة،", "واو!"], "neu": ["للعلم:"], "neg": ["للأسف،"], "sarc": ["رائع جدًا."]},
    extras={
        "pos": ["يوم رائع.", "أسعدني ذلك."],
        "neu": ["المزيد لاحقًا."],
        "neg": ["مخيب للآمال."],
        "sarc": ["المستقبل هنا فعلًا."],
    },
    owner_extras={"pos": ["أنصح به بشدة.", "سعيد جدًا به حتى الآن."]},
    shorts={
        "pos": ["وصل هاتفي الجديد! 📱", "يوم الإطلاق أخيرًا 🎉"],
        "pre": ["البث يبدأ قريبًا."],
        "event": ["أتابع الحفل الآن.", "بدأ الحفل! 🎬"],
        "neg": ["نفدت الكمية؟ 😤"],
    },
    tags=["#نوردليس", "#تقنية"],
    flags=["🇦🇪", "🇪🇬", "🇯🇴"],
    friend_lines=["{friend} شوف هذا", "cc {friend}"],
    support_asks=["@NordlysSupport أي جديد؟"],
    cased=False,
)

NB = Bank(
    lang="nb",
    cores={
        "battery": {"pos": ["batteriet på X3 er helt rått, {pct} % igjen etter {hours} timer"]},
        "camera": {"pos": ["nattmodusen er imponerende, havna klokka fem om morgenen ser ut som gulltimen"]},
        "price": {"neg": ["8 290 kroner og ingen lader i esken"]},
        "delivery": {"sarc": ["pakka mi er visst på sightseeing, tredje dag på samme lager"]},
        "support": {"pos": ["kundeservice svarte på to minutter, imponert"]},
        "event_pre": {"neu": ["lanseringen starter klokka 9 norsk tid, lenke under"]},
        "event_live": {
            "pos": ["nattkamera-demoen var rå, de slo av alt lyset i salen"],
            "neu": ["følger lanseringen fra kontoret, nå viser de kameraet"],
        },
        "queue": {"neg": ["sto i kø i {minutes} minutter i Oslo, og Fjord Blue ble utsolgt rett før meg"]},
        "kestrel": {"pos": ["bytta fra Kestrel etter seks år og angrer ikke"]},
        "design": {"pos": ["Fjord Blue er enda finere i virkeligheten"]},
    },
    openers={
        "pos": ["Ærlig talt,", "Wow."],
        "neu": ["Til info:"],
        "neg": ["Æsj.", "Hmm."],
        "sarc": ["Flott."],
    },
    extras={
        "pos": ["For en morgen!"],
        "neu": ["Mer senere."],
        "neg": ["Skuffende."],
        "sarc": ["Framtida er her."],
    },
    owner_extras={"pos": ["Anbefales!", "Veldig fornøyd så langt."]},
    shorts={"pos": ["Endelig her! 🎉", "Fikk min i dag 📱"]},
    tags=["#lansering"],
    flags=["🇳🇴"],
    friend_lines=["{friend} se her", "cc {friend}"],
    support_asks=["@NordlysSupport hjelp?"],
)

BANKS = {bank.lang: bank for bank in (EN, FI, DE, ES, FR, JA, AR, NB)}

COMMON_TAGS = ["#nordlys", "#NordlysX3", "#Nordlys", "#X3"]
TOPIC_TAGS = {
    "battery": ["#battery"],
    "camera": ["#shotonX3", "#nightmode", "#photography"],
    "price": ["#NordlysX3"],
    "delivery": ["#preorder"],
    "support": ["#customerservice"],
    "event_pre": ["#launch", "#NordlysLaunch"],
    "event_live": ["#launch", "#X3launch", "#NordlysLaunch"],
    "handson": ["#launch", "#handson"],
    "event": ["#launch", "#X3launch", "#NordlysLaunch"],
    "queue": ["#X3launch", "#launchday"],
    "queue_wait": ["#X3launch", "#launchday"],
    "office": ["#lifeatnordlys", "#officelife"],
    "kestrel": ["#KestrelMobile", "#phonewars"],
    "design": ["#FjordBlue", "#design"],
}
TONE_EMOJI = {
    "pos": ["😍", "🎉", "🚀", "✨", "💙", "🙌", "🔥", "👏🏽", "❤️‍🔥", "🥳", "🤩", "👍🏻"],
    "neu": ["📱", "👀", "🤔", "📝", "⏰", "🧵"],
    "neg": ["😤", "😕", "😩", "🙁", "😮‍💨", "🤦‍♀️", "🤷‍♂️"],
    "sarc": ["🙄", "🙃", "😂", "💀", "👌", "🫠"],
}
TOPIC_EMOJI = {
    "battery": ["🔋", "⚡"],
    "camera": ["📷", "📸", "🌌"],
    "price": ["💸", "💶"],
    "delivery": ["📦", "🚚"],
    "support": ["🎧", "💬"],
    "event_pre": ["⏳", "🎬"],
    "event_live": ["🎤", "🎬", "📺"],
    "handson": ["🤲", "📱", "👀"],
    "event": ["🎤", "✨", "👏"],
    "queue": ["🛍️", "🙌"],
    "queue_wait": ["🚶‍♀️", "🚶‍♂️", "☕", "🥶"],
    "office": ["🏢", "☕", "👩‍💻", "🧑‍💻"],
    "kestrel": ["🦅", "🥊"],
    "design": ["💙", "🎨"],
}
LINKS = {
    "battery": [
        "https://nordlys.example/support/battery-tips",
        "https://news.example/reviews/nordlys-x3-battery-test",
    ],
    "camera": ["https://nordlys.example/x3/camera", "https://news.example/reviews/nordlys-x3-camera-samples"],
    "price": [
        "https://nordlys.example/store/x3?storage=256&colour=fjord-blue",
        "https://news.example/markets/x3-price-analysis",
    ],
    "delivery": ["https://nordlys.example/orders/track"],
    "support": ["https://nordlys.example/support", "https://nordlys.example/support/x3-setup"],
    "event_pre": ["https://nordlys.example/launch/live"],
    "event_live": ["https://nordlys.example/launch/live", "https://news.example/live/nordlys-x3-launch"],
    "handson": ["https://news.example/2026/03/12/nordlys-x3-hands-on"],
    "event": ["https://nordlys.example/launch/replay", "https://news.example/live/nordlys-x3-launch"],
    "queue": ["https://nordlys.example/stores"],
    "queue_wait": ["https://nordlys.example/stores", "https://nordlys.example/stores?city=helsinki"],
    "office": ["https://nordlys.example/careers", "https://nordlys.example/newsroom"],
    "kestrel": ["https://news.example/markets/kestrel-k9-vs-nordlys-x3"],
    "design": ["https://nordlys.example/x3/colours"],
}


# ---------------------------------------------------------------------------------------------------------
# Hand-written posts: official accounts, news, support replies and the awkward cases.


@dataclass(frozen=True)
class Special:
    window: tuple[str, str]  # when it may be posted ("HH:MM", "HH:MM")
    lang: str
    tone: str
    handle: str | None  # None: a post without an author
    text: str  # a support reply is "{reply}", filled with an answer to a recent complaint
    media: tuple[str, ...] = ()


PRE, EVENT, AFTER = PHASES["pre"], PHASES["event"], PHASES["after"]
SPECIALS = [
    Special(
        ("07:00", "07:40"),
        "en",
        "neu",
        "NordlysPhones",
        "Good morning! ☀️ The Nordlys X3 launch starts at 08:00 UTC. Watch it live: "
        "https://nordlys.example/launch/live #NordlysLaunch",
    ),
    Special(
        ("07:15", "08:00"),
        "en",
        "pos",
        "NordlysPhones",
        "Coffee is on us for everyone in the store queues this morning ☕💙 Thank you for coming out in the "
        "cold. #nordlys",
        ("queue",),
    ),
    Special(
        ("08:00", "08:04"),
        "en",
        "pos",
        "NordlysPhones",
        "We're live! 🚀 Meet the Nordlys X3: a battery that lasts, a night camera that sees the aurora, "
        "and a fair price. #NordlysX3 #launch",
        ("stage",),
    ),
    Special(
        ("08:36", "08:45"),
        "en",
        "neu",
        "NordlysPhones",
        "Nordlys X3: 699 € for 256 GB, 799 € for 512 GB. Fjord Blue, Birch and Graphite. Order today: "
        "https://nordlys.example/x3 #NordlysX3",
        ("x3-front", "x3-camera"),
    ),
    Special(
        ("09:00", "10:30"),
        "en",
        "pos",
        "NordlysPhones",
        "Shot handheld on the X3 in night mode. No tripod, no editing. 🌌 #shotonX3 #NordlysX3",
        ("aurora-sample",),
    ),
    Special(
        ("09:30", "11:00"),
        "en",
        "neu",
        "NordlysPhones",
        "Update on pre-orders: most parcels arrive today. Some Fjord Blue orders ship tomorrow, and we're "
        "sorry for the wait. Track yours: https://nordlys.example/orders/track",
        ("parcel",),
    ),
    Special(
        ("10:00", "12:00"),
        "fi",
        "pos",
        "NordlysPhones",
        "Kiitos kaikille, jotka jonottivat tänä aamuna! 💙 X3 on nyt myynnissä kaikissa myymälöissämme. "
        "#nordlys #NordlysX3",
    ),
    Special(
        ("10:00", "12:00"),
        "en",
        "neu",
        "NordlysSupport",
        "Known issue: on some X3s the camera starts slowly after restoring a backup. Update 1.0.2 fixes it "
        "and is rolling out now. https://nordlys.example/support/x3-update",
    ),
    Special(
        AFTER,
        "en",
        "neu",
        "NordlysSupport",
        "X3 tip: to move an eSIM from your old phone, open Settings > Mobile network > Transfer eSIM. Step "
        "by step: https://nordlys.example/support/esim",
        ("support-chat",),
    ),
    *[Special(("09:00", "12:00"), "en", "neu", "NordlysSupport", "{reply}") for _ in range(6)],
    Special(
        PRE,
        "en",
        "neu",
        "gadgetnorth",
        "Live blog: the Nordlys X3 launch, as it happens https://news.example/live/nordlys-x3-launch "
        "#NordlysX3",
    ),
    Special(
        ("08:30", "09:30"),
        "en",
        "neu",
        "gadgetnorth",
        "Nordlys X3 hands-on: five things we learned at the launch "
        "https://news.example/2026/03/12/nordlys-x3-hands-on",
        ("x3-camera",),
    ),
    Special(
        AFTER,
        "en",
        "neu",
        "gadgetnorth",
        "Review: the Nordlys X3 is a battery champion with one odd flaw "
        "https://news.example/reviews/nordlys-x3",
        ("battery-chart",),
    ),
    Special(
        ("10:00", "12:00"),
        "en",
        "neu",
        "gadgetnorth",
        "Kestrel Mobile answers the X3 launch with a 100 € price cut on the K9 "
        "https://news.example/markets/kestrel-k9-price-cut #KestrelMobile",
        ("comparison",),
    ),
    Special(
        PRE,
        "en",
        "pos",
        "fionamacleod",
        "🏴󠁧󠁢󠁳󠁣󠁴󠁿 Glasgow queue is small but mighty: six of us, two flasks of tea, one umbrella. #X3launch",
        ("queue",),
    ),
    Special(
        PRE,
        "en",
        "neu",
        "tom_okafor",
        "Who's watching the keynote from the office? Big screen in the lobby, coffee's on. #lifeatnordlys",
        ("office-wall",),
    ),
    Special(
        EVENT,
        "en",
        "pos",
        "hannahp_dev",
        "R&D floor right now: <3 <3 <3\nYears of work and it's finally out there. Proud of this team 🥹 "
        "#lifeatnordlys",
    ),
    Special(EVENT, "ja", "pos", "yui_tanaka", "発表会見てる。オーロラの演出がきれい✨ #NordlysX3 #発表会"),
    Special(
        EVENT,
        "fr",
        "sarc",
        "hugolef",
        "« One more thing »… et c'était une coque. J'en pleure encore 🙃 #NordlysX3",
    ),
    Special(
        AFTER,
        "en",
        "neu",
        "priyatech",
        "X3 first impressions after 3 hours:\n\n1. battery 🔋 great\n2. camera 📷 great\n3. price 💸 "
        "ouch\n\nFull review on Friday. #NordlysX3",
    ),
    Special(
        AFTER, "en", "neu", "marcusbell", "Nordlys X3 > Kestrel K9? Discuss. 🧵 #NordlysX3 #KestrelMobile"
    ),
    Special(
        AFTER,
        "es",
        "pos",
        "dreyes",
        "Por fin mi X3 🇪🇸📱 loving it so far, la batería es otra cosa #NordlysX3",
    ),
    Special(
        AFTER,
        "en",
        "pos",
        "ruthadeyemi",
        "The whole family switched to the X3 today 👨‍👩‍👧 and the group chat is now 100% Fjord Blue #nordlys",
    ),
    Special(
        AFTER,
        "en",
        "neu",
        "leofitz",
        "🧑🏾‍🔧 Teardown video tonight. Spoiler: the battery is glued, but only a little. "
        "https://news.example/video/x3-teardown",
    ),
    Special(
        AFTER,
        "en",
        "neu",
        "samw",
        'Specs for the curious (https://nordlys.example/x3/specs): 6.4" OLED, 120 Hz, 5,200 mAh, 50 MP main '
        "camera, 5x periscope, 189 g.",
    ),
    Special(
        AFTER,
        "en",
        "sarc",
        "jstone",
        '"Battery for days," they said. It has been one morning and I\'m at 41%. #NordlysX3',
    ),
    Special(
        AFTER,
        "en",
        "neg",
        "jstone",
        "Pre-ordered the X3 on day one, paid for express delivery and took the morning off to be home. "
        "Tracking still says 'label created', while my neighbour walked into the store at 9 and came out "
        "with one. Express, they called it. @NordlysSupport",
    ),
    Special(
        AFTER,
        "ar",
        "neu",
        "omar_nassar",
        "هل جرب أحد الوضع الليلي في X3؟ أريد أن أرى صورًا حقيقية قبل الشراء #NordlysX3",
    ),
    Special(
        AFTER,
        "fi",
        "pos",
        "aino",
        "Eilisillan revontulet X3:lla käsivaralta 🌌🇫🇮 ei jalustaa, ei muokkausta #shotonX3 #nordlys",
        ("aurora-sample",),
    ),
    Special(AFTER, "nb", "pos", "ingridsol", "Nordlys i lomma, nordlys på himmelen 🌌🇳🇴 #nordlys #NordlysX3"),
    Special(
        AFTER,
        "de",
        "neg",
        "fwagner",
        "Drei Stunden X3: Akku top, Kamera top, aber warum um alles in der Welt sitzt die Lautstärketaste "
        "links? 🤨",
    ),
    Special(
        AFTER,
        "en",
        "pos",
        "gracelshoots",
        "Night mode on the X3, handheld at 5 am from the harbour wall. No edits, no tripod. 📸 #shotonX3",
        ("aurora-sample",),
    ),
    Special(
        AFTER,
        "en",
        "pos",
        "mayacollins",
        "Unboxing! 📦 The box is all paper, not a scrap of plastic. #NordlysX3",
        ("unboxing", "x3-front"),
    ),
    Special(
        AFTER,
        "en",
        "neg",
        None,
        "#nordlys support line: 40 minutes and counting. Anyone actually got through?",
    ),
    Special(AFTER, "ja", "neg", "ken_sato", "予約したX3、まだ発送されてない… #NordlysX3"),
    Special(
        AFTER,
        "en",
        "pos",
        "gracelshoots",
        "Spent the morning shooting the harbour with the X3 for a client. Night mode is the real deal: "
        "handheld, 5 am, almost no noise. The ultrawide is weaker at the edges and the camera app could open "
        "faster, but it's the best camera I've carried in years. #shotonX3",
        ("aurora-sample",),
    ),
    Special(
        AFTER,
        "en",
        "neg",
        "arjun_m",
        "Honest take after the keynote: great battery, great screen, but no charger in the box, a 100 € jump "
        "for 512 GB and cases that don't match the phone colours. A good phone priced like a great one. I'll "
        "wait for the first discount. #NordlysX3 #KestrelMobile",
    ),
    Special(
        AFTER,
        "de",
        "pos",
        "lena_hoff",
        "Erster Tag mit dem X3: Der Akku hält locker bis abends, die Nachtaufnahmen sind verrückt gut und "
        "Fjord Blue sieht in echt noch schöner aus. Einziger Minuspunkt: kein Netzteil im Karton. Trotzdem "
        "klare Empfehlung! #NordlysX3 #Technik",
    ),
    Special(
        AFTER,
        "es",
        "neu",
        "javiortiz",
        "Resumen del lanzamiento para quien no lo vio: batería de 5200 mAh, zoom 5x, tres colores (Fjord "
        "Blue, Birch y Graphite) y 699 € la versión de 256 GB. Lo que no han dicho: cuándo llega a "
        "Latinoamérica. https://news.example/live/nordlys-x3-launch #NordlysX3",
    ),
    Special(
        AFTER,
        "en",
        "pos",
        "hannahp_dev",
        "Behind the scenes: the lobby wall in our office photos shows the same #nordlys posts you are "
        "writing right now. Say hi to the Helsinki office 👋 and keep it kind, my mum is watching the screen "
        "too. #lifeatnordlys",
        ("office-wall",),
    ),
]

# Answers from @NordlysSupport to a recent English complaint, by the complaint's topic.
SUPPORT_REPLIES = {
    "delivery": (
        "Sorry about the wait! Please DM us your order number and we'll check where your X3 is right away."
    ),
    "battery": (
        "Sorry about that! Update 1.0.2 improves charging and standby battery life and rolls out today. "
        "Tips meanwhile: https://nordlys.example/support/battery-tips"
    ),
    "support": (
        "Sorry for the wait on the phone line today. Our chat is much faster right now: "
        "https://nordlys.example/support/chat"
    ),
    "queue": (
        "We hear you. More Fjord Blue stock arrives in stores at noon, and you can reserve one here: "
        "https://nordlys.example/stores"
    ),
    "price": (
        "We hear you on the price. This week X3 buyers get 50% off our charger, and trade-in adds up to "
        "180 €: https://nordlys.example/store/trade-in"
    ),
    "camera": "Sorry about that! Update 1.0.2 speeds up the camera and is rolling out now. Let us know. 📷",
    "other": (
        "That's not the experience we want you to have. DM us and someone from the team will call you back."
    ),
}


# ---------------------------------------------------------------------------------------------------------
# Composing generated texts


@dataclass
class Draft:
    """The pieces of one post's text; `render` joins them and `shorten` drops the least important."""

    bank: Bank
    lead: str  # a reply-style @mention before everything else
    sentences: list[str]
    tail: list[str]  # mentions, links and hashtags after the sentences
    emoji: str
    emoji_first: bool
    paragraphs: bool

    def render(self) -> str:
        sep = "\n\n" if self.paragraphs else self.bank.space
        body = sep.join(self.sentences)
        if self.emoji and self.emoji_first:
            body = f"{self.emoji} {body}"
        parts = [self.lead, body, *self.tail]
        if self.emoji and not self.emoji_first:
            parts.append(self.emoji)
        return " ".join(p for p in parts if p)

    def shorten(self) -> bool:
        if len(self.sentences) > 1:
            self.sentences.pop()
        elif self.emoji:
            self.emoji = ""
        elif self.tail:
            self.tail.pop()
        else:
            return False
        return True


def capitalise(text: str) -> str:
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1 :]
        if ch not in "¿¡'\"":
            break
    return text


def inline_tag(sentence: str) -> str:
    """Turn the product name in the sentence into a hashtag, as people often do."""
    if "Nordlys X3" in sentence:
        return sentence.replace("Nordlys X3", "#NordlysX3", 1)
    return re.sub(r"(?<![#\w])X3(?= )", "#X3", sentence, count=1)


def pick_count(rng: random.Random, weights: list[float]) -> int:
    return rng.choices(range(len(weights)), weights)[0]


def pick_tags(rng: random.Random, bank: Bank, topic: str, text: str, long: bool) -> list[str]:
    pool = [*COMMON_TAGS, *COMMON_TAGS, *TOPIC_TAGS[topic], *bank.tags]
    wanted = pick_count(rng, [0.25, 0.4, 0.25, 0.1] if long else [0.35, 0.4, 0.2, 0.05])
    tags: list[str] = []
    lowered = text.lower()
    while len(tags) < wanted and pool:
        tag = pool.pop(rng.randrange(len(pool)))
        if tag.lower() not in lowered and tag.lower() not in (t.lower() for t in tags):
            tags.append(tag)
    return tags


def pick_emoji(rng: random.Random, bank: Bank, tone: str, topic: str) -> str:
    pool = [*TONE_EMOJI[tone], *TOPIC_EMOJI[topic]]
    chosen = [rng.choice(pool) for _ in range(pick_count(rng, [0.3, 0.4, 0.22, 0.08]))]
    if rng.random() < 0.15:
        chosen.append(rng.choice(bank.flags))
    return "".join(dict.fromkeys(chosen))


def end_sentence(rng: random.Random, bank: Bank, sentence: str, tone: str, last: bool) -> str:
    if sentence[-1] in "?!.\u3002\u2026\u061f\uff01\uff1f":  # also the CJK and Arabic ones
        return sentence
    roll = rng.random()
    if last and roll < 0.2:
        return sentence  # casual: no full stop
    if tone == "pos" and roll < 0.6:
        return sentence + bank.stops[1]
    return sentence + bank.stops[0]


def shorts_for(bank: Bank, tone: str, phase: str) -> list[str]:
    """Whole short posts that fit: before and during the keynote, upbeat people only await or watch it."""
    if tone in ("pos", "neu"):
        return bank.shorts.get(tone if phase == "after" else phase, [])
    return [] if phase == "pre" else bank.shorts.get(tone, [])


def compose(
    rng: random.Random,
    bank: Bank,
    tone: str,
    phase: str,
    topic: str,
    core: str,
    friend: str,
    used: Counter[str],
) -> tuple[str, bool]:
    """One post text from a core sentence, with optional opener, extras, mentions, link, hashtags, emoji.

    Now and then it is one of the language's short posts instead (the least used ones); the flag says so.
    """
    shorts = shorts_for(bank, tone, phase)
    if rng.random() < 0.14 and shorts:
        fewest = min(used[short] for short in shorts)
        text = rng.choice([short for short in shorts if used[short] == fewest])
        used[text] += 1
        if rng.random() < 0.6:
            text += " " + rng.choice([*COMMON_TAGS, *bank.tags])
        return text, True

    long = rng.random() < 0.36
    values = {
        "hours": rng.randint(11, 19),
        "pct": rng.randint(34, 71),
        "drop": rng.randint(8, 19),
        "minutes": rng.choice([25, 35, 40, 45, 50, 55, 70, 85]),
        "n": rng.randint(14, 60),
        "city": rng.choice(bank.cities),
    }
    sentence = core.format(**values)
    if bank.cased and rng.random() < 0.18:
        sentence = inline_tag(sentence)
    opener = rng.choice(bank.openers[tone]) if rng.random() < 0.45 else ""
    if opener.endswith(":") and ":" in sentence:
        opener = ""  # "Heads up: X3 pricing: ..." reads badly
    casual = bank.cased and bank.lang == "en" and rng.random() < 0.12  # all lower case, as some people write
    if opener:
        if opener[-1] in ".!?" and not casual:
            sentence = capitalise(sentence)
        sentence = opener + bank.space + sentence
    elif bank.cased and not casual:
        sentence = capitalise(sentence)

    pool = bank.extras.get(tone, [])
    if topic in OWNER_TOPICS and phase == "after":
        pool = [*pool, *bank.owner_extras.get(tone, [])]
    extras: list[str] = []
    if pool and (long or rng.random() < 0.2):
        extras = rng.sample(pool, k=min(len(pool), 2 if long and rng.random() < 0.5 else 1))
    sentences = [end_sentence(rng, bank, sentence, tone, last=not extras), *extras]
    if casual:
        sentences = [s.lower() for s in sentences]

    tail: list[str] = []
    lead = ""
    if topic == "kestrel" and rng.random() < 0.35:
        tail.append("@KestrelMobile")
    if tone in ("neg", "sarc") and topic in SUPPORT_TOPICS and rng.random() < 0.35:
        tail.append(rng.choice(bank.support_asks))
    elif rng.random() < 0.12:
        tail.append(rng.choice(bank.friend_lines).format(friend="@" + friend))
    elif rng.random() < 0.05:
        lead = "@" + friend
    if rng.random() < (0.5 if long else 0.12):
        link = rng.choice(LINKS[topic])
        tail.append(f"({link})" if rng.random() < 0.1 else link)
    tail += pick_tags(rng, bank, topic, " ".join(sentences + tail), long)

    draft = Draft(
        bank,
        lead,
        sentences,
        tail,
        pick_emoji(rng, bank, tone, topic),
        emoji_first=rng.random() < 0.08,
        paragraphs=long and len(sentences) > 1 and rng.random() < 0.3,
    )
    while len(draft.render()) > MAX_LEN and draft.shorten():
        pass
    return draft.render(), False


def pick_core(
    rng: random.Random, bank: Bank, tone: str, phase: str, used: Counter[str]
) -> tuple[str, str, str]:
    """A (tone, topic, core sentence) that fits this phase of the morning, favouring sentences not used yet.

    When the language has nothing in that tone for this phase, the nearest tone that has something is used.
    """
    weights = TOPIC_WEIGHTS[phase]
    fallbacks = {"pos": ["neu"], "neu": ["pos"], "neg": ["sarc", "neu"], "sarc": ["neg", "neu"]}
    for candidate_tone in [tone, *fallbacks[tone]]:
        candidates = [
            (topic, core)
            for topic, by_tone in bank.cores.items()
            for core in by_tone.get(candidate_tone, [])
            if weights.get(topic, 0)
        ]
        if candidates:
            scores = [weights[topic] / (1 + 6 * used[core]) for topic, core in candidates]
            topic, core = rng.choices(candidates, scores)[0]
            return candidate_tone, topic, core
    raise ValueError(f"no {tone} sentence in {bank.lang} for the {phase} phase")


# ---------------------------------------------------------------------------------------------------------
# Images


@dataclass(frozen=True)
class Photo:
    draw: Callable[[random.Random], tuple[str, str]]  # (defs, body) of an 800x600 picture
    alts: dict[str, list[str]]  # alt texts per language; "en" is the fallback


FONT = 'font-family="Helvetica, Arial, sans-serif"'


def svg(title: str, defs: str, body: str, size: tuple[int, int] = (800, 600)) -> str:
    w, h = size
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" '
        f'width="{w}" height="{h}" role="img">\n'
        f"<title>{escape(title)}</title>\n<defs>{defs}</defs>\n{body}\n</svg>\n"
    )


def _stops(stops: list[str]) -> str:
    out = []
    for stop in stops:
        offset, colour, *opacity = stop.split()
        extra = f' stop-opacity="{opacity[0]}"' if opacity else ""
        out.append(f'<stop offset="{offset}" stop-color="{colour}"{extra}/>')
    return "".join(out)


def linear(gid: str, stops: list[str], horizontal: bool = False) -> str:
    x2, y2 = (1, 0) if horizontal else (0, 1)
    return f'<linearGradient id="{gid}" x1="0" y1="0" x2="{x2}" y2="{y2}">{_stops(stops)}</linearGradient>'


def radial(gid: str, stops: list[str], at: str = 'cx="50%" cy="50%" r="50%"') -> str:
    return f'<radialGradient id="{gid}" {at}>{_stops(stops)}</radialGradient>'


def text(x: int, y: int, size: int, fill: str, content: str, extra: str = "") -> str:
    return (
        f'<text x="{x}" y="{y}" font-size="{size}" fill="{fill}" text-anchor="middle" {FONT}{extra}>'
        f"{escape(content)}</text>"
    )


AURORA_SCREEN = ["0 #0f2a44", "0.55 #1fae8c", "1 #6a3fb5"]


def draw_x3_front(rng: random.Random) -> tuple[str, str]:
    defs = (
        linear("bg", ["0 #0b1e3a", "1 #12526b"])
        + linear("scr", AURORA_SCREEN)
        + '<clipPath id="s"><rect x="302" y="68" width="196" height="452" rx="28"/></clipPath>'
    )
    body = (
        '<rect width="800" height="600" fill="url(#bg)"/>'
        '<ellipse cx="400" cy="550" rx="180" ry="16" fill="#000" opacity=".35"/>'
        '<rect x="290" y="56" width="220" height="476" rx="36" fill="#1b2330"/>'
        '<g clip-path="url(#s)"><rect x="302" y="68" width="196" height="452" fill="url(#scr)"/>'
        '<path d="M302 330C360 260 430 370 498 280V520H302Z" fill="#2de2a6" opacity=".3"/>'
        '<path d="M302 390C370 330 420 430 498 350V520H302Z" fill="#9b6bff" opacity=".25"/>'
        '<path d="M302 68H390L302 250Z" fill="#fff" opacity=".07"/></g>'
        '<circle cx="400" cy="88" r="7" fill="#05080d"/>'
        + text(400, 178, 46, "#fff", "08:00")
        + text(400, 206, 16, "#d8f5ee", "Thursday 12 March")
        + '<rect x="510" y="170" width="5" height="64" rx="2" fill="#2a3442"/>'
    )
    return defs, body


def draw_x3_camera(rng: random.Random) -> tuple[str, str]:
    defs = (
        linear("bg", ["0 #e9eef2", "1 #c9d3db"])
        + linear("back", ["0 #3b82b8", "1 #1d4f7a"], horizontal=True)
        + radial("lens", ["0 #3a5f8a", "0.7 #0b1220", "1 #05070a"])
    )
    lenses = "".join(
        f'<circle cx="{cx}" cy="{cy}" r="36" fill="#0c0f14"/>'
        f'<circle cx="{cx}" cy="{cy}" r="26" fill="url(#lens)"/>'
        f'<circle cx="{cx - 8}" cy="{cy - 8}" r="6" fill="#8fb4ff" opacity=".6"/>'
        for cx, cy in ((360, 140), (360, 230), (430, 185))
    )
    body = (
        '<rect width="800" height="600" fill="url(#bg)"/>'
        '<ellipse cx="400" cy="560" rx="190" ry="14" fill="#000" opacity=".18"/>'
        '<rect x="290" y="40" width="240" height="500" rx="38" fill="url(#back)"/>'
        '<rect x="310" y="90" width="170" height="196" rx="30" fill="#163d60" opacity=".75"/>'
        + lenses
        + '<circle cx="455" cy="120" r="9" fill="#fff3c4"/>'
        + text(410, 470, 22, "#dbeafe", "nordlys", ' letter-spacing="6"')
        + '<path d="M300 60L360 60L300 200Z" fill="#fff" opacity=".12"/>'
    )
    return defs, body


def draw_stage(rng: random.Random) -> tuple[str, str]:
    defs = linear("scr", ["0 #0a1a3a", "1 #102a5c"], horizontal=True) + linear(
        "aur", ["0 #38f2b0", "1 #9b6bff"], horizontal=True
    )
    heads = "".join(
        f'<circle cx="{25 + i * 50 + rng.randint(-8, 8)}" cy="{560 + rng.randint(-10, 10)}" r="24" '
        f'fill="#0e1220" stroke="#1f2740" stroke-width="2"/>'
        for i in range(16)
    )
    phones = "".join(
        f'<rect x="{x}" y="{rng.randint(470, 500)}" width="16" height="28" rx="3" fill="#9fe8d8"/>'
        for x in (118, 340, 515, 660)
    )
    body = (
        '<rect width="800" height="600" fill="#070b18"/>'
        '<rect x="140" y="50" width="520" height="270" rx="6" fill="url(#scr)"/>'
        '<path d="M140 240C250 150 330 260 450 170S620 160 660 120V320H140Z" fill="url(#aur)" opacity=".55"/>'
        '<path d="M140 280C260 210 380 300 500 230S620 230 660 200V320H140Z" fill="url(#aur)" opacity=".35"/>'
        + text(400, 140, 54, "#fff", "NORDLYS X3", ' font-weight="700" letter-spacing="4"')
        + '<polygon points="40,0 100,0 330,560 180,560" fill="#fff" opacity=".06"/>'
        '<polygon points="700,0 760,0 620,560 470,560" fill="#fff" opacity=".06"/>'
        '<polygon points="80,400 720,400 800,470 0,470" fill="#1c2238"/>'
        '<ellipse cx="400" cy="402" rx="70" ry="10" fill="#fff" opacity=".15"/>'
        '<circle cx="400" cy="318" r="16" fill="#0b0f1c"/>'
        '<rect x="382" y="336" width="36" height="66" rx="12" '
        'fill="#0b0f1c"/>' + heads + phones
    )
    return defs, body


def draw_queue(rng: random.Random) -> tuple[str, str]:
    defs = linear("sky", ["0 #8fb8de", "1 #f7c59f"]) + linear("glass", ["0 #1d4f7a", "1 #2aa5a0"])
    coats = ["#2f4858", "#86bbd8", "#f26419", "#33658a", "#6d597a", "#355070", "#b56576", "#3d5a40"]
    skins = ["#f1c27d", "#c68642", "#8d5524", "#e0ac69", "#ffdbac"]
    people = []
    for i, coat in enumerate(coats):
        x, h = 40 + i * 46, rng.randint(78, 96)
        top = 470 - h
        people.append(
            f'<rect x="{x}" y="{top}" width="30" height="{h}" rx="12" fill="{coat}"/>'
            f'<circle cx="{x + 15}" cy="{top - 14}" r="13" fill="{rng.choice(skins)}"/>'
        )
        if i in (0, 3):
            people.append(f'<rect x="{x + 26}" y="{top + 30}" width="10" height="14" rx="2" fill="#fff"/>')
    body = (
        '<rect width="800" height="600" fill="url(#sky)"/>'
        '<rect x="440" y="120" width="360" height="350" fill="#e8e2d8"/>'
        '<rect x="470" y="150" width="300" height="54" fill="#0b1e3a"/>'
        + text(620, 188, 30, "#7ff0c9", "NORDLYS", ' letter-spacing="6"')
        + '<rect x="470" y="230" width="190" height="240" fill="url(#glass)"/>'
        '<rect x="680" y="230" width="90" height="240" fill="#2b3a4a"/>'
        '<rect x="0" y="470" width="800" height="130" fill="#9aa0a6"/>'
        '<rect x="0" y="470" width="800" height="6" fill="#7b8187"/>' + "".join(people)
    )
    return defs, body


def draw_office_wall(rng: random.Random) -> tuple[str, str]:
    defs = linear("floor", ["0 #d6c7a9", "1 #b49f7c"])
    cards = "".join(
        f'<rect x="{x}" y="120" width="130" height="150" rx="8" fill="#fff" opacity=".92"/>'
        f'<circle cx="{x + 20}" cy="142" r="10" fill="{c}"/>'
        f'<rect x="{x + 36}" y="136" width="70" height="10" rx="5" fill="#94a3b8"/>'
        + "".join(
            f'<rect x="{x + 14}" y="{170 + j * 18}" width="{rng.randint(70, 102)}" height="9" rx="4" '
            f'fill="#cbd5e1"/>'
            for j in range(4)
        )
        for x, c in ((195, "#34d399"), (335, "#60a5fa"), (475, "#f472b6"))
    )
    body = (
        '<rect width="800" height="430" fill="#eef1f4"/>'
        '<rect y="430" width="800" height="170" fill="url(#floor)"/>'
        '<rect x="170" y="60" width="460" height="270" rx="10" fill="#111827"/>'
        '<rect x="180" y="70" width="440" height="250" rx="4" fill="#0b1e3a"/>'
        + text(240, 100, 18, "#7ff0c9", "#nordlys")
        + cards
        + '<rect x="195" y="290" width="240" height="10" rx="5" fill="#34d399"/>'
        '<rect x="435" y="290" width="110" height="10" fill="#94a3b8"/>'
        '<rect x="545" y="290" width="60" height="10" rx="5" fill="#f87171"/>'
        '<rect x="60" y="360" width="60" height="70" rx="6" fill="#b45309"/>'
        '<ellipse cx="75" cy="330" rx="18" ry="40" fill="#15803d" transform="rotate(-20 75 330)"/>'
        '<ellipse cx="105" cy="325" rx="18" ry="44" fill="#16a34a" transform="rotate(18 105 325)"/>'
        '<ellipse cx="90" cy="310" rx="14" ry="46" fill="#22c55e"/>'
        '<rect x="300" y="440" width="200" height="22" rx="6" fill="#475569"/>'
        '<rect x="320" y="462" width="12" height="40" fill="#334155"/><rect x="468" y="462" width="12" '
        'height="40" fill="#334155"/>'
    )
    return defs, body


def draw_unboxing(rng: random.Random) -> tuple[str, str]:
    defs = linear("wood", ["0 #c79a6b", "1 #a9784c"]) + linear("scr", AURORA_SCREEN)
    body = (
        '<rect width="800" height="600" fill="url(#wood)"/>'
        '<g transform="rotate(-12 210 300)">'
        '<rect x="90" y="190" width="240" height="300" rx="10" fill="#000" '
        'opacity=".15" transform="translate(8 10)"/><rect x="90" y="190" width="240" height="300" rx="10" '
        'fill="#f5f5f2"/>' + text(210, 350, 30, "#1d4f7a", "nordlys", ' letter-spacing="4"') + "</g>"
        '<rect x="388" y="168" width="320" height="320" rx="12" fill="#000" opacity=".15"/>'
        '<rect x="380" y="160" width="320" height="320" rx="12" fill="#fafafa" '
        'stroke="#ddd" stroke-width="2"/>'
        '<rect x="400" y="180" width="280" height="280" rx="8" fill="#e6e9ec"/>'
        '<rect x="470" y="196" width="140" height="250" rx="20" fill="#1b2330"/>'
        '<rect x="478" y="204" width="124" height="234" rx="15" fill="url(#scr)"/>'
        '<circle cx="590" cy="540" r="34" fill="none" stroke="#f5f5f2" stroke-width="8"/>'
        '<circle cx="590" cy="540" r="20" fill="none" stroke="#f5f5f2" stroke-width="8"/>'
    )
    return defs, body


def draw_battery_chart(rng: random.Random) -> tuple[str, str]:
    def points(curve: list[tuple[float, float]]) -> str:
        return " ".join(f"{100 + hours * 19.375:.0f},{480 - pct * 3.6:.0f}" for hours, pct in curve)

    x3 = [(0, 100), (4, 88), (8, 75), (12, 63), (16, 50), (20, 38), (24, 25), (28, 11), (31, 0)]
    k9 = [(0, 100), (4, 84), (8, 67), (12, 50), (16, 34), (20, 17), (24, 0)]
    defs = linear("fill", ["0 #12a08a .35", "1 #12a08a 0"])
    grid = "".join(
        f'<line x1="100" y1="{y}" x2="720" y2="{y}" stroke="#e2e8f0" stroke-width="2"/>'
        for y in (120, 210, 300, 390)
    )
    body = (
        '<rect width="800" height="600" fill="#f9fbfc"/>'
        + text(400, 70, 28, "#0f172a", "Battery test: video playback", ' font-weight="700"')
        + grid
        + '<line x1="100" y1="480" x2="720" y2="480" stroke="#334155" stroke-width="3"/>'
        '<line x1="100" y1="110" x2="100" y2="480" stroke="#334155" stroke-width="3"/>'
        f'<polygon points="100,480 {points(x3)}" fill="url(#fill)"/>'
        f'<polyline points="{points(k9)}" fill="none" stroke="#94a3b8" stroke-width="5" '
        'stroke-dasharray="12 8"/>'
        f'<polyline points="{points(x3)}" fill="none" stroke="#12a08a" stroke-width="6"/>'
        + text(70, 128, 18, "#475569", "100%")
        + text(76, 486, 18, "#475569", "0%")
        + text(100, 512, 18, "#475569", "0 h")
        + text(410, 512, 18, "#475569", "16 h")
        + text(720, 512, 18, "#475569", "32 h")
        + '<rect x="480" y="140" width="22" height="8" fill="#12a08a"/>'
        '<rect x="480" y="175" width="22" height="8" fill="#94a3b8"/>'
        + text(580, 150, 18, "#0f172a", "Nordlys X3: 31 h")
        + text(580, 185, 18, "#0f172a", "Kestrel K9: 24 h")
    )
    return defs, body


def draw_coffee(rng: random.Random) -> tuple[str, str]:
    defs = linear("table", ["0 #6b4a33", "1 #4a3222"]) + radial("coffee", ["0 #c69c6d", "1 #7a4e2d"])
    body = (
        '<rect width="800" height="600" fill="url(#table)"/>'
        '<circle cx="360" cy="300" r="200" fill="#000" opacity=".2"/>'
        '<circle cx="350" cy="290" r="190" fill="#f3efe9"/><circle cx="350" cy="290" r="140" fill="#fff"/>'
        '<circle cx="350" cy="290" r="115" fill="url(#coffee)"/>'
        '<path d="M260 300C300 240 340 330 380 260S430 250 445 240" fill="none" stroke="#f5e6d3" '
        'stroke-width="16" stroke-linecap="round"/>'
        '<path d="M270 335C310 290 350 360 395 305S430 300 440 290" fill="none" stroke="#f5e6d3" '
        'stroke-width="10" stroke-linecap="round" opacity=".8"/>'
        '<rect x="480" y="140" width="26" height="150" rx="13" fill="#d1d5db" '
        'transform="rotate(35 493 215)"/>'
        '<rect x="600" y="380" width="260" height="300" rx="30" fill="#1b2330" '
        'transform="rotate(-15 730 530)"/>'
        '<rect x="612" y="392" width="236" height="276" rx="22" fill="#1fae8c" opacity=".8" '
        'transform="rotate(-15 730 530)"/>'
    )
    return defs, body


def draw_aurora_sample(rng: random.Random) -> tuple[str, str]:
    defs = linear("sky", ["0 #020617", "0.6 #0b2545", "1 #13315c"]) + linear(
        "aur", ["0 #3cf2a5 0", "0.3 #3cf2a5 .8", "0.7 #8b5cf6 .6", "1 #8b5cf6 0"], horizontal=True
    )
    stars = "".join(
        f'<circle cx="{rng.randrange(800)}" cy="{rng.randrange(280)}" r="{rng.choice((1, 1.5, 2))}" '
        f'fill="#fff" opacity=".{rng.randint(5, 9)}"/>'
        for _ in range(30)
    )
    aurora = (
        '<path d="M0 230C150 120 260 260 420 150S680 90 800 170V260C650 200 560 300 400 250S120 300 0 320Z" '
        'fill="url(#aur)"/><path d="M0 180C200 90 300 200 470 110S700 80 800 120V170C640 130 560 210 430 '
        '180S160 230 0 250Z" fill="url(#aur)" opacity=".5"/>'
    )
    body = (
        '<rect width="800" height="600" fill="url(#sky)"/>'
        + stars
        + aurora
        + '<g transform="matrix(1 0 0 -.45 0 620)" opacity=".35">'
        + aurora
        + "</g>"
        '<polygon points="0,420 90,330 170,390 280,300 390,400 500,320 620,410 700,350 800,400 '
        '800,470 0,470" '
        'fill="#050a14"/><rect y="470" width="800" height="130" fill="#07111f" opacity=".6"/>'
    )
    return defs, body


def draw_parcel(rng: random.Random) -> tuple[str, str]:
    defs = linear("wall", ["0 #e2ddd5", "1 #cfc8bd"])
    body = (
        '<rect width="800" height="600" fill="url(#wall)"/>'
        '<rect x="270" y="40" width="260" height="440" fill="#3c5a73"/>'
        '<rect x="295" y="70" width="210" height="160" fill="#34506a"/>'
        '<rect x="295" y="260" width="210" height="190" fill="#34506a"/>'
        '<circle cx="490" cy="270" r="9" fill="#e5c07b"/>'
        '<rect y="480" width="800" height="120" fill="#8a8f94"/>'
        '<polygon points="250,380 470,380 540,340 320,340" fill="#dcb27a"/>'
        '<polygon points="470,380 540,340 540,500 470,540" fill="#b08452"/>'
        '<rect x="250" y="380" width="220" height="160" fill="#c89b62"/>'
        '<rect x="350" y="380" width="22" height="160" fill="#e8d3a8" opacity=".7"/>'
        '<rect x="270" y="400" width="70" height="60" fill="#fff"/>'
        '<line x1="276" y1="445" x2="334" y2="445" stroke="#111" stroke-width="18" '
        'stroke-dasharray="2 2 4 1 1 3"/>'
        '<rect x="276" y="408" width="50" height="5" fill="#94a3b8"/><rect x="276" y="418" width="38" '
        'height="5" fill="#94a3b8"/>'
        '<circle cx="425" cy="460" r="28" fill="#1d4f7a"/>'
        + text(425, 468, 22, "#fff", "X3", ' font-weight="700"')
    )
    return defs, body


def draw_comparison(rng: random.Random) -> tuple[str, str]:
    defs = (
        linear("bg", ["0 #f2f4f7", "1 #dfe5ec"])
        + linear("scr", AURORA_SCREEN)
        + linear("grey", ["0 #6b7280", "1 #374151"])
    )
    body = (
        '<rect width="800" height="600" fill="url(#bg)"/>'
        '<rect x="130" y="70" width="200" height="410" rx="32" fill="#1d4f7a"/>'
        '<rect x="142" y="82" width="176" height="386" rx="24" fill="url(#scr)"/>'
        '<rect x="470" y="80" width="196" height="400" rx="24" fill="#4a4f57"/>'
        '<rect x="482" y="92" width="172" height="376" rx="16" fill="url(#grey)"/>'
        + text(230, 530, 26, "#0f172a", "Nordlys X3", ' font-weight="700"')
        + text(568, 530, 26, "#0f172a", "Kestrel K9", ' font-weight="700"')
        + '<circle cx="400" cy="280" r="44" fill="#111827"/>'
        + text(400, 292, 32, "#fff", "vs", ' font-weight="700"')
    )
    return defs, body


def draw_support_chat(rng: random.Random) -> tuple[str, str]:
    defs = linear("bg", ["0 #e8f3f1", "1 #d5e4f0"])

    def bubble(y: int, mine: bool, line: str) -> str:
        x, fill, ink = (380, "#2b6c9e", "#fff") if mine else (280, "#e9edf1", "#111827")
        return f'<rect x="{x}" y="{y}" width="140" height="60" rx="18" fill="{fill}"/>' + "".join(
            text(x + 70, y + 25 + i * 20, 14, ink, part) for i, part in enumerate(line.split("|"))
        )

    body = (
        '<rect width="800" height="600" fill="url(#bg)"/>'
        '<rect x="250" y="30" width="300" height="540" rx="40" fill="#1b2330"/>'
        '<rect x="264" y="44" width="272" height="512" rx="30" fill="#fff"/>'
        '<rect x="264" y="44" width="272" height="64" rx="30" fill="#0b1e3a"/>'
        '<circle cx="300" cy="80" r="6" fill="#34d399"/>'
        + text(410, 86, 18, "#fff", "Nordlys Support")
        + bubble(130, False, "Hi! How can|we help today?")
        + bubble(210, True, "My eSIM won't|move over")
        + bubble(290, False, "Let's fix that|together 💙")
        + bubble(370, True, "Thank you!")
        + '<rect x="280" y="450" width="70" height="34" rx="17" fill="#e9edf1"/>'
        + "".join(f'<circle cx="{x}" cy="467" r="5" fill="#94a3b8"/>' for x in (300, 315, 330))
    )
    return defs, body


PHOTOS: dict[str, Photo] = {
    "x3-front": Photo(
        draw_x3_front,
        {
            "en": [
                "The Nordlys X3 seen from the front, its screen showing 08:00 over a green aurora wallpaper",
                "A Nordlys X3 standing upright on a dark background, lock screen lit up",
            ],
            "fi": ["Nordlys X3 edestä, näytöllä kello 08.00 ja vihreä revontulitausta"],
            "de": ["Das Nordlys X3 von vorne, auf dem Display 08:00 vor einem grünen Polarlicht-Hintergrund"],
            "es": [
                "El Nordlys X3 de frente, con la pantalla mostrando las 08:00 sobre un fondo de aurora verde"
            ],
            "fr": ["Le Nordlys X3 vu de face, l'écran affiche 08:00 sur un fond d'aurore verte"],
            "ja": ["正面から見たNordlys X3。画面にはオーロラの壁紙と08:00の時刻"],
            "ar": ["هاتف Nordlys X3 من الأمام وعلى شاشته الساعة 08:00 فوق خلفية شفق أخضر"],
            "nb": ["Nordlys X3 forfra, skjermen viser 08:00 over et grønt nordlys-bakgrunnsbilde"],
        },
    ),
    "x3-camera": Photo(
        draw_x3_camera,
        {
            "en": [
                "The back of a Fjord Blue X3 with its three-lens camera module",
                "Close-up of the X3 camera bump: three lenses and a flash on a blue back",
            ],
            "fi": ["Fjord Blue -värisen X3:n takapuoli ja kolmen linssin kameramoduuli"],
            "de": ["Die Rückseite eines X3 in Fjord Blue mit dem Kameramodul aus drei Linsen"],
            "es": ["La parte trasera de un X3 en Fjord Blue con su módulo de tres cámaras"],
            "fr": ["Le dos d'un X3 Fjord Blue et son module photo à trois objectifs"],
            "ja": ["Fjord BlueのX3の背面。3つのレンズが並ぶカメラ部分"],
            "ar": ["الجهة الخلفية لهاتف X3 باللون Fjord Blue مع وحدة كاميرا بثلاث عدسات"],
            "nb": ["Baksiden av en X3 i Fjord Blue med kameramodulen med tre linser"],
        },
    ),
    "stage": Photo(
        draw_stage,
        {
            "en": [
                "The launch stage: a presenter under spotlights before a giant screen reading NORDLYS X3",
                "Audience phones held up towards the launch stage, aurora graphics on the big screen",
            ],
            "fi": ["Julkaisulava: esiintyjä valokeilassa jättimäisen NORDLYS X3 -näytön edessä"],
            "de": [
                "Die Launch-Bühne: eine Person im Scheinwerferlicht vor einer riesigen Leinwand mit NORDLYS "
                "X3"
            ],
            "es": [
                "El escenario del lanzamiento: una persona bajo los focos ante una pantalla gigante con "
                "NORDLYS X3"
            ],
            "fr": [
                "La scène du lancement : une personne sous les projecteurs devant un écran géant NORDLYS X3"
            ],
            "ja": ["発表会のステージ。スポットライトの下の登壇者と「NORDLYS X3」の大画面"],
            "ar": ["مسرح الإطلاق: مقدم تحت الأضواء أمام شاشة عملاقة مكتوب عليها NORDLYS X3"],
            "nb": ["Lanseringsscenen: en person i spotlyset foran en kjempeskjerm med NORDLYS X3"],
        },
    ),
    "queue": Photo(
        draw_queue,
        {
            "en": [
                "A queue of people in coats outside a Nordlys store at dawn",
                "Early-morning line outside the Nordlys shop, the first customers holding coffee cups",
            ],
            "fi": ["Ihmisjono Nordlys-myymälän edessä aamunkoitteessa"],
            "de": ["Eine Schlange von Menschen in Jacken vor einem Nordlys-Store in der Morgendämmerung"],
            "es": ["Una cola de gente con abrigo frente a una tienda Nordlys al amanecer"],
            "fr": ["Une file de personnes en manteau devant une boutique Nordlys à l'aube"],
            "ja": ["夜明けのNordlysストアの前にできた行列"],
            "ar": ["طابور من الناس بمعاطفهم أمام متجر Nordlys عند الفجر"],
            "nb": ["En kø med folk i jakker utenfor en Nordlys-butikk i soloppgangen"],
        },
    ),
    "office-wall": Photo(
        draw_office_wall,
        {
            "en": [
                "The office lobby screen showing live #nordlys posts, a potted plant beside it",
                "A big wall display in the office with three post cards and a sentiment bar",
            ],
            "fi": ["Toimiston aulan näyttö, jolla näkyy #nordlys-postauksia livenä, vieressä viherkasvi"],
            "de": ["Der Bildschirm in der Bürolobby zeigt live #nordlys-Posts, daneben eine Topfpflanze"],
            "es": [
                "La pantalla del vestíbulo de la oficina con publicaciones de #nordlys en directo y una "
                "planta"
            ],
            "fr": [
                "L'écran du hall du bureau affiche en direct des posts #nordlys, à côté d'une plante verte"
            ],
            "ja": ["オフィスのロビーの大画面に#nordlysの投稿がリアルタイムで表示され、横に観葉植物"],
            "ar": ["شاشة بهو المكتب تعرض منشورات #nordlys مباشرة وبجانبها نبتة"],
            "nb": [
                "Skjermen i kontorlobbyen viser #nordlys-innlegg direkte, med en potteplante ved siden av"
            ],
        },
    ),
    "unboxing": Photo(
        draw_unboxing,
        {
            "en": [
                "An opened X3 box on a wooden table, the phone still sitting in its tray",
                "Unboxing the X3: lid off, the phone in its paper tray and a coiled cable beside it",
            ],
            "fi": ["Avattu X3:n laatikko puupöydällä, puhelin yhä pakkauksessaan"],
            "de": ["Ein geöffneter X3-Karton auf einem Holztisch, das Handy liegt noch in der Schale"],
            "es": ["Una caja del X3 abierta sobre una mesa de madera, con el móvil todavía dentro"],
            "fr": ["Une boîte de X3 ouverte sur une table en bois, le téléphone encore dans son logement"],
            "ja": ["木のテーブルの上で開けたX3の箱。本体はまだ箱の中"],
            "ar": ["علبة X3 مفتوحة على طاولة خشبية والهاتف ما زال في مكانه داخلها"],
            "nb": ["En åpnet X3-eske på et trebord, telefonen ligger fortsatt i esken"],
        },
    ),
    "battery-chart": Photo(
        draw_battery_chart,
        {
            "en": [
                "Line chart of a video playback test: the X3 battery lasts about 31 hours, the Kestrel K9 "
                "about 24",
                "Battery chart: the X3 line stays above the Kestrel K9 line for the whole test",
            ],
            "fi": ["Viivakaavio videotoistotestistä: X3:n akku kestää noin 31 tuntia, Kestrel K9:n noin 24"],
            "de": [
                "Liniendiagramm eines Videotests: Der Akku des X3 hält etwa 31 Stunden, der des Kestrel K9 "
                "etwa 24"
            ],
            "es": [
                "Gráfico de una prueba de vídeo: la batería del X3 dura unas 31 horas y la del Kestrel K9 "
                "unas 24"
            ],
            "fr": [
                "Graphique d'un test vidéo : la batterie du X3 tient environ 31 heures, celle du Kestrel K9 "
                "environ 24"
            ],
            "ja": ["動画再生テストのグラフ。X3は約31時間、Kestrel K9は約24時間もつ"],
            "ar": [
                "رسم بياني لاختبار تشغيل الفيديو: بطارية X3 تدوم نحو 31 ساعة وبطارية Kestrel K9 نحو 24 ساعة"
            ],
            "nb": [
                "Linjediagram fra en videotest: batteriet på X3 varer rundt 31 timer, Kestrel K9 rundt 24"
            ],
        },
    ),
    "coffee": Photo(
        draw_coffee,
        {
            "en": [
                "A latte with foam art shaped like the northern lights, the corner of a phone beside it",
                "Coffee cup seen from above on a wooden table, aurora swirls in the foam",
            ],
            "fi": ["Latte, jonka maitovaahtoon on piirretty revontulet, vieressä puhelimen kulma"],
            "de": ["Ein Latte mit Milchschaum in Form von Polarlichtern, daneben die Ecke eines Handys"],
            "es": ["Un café con leche con espuma en forma de aurora boreal y la esquina de un móvil al lado"],
            "fr": ["Un latte avec une mousse en forme d'aurore boréale, le coin d'un téléphone à côté"],
            "ja": ["オーロラ模様のラテアートと、横に置かれたスマホの角"],
            "ar": ["كوب لاتيه برسم يشبه الشفق القطبي على الرغوة وبجانبه طرف هاتف"],
            "nb": ["En latte med melkeskum formet som nordlys, med hjørnet av en telefon ved siden av"],
        },
    ),
    "aurora-sample": Photo(
        draw_aurora_sample,
        {
            "en": [
                "Sample photo: green and violet northern lights over dark mountains and a still lake",
                "Night shot of an aurora and stars reflected in a lake",
            ],
            "fi": ["Esimerkkikuva: vihreät ja violetit revontulet tummien tuntureiden ja tyynen järven yllä"],
            "de": ["Beispielfoto: grüne und violette Polarlichter über dunklen Bergen und einem stillen See"],
            "es": ["Foto de ejemplo: auroras verdes y violetas sobre montañas oscuras y un lago en calma"],
            "fr": [
                "Photo d'exemple : aurores vertes et violettes au-dessus de montagnes sombres et d'un lac "
                "calme"
            ],
            "ja": ["作例写真。暗い山と静かな湖の上に広がる緑と紫のオーロラ"],
            "ar": ["صورة نموذجية: شفق قطبي أخضر وبنفسجي فوق جبال داكنة وبحيرة هادئة"],
            "nb": ["Eksempelbilde: grønt og fiolett nordlys over mørke fjell og et stille vann"],
        },
    ),
    "parcel": Photo(
        draw_parcel,
        {
            "en": [
                "A cardboard parcel with an X3 sticker waiting on a doorstep",
                "Delivery box in front of a blue door, with a shipping label and barcode",
            ],
            "fi": ["Pahvinen paketti X3-tarralla odottaa oven edessä"],
            "de": ["Ein Paket mit X3-Aufkleber wartet vor der Haustür"],
            "es": ["Un paquete de cartón con una pegatina del X3 esperando en la puerta"],
            "fr": ["Un colis en carton avec un autocollant X3 posé devant une porte"],
            "ja": ["玄関先に置かれたX3のステッカー付きの段ボール箱"],
            "ar": ["طرد كرتوني عليه ملصق X3 ينتظر أمام الباب"],
            "nb": ["En pappeske med X3-klistremerke som venter på trappa"],
        },
    ),
    "comparison": Photo(
        draw_comparison,
        {
            "en": [
                "The Nordlys X3 and the Kestrel K9 side by side with a 'vs' badge between them",
                "Two phones compared: a blue Nordlys X3 on the left, a grey Kestrel K9 on the right",
            ],
            "fi": ["Nordlys X3 ja Kestrel K9 vierekkäin, välissä vs-merkki"],
            "de": ["Das Nordlys X3 und das Kestrel K9 nebeneinander, dazwischen ein vs-Symbol"],
            "es": ["El Nordlys X3 y el Kestrel K9 uno junto al otro, con un 'vs' entre ellos"],
            "fr": ["Le Nordlys X3 et le Kestrel K9 côte à côte, avec un badge 'vs' entre les deux"],
            "ja": ["Nordlys X3とKestrel K9を並べた比較画像"],
            "ar": ["هاتفا Nordlys X3 و Kestrel K9 جنبًا إلى جنب بينهما شارة vs"],
            "nb": ["Nordlys X3 og Kestrel K9 side om side, med et vs-merke mellom dem"],
        },
    ),
    "support-chat": Photo(
        draw_support_chat,
        {
            "en": [
                "A support chat on a phone: the customer asks about moving an eSIM and Nordlys Support "
                "replies",
                "Chat bubbles on a phone screen: Nordlys Support offering to help",
            ],
            "fi": ["Tukichatti puhelimen näytöllä: asiakas kysyy eSIMin siirrosta ja Nordlysin tuki vastaa"],
            "de": [
                "Ein Support-Chat auf dem Handy: Jemand fragt nach dem eSIM-Umzug, der Nordlys-Support "
                "antwortet"
            ],
            "es": [
                "Un chat de soporte en el móvil: alguien pregunta por la eSIM y el soporte de Nordlys "
                "responde"
            ],
            "fr": [
                "Un chat d'assistance sur un téléphone : une question sur l'eSIM et la réponse du support "
                "Nordlys"
            ],
            "ja": ["スマホのサポートチャット画面。eSIMの移行についての質問にNordlysサポートが返信"],
            "ar": ["محادثة دعم على شاشة هاتف: سؤال عن نقل الشريحة الإلكترونية ورد من دعم Nordlys"],
            "nb": ["En supportchat på telefonen: en kunde spør om å flytte eSIM, og Nordlys Support svarer"],
        },
    ),
}
TOPIC_PHOTOS = {
    "battery": ["battery-chart", "x3-front"],
    "camera": ["aurora-sample", "x3-camera"],
    "price": ["x3-front", "comparison", "unboxing"],
    "delivery": ["parcel", "unboxing"],
    "support": ["support-chat"],
    "event_pre": ["stage", "office-wall"],
    "event_live": ["stage"],
    "handson": ["x3-front", "x3-camera"],
    "event": ["stage"],
    "short_event": ["stage"],
    "short_after": ["x3-front", "unboxing"],
    "queue": ["x3-front", "unboxing"],
    "queue_wait": ["queue", "coffee"],
    "office": ["office-wall", "coffee"],
    "kestrel": ["comparison"],
    "design": ["x3-camera", "x3-front", "unboxing"],
}


def avatar_svg(person: Person, colours: tuple[str, str]) -> str:
    light, dark = colours
    size = 56 if len(person.initials) == 1 else 48
    defs = radial("g", [f"0 {light}", f"1 {dark}"], at='cx="35%" cy="30%" r="80%"')
    body = '<circle cx="64" cy="64" r="64" fill="url(#g)"/>' + text(
        64, 64, size, "#fff", person.initials, ' dy=".35em" font-weight="700"'
    )
    return svg(f"Avatar of {person.name}", defs, body, (128, 128))


def media_items(rng: random.Random, keys: list[str], lang: str) -> list[dict[str, str]]:
    items = []
    for key in keys:
        alts = PHOTOS[key].alts.get(lang) or PHOTOS[key].alts["en"]
        items.append({"url": f"{MEDIA_URL}{key}.svg", "alt": rng.choice(alts)})
    return items


# ---------------------------------------------------------------------------------------------------------
# The dataset


def timeline(rng: random.Random, count: int) -> list[datetime]:
    """`count` distinct, sorted timestamps (whole seconds) following RATES."""
    weights = [rate * (hm(end) - hm(start)).total_seconds() for start, end, rate in RATES]
    times: set[datetime] = set()
    while len(times) < count:
        start, end, _ = rng.choices(RATES, weights)[0]
        span = int((hm(end) - hm(start)).total_seconds())
        times.add(hm(start) + timedelta(seconds=rng.randrange(span)))
    return sorted(times)


def place_specials(rng: random.Random, times: list[datetime]) -> list[Special | None]:
    """Put each hand-written post in a random free slot of its window, the narrowest windows first."""
    slots: list[Special | None] = [None] * len(times)
    order = sorted(SPECIALS, key=lambda s: hm(s.window[1]) - hm(s.window[0]))
    for special in order:
        start, end = hm(special.window[0]), hm(special.window[1])
        free = [i for i, t in enumerate(times) if slots[i] is None and start <= t < end]
        if not free:  # a very narrow window with no post in it: take the nearest free slot
            free = [
                min((i for i, t in enumerate(times) if slots[i] is None), key=lambda i: abs(times[i] - start))
            ]
        slots[rng.choice(free)] = special
    return slots


def quota(
    rng: random.Random, targets: dict[str, int], taken: Counter[str], total: int, rest: str
) -> list[str]:
    """A shuffled list of `total` labels: each target minus what hand-written posts already took."""
    labels = [label for label, n in targets.items() for _ in range(max(0, n - taken[label]))]
    labels += [rest] * (total - len(labels))
    rng.shuffle(labels)
    return labels[:total]


def pick_person(rng: random.Random, lang: str, tone: str) -> Person:
    """Someone who writes in that language; grumpy people write more of the complaints."""
    people = [p for p in PEOPLE if p.lang == lang]
    weights = [(4 if p.grumpy and tone in ("neg", "sarc") else 1) * (2 if p.initials else 1) for p in people]
    return rng.choices(people, weights)[0]


@dataclass
class Complaint:
    handle: str
    topic: str


def support_reply(complaints: list[Complaint], replied: set[str]) -> str:
    """@NordlysSupport answers the latest complaint from someone it has not answered yet."""
    while complaints and complaints[-1].handle in replied:
        complaints.pop()
    complaint = complaints.pop() if complaints else Complaint("jstone", "other")
    replied.add(complaint.handle)
    return f"@{complaint.handle} {SUPPORT_REPLIES.get(complaint.topic, SUPPORT_REPLIES['other'])}"


def build(rng: random.Random) -> tuple[list[dict[str, object]], Counter[str], Counter[str]]:
    """The posts in time order, and how many there are of each tone and of each language.

    Generated posts get their language and tone from shuffled quotas, so the mix is exact; their topic follows
    the phase of the morning. Some optional fields are left out now and then, as real sources do.
    """
    times = timeline(rng, TOTAL)
    slots = place_specials(rng, times)
    generated = sum(1 for s in slots if s is None)
    special_langs = Counter(s.lang for s in SPECIALS)
    special_tones = Counter(s.tone for s in SPECIALS)
    langs = quota(rng, {k: v for k, v in LANGUAGES.items() if k != "en"}, special_langs, generated, "en")
    tones = quota(rng, TONES, special_tones, generated, "pos")

    posts: list[dict[str, object]] = []
    tone_counts: Counter[str] = Counter()
    lang_counts: Counter[str] = Counter()
    seen: set[str] = set()
    used: Counter[str] = Counter()
    complaints: list[Complaint] = []
    replied: set[str] = set()
    status_id = 1_101_000
    for index, (at, special) in enumerate(zip(times, slots, strict=True)):
        status_id += rng.randint(3, 40)
        media: list[str] = []
        if special is not None:
            lang, tone, person = special.lang, special.tone, BY_HANDLE.get(special.handle or "")
            text = special.text
            if text == "{reply}":
                text = support_reply(complaints, replied)
            media = list(special.media)
        else:
            lang, tone = langs.pop(), tones.pop()
            bank, wanted, phase = BANKS[lang], tone, phase_of(at)
            person = pick_person(rng, lang, tone)
            friend = rng.choice([p.handle for p in PEOPLE if p is not person])
            for _ in range(60):
                tone, topic, core = pick_core(rng, bank, wanted, phase, used)
                text, short = compose(rng, bank, tone, phase, topic, core, friend, used)
                if text not in seen:
                    break
            if short:
                topic = f"short_{phase}"
            else:
                used[core] += 1
            if tone in ("neg", "sarc") and lang == "en" and not short and at >= hm("08:30"):
                complaints.append(Complaint(person.handle, topic))
            if rng.random() < 0.012:
                person = None  # now and then a source gives no author at all
            pool = TOPIC_PHOTOS.get(topic, [])
            roll = rng.random()
            if pool and roll < 0.19:
                media = rng.sample(pool, k=2) if roll < 0.045 and len(pool) > 1 else [rng.choice(pool)]
        if text in seen:
            raise SystemExit(f"could not make a unique text for post {index + 1}: {text!r}")
        seen.add(text)
        tone_counts[tone] += 1
        lang_counts[lang] += 1

        post: dict[str, object] = {"id": f"demo-{index + 1:04d}", "text": text}
        if person is not None:
            post["author"] = person.as_author()
            if rng.random() < 0.88 or person in OFFICIAL:
                post["url"] = f"https://social.example/@{person.handle}/{status_id}"
        post["created_at"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        if media:
            post["media"] = media_items(rng, media, lang)
        if rng.random() < 0.91 or special is not None:
            post["lang"] = lang
        posts.append(post)
    return posts, tone_counts, lang_counts


def write_media(rng: random.Random) -> dict[str, int]:
    """Write every image; remove stale ones. Returns file sizes by name."""
    MEDIA_DIR.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    for key, photo in PHOTOS.items():
        defs, body = photo.draw(rng)
        files[f"{key}.svg"] = svg(photo.alts["en"][0], defs, body)
    with_avatar = [p for p in PEOPLE + OFFICIAL if p.initials]
    for person, colours in zip(with_avatar, AVATAR_COLOURS, strict=True):
        files[person.avatar_file] = avatar_svg(person, colours)
    for old in MEDIA_DIR.glob("*.svg"):
        if old.name not in files:
            old.unlink()
    for name, content in files.items():
        (MEDIA_DIR / name).write_text(content, encoding="utf-8", newline="\n")
    return {name: len(content.encode()) for name, content in files.items()}


def main() -> None:
    sizes = write_media(random.Random(SEED + 1))
    posts, tones, langs = build(random.Random(SEED))
    data = json.dumps(posts, ensure_ascii=False, indent=2) + "\n"
    POSTS_FILE.write_text(data, encoding="utf-8", newline="\n")

    images = Counter(len(m) for p in posts if isinstance(m := p.get("media"), list))
    print(f"{POSTS_FILE.name}: {len(posts)} posts, {len(data.encode()) // 1024} KiB")
    print("  languages: " + ", ".join(f"{k} {v}" for k, v in langs.most_common()))
    print(f"  without lang field: {sum(1 for p in posts if 'lang' not in p)}")
    print("  tones: " + ", ".join(f"{k} {v} ({v / len(posts):.0%})" for k, v in tones.most_common()))
    print(f"  images: {images[1]} posts with one, {images[2]} with two")
    print(f"media/: {len(sizes)} SVG files, {sum(sizes.values())} bytes, largest {max(sizes.values())}")


if __name__ == "__main__":
    main()
