"""Synthetic but realistic X API v2 filtered-stream events for the demo and the benchmarks.

Posts are written from patterns seen in real complaints to Indian Railways, UP Police and
Passport Seva (see ../shared/data): English, Devanagari Hindi and romanised Hindi; grievances,
queries, SOS calls, praise and spam; follow-ups in the same thread and retweets.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from sevadesk.triage.verhoeff import check_digit

TRAINS = ["12951", "12004", "12229", "12555", "15707", "12301", "22436", "14006", "12419", "13005"]
STATIONS = ["LKO", "NDLS", "CNB", "PRYJ", "GKP", "BBS", "VSKP", "CSMT", "AGC", "DDU"]
DISTRICTS = [
    "Lucknow",
    "Kanpur",
    "Noida",
    "Ghaziabad",
    "Varanasi",
    "Prayagraj",
    "Agra",
    "Meerut",
    "Gorakhpur",
    "Bareilly",
]
PINS = [
    "226001",
    "208001",
    "201301",
    "201001",
    "221001",
    "211001",
    "282001",
    "250001",
    "273001",
    "243001",
]
COACHES = ["B4", "S7", "A1", "B2", "S3", "H1", "M2"]

RAIL = ["RailMinIndia", "RailwaySeva", "RailMadad"]
POLICE = ["Uppolice", "112UttarPradesh"]
PASSPORT = ["passportsevamea"]

# (weight, handles, hashtag, language, kind, text pattern)
PATTERNS: list[tuple[int, list[str], str | None, str, str, str]] = [
    (
        10,
        RAIL,
        None,
        "en",
        "grievance",
        "coach {coach} of {train} has no water since morning, PNR {pnr}. Please help",
    ),
    (
        8,
        RAIL,
        None,
        "en",
        "grievance",
        "Toilets in {coach} of train {train} are filthy and stinking. PNR {pnr}",
    ),
    (
        6,
        RAIL,
        None,
        "en",
        "grievance",
        "AC not working in coach {coach}, train {train}. Passengers are suffering. PNR {pnr}",
    ),
    (
        5,
        RAIL,
        "RailMadad",
        "en",
        "grievance",
        "Train {train} running 5 hours late, no announcement at {station}. Pathetic",
    ),
    (
        4,
        RAIL,
        None,
        "en",
        "grievance",
        "Stale food served by pantry in {train}, vendor overcharging. PNR {pnr}",
    ),
    (
        6,
        RAIL,
        None,
        "hi-Latn",
        "grievance",
        "train {train} ke coach {coach} mein paani nahi hai, koi sunta nahi. PNR {pnr}",
    ),
    (
        4,
        RAIL,
        None,
        "hi-Latn",
        "grievance",
        "bhai {train} bahut late hai, {station} par 3 ghante se wait kar rahe hain",
    ),
    (
        6,
        RAIL,
        None,
        "hi",
        "grievance",
        "ट्रेन {train} के कोच {coach} में बहुत गंदगी है, कृपया सफाई करवाएं। PNR {pnr}",
    ),
    (3, RAIL, None, "hi", "grievance", "गाड़ी संख्या {train} में एसी खराब है, यात्री परेशान हैं"),
    (
        3,
        RAIL,
        None,
        "en",
        "sos",
        "Medical emergency in coach {coach} of {train}, passenger unconscious. PNR {pnr} please send doctor",
    ),
    (
        2,
        RAIL,
        None,
        "en",
        "sos",
        "Some drunk men are harassing women in coach {coach} of train {train}. Urgent help needed. PNR {pnr}",
    ),
    (2, RAIL, None, "hi", "sos", "ट्रेन {train} कोच {coach} में मेरा बैग चोरी हो गया, मदद करें। PNR {pnr}"),
    (
        3,
        RAIL,
        None,
        "en",
        "query",
        "What is the current status of train {train}? Is it cancelled today?",
    ),
    (
        2,
        RAIL,
        None,
        "hi-Latn",
        "query",
        "TDR refund kab tak milega? PNR {pnr} ka paisa abhi tak nahi aaya",
    ),
    (
        5,
        RAIL,
        None,
        "en",
        "feedback",
        "Thank you for the quick response, the coach was cleaned within 30 minutes. Great job",
    ),
    (2, RAIL, None, "hi", "feedback", "त्वरित कार्रवाई के लिए धन्यवाद, बहुत अच्छी सेवा"),
    (
        4,
        RAIL,
        "IndianRailways",
        "en",
        "noise",
        "Beautiful view of the Vande Bharat crossing the bridge this morning",
    ),
    (
        6,
        POLICE,
        None,
        "en",
        "grievance",
        "Chain snatching near market in {district}, PIN {pin}. No patrolling at night",
    ),
    (
        4,
        POLICE,
        None,
        "en",
        "grievance",
        "Illegal parking blocking the road in {district} every evening, vehicle {vehicle}. Please act",
    ),
    (
        4,
        POLICE,
        None,
        "hi",
        "grievance",
        "{district} में थाने में एफआईआर दर्ज नहीं की जा रही है, कृपया मदद करें",
    ),
    (
        3,
        POLICE,
        None,
        "hi-Latn",
        "grievance",
        "{district} mein raat ko bahut shor hota hai, police koi action nahi le rahi",
    ),
    (
        3,
        POLICE,
        None,
        "en",
        "sos",
        "Emergency! A man is threatening my family with a knife, {district} PIN {pin}. Call me {mobile}",
    ),
    (
        2,
        POLICE,
        None,
        "en",
        "grievance",
        "Cyber fraud: Rs 45,000 debited via fake UPI link, {district}. My Aadhaar {aadhaar} was misused",
    ),
    (
        2,
        POLICE,
        None,
        "en",
        "feedback",
        "Thanks {district} police for the quick response last night, salute",
    ),
    (
        4,
        PASSPORT,
        "PassportSeva",
        "en",
        "grievance",
        "Police verification pending for 40 days, file no. LKO20{pnr}. Lucknow. Please help",
    ),
    (
        3,
        PASSPORT,
        "PassportSeva",
        "en",
        "query",
        "How do I reschedule my passport appointment in Ghaziabad?",
    ),
    (
        2,
        PASSPORT,
        None,
        "hi-Latn",
        "grievance",
        "passport abhi tak deliver nahi hua, speed post number EA{pnr}IN, Lucknow",
    ),
    (
        2,
        RAIL + POLICE,
        None,
        "en",
        "spam",
        "Earn money from home!!! click here for crypto giveaway, follow back",
    ),
]
FOLLOW_UPS = [
    ("en", "Still no action. It has been two hours."),
    ("en", "Any update? Problem continues."),
    ("hi-Latn", "abhi tak koi nahi aaya, kripya jaldi karein"),
    ("hi", "अभी तक कोई कार्रवाई नहीं हुई है"),
]


def _aadhaar(rng: random.Random) -> str:
    body = str(rng.randint(2, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(10))
    number = body + check_digit(body)
    return f"{number[:4]} {number[4:8]} {number[8:]}"


@dataclass
class TrafficGenerator:
    """Deterministic for a given seed; `events()` yields stream events forever."""

    seed: int = 7
    start: datetime = field(default_factory=lambda: datetime.now(UTC))
    spacing: timedelta = timedelta(seconds=1)
    follow_up_share: float = 0.12
    retweet_share: float = 0.05
    users: int = 5000

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._next_id = 1_900_000_000_000_000_000 + self.seed * 10_000_000_000
        self._weights = [p[0] for p in PATTERNS]
        self._recent: list[tuple[str, str, str]] = []  # (tweet id, author id, username)
        self._clock = self.start

    def _id(self) -> str:
        self._next_id += self.rng.randint(1, 50)
        return str(self._next_id)

    def _author(self) -> tuple[str, str]:
        n = self.rng.randint(1, self.users)
        return str(10_000_000 + n), f"citizen{n}"

    def _fill(self, pattern: str) -> str:
        r = self.rng
        return pattern.format(
            train=r.choice(TRAINS),
            station=r.choice(STATIONS),
            district=r.choice(DISTRICTS),
            pin=r.choice(PINS),
            coach=r.choice(COACHES),
            pnr=str(r.randint(2_000_000_000, 5_999_999_999)),
            mobile=f"9{r.randint(100_000_000, 999_999_999)}",
            aadhaar=_aadhaar(r),
            vehicle=f"UP{r.randint(10, 99)}{r.choice('ABCDEFGH')}{r.choice('ABCDEFGH')}{r.randint(1000, 9999)}",
        )

    def _event(
        self,
        text: str,
        author_id: str,
        username: str,
        *,
        reply_to: str | None = None,
        conversation: str | None = None,
        mentions: list[str],
        hashtags: list[str],
        retweet_of: dict[str, Any] | None = None,
        lang: str = "en",
    ) -> dict[str, Any]:
        tweet_id = self._id()
        self._clock += self.spacing
        data: dict[str, Any] = {
            "id": tweet_id,
            "text": text,
            "author_id": author_id,
            "created_at": self._clock.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "conversation_id": conversation or tweet_id,
            "lang": "hi" if lang == "hi" else ("en" if lang == "en" else "und"),
            "entities": {
                "mentions": [{"start": 0, "end": len(m) + 1, "username": m} for m in mentions],
                "hashtags": [{"start": 0, "end": len(h) + 1, "tag": h} for h in hashtags],
            },
        }
        users = [{"id": author_id, "username": username, "name": username.title()}]
        includes: dict[str, Any] = {"users": users}
        if reply_to:
            data["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
        if retweet_of:
            data["referenced_tweets"] = [{"type": "retweeted", "id": retweet_of["id"]}]
            data["text"] = "RT @" + retweet_of["_username"] + ": " + retweet_of["text"]
            original = {k: v for k, v in retweet_of.items() if not k.startswith("_")}
            includes["tweets"] = [original]
            users.append(
                {"id": retweet_of["author_id"], "username": retweet_of["_username"], "name": "x"}
            )
        return {
            "data": data,
            "includes": includes,
            "matching_rules": [{"id": "1", "tag": "agency-mentions"}],
        }

    def events(self) -> Iterator[dict[str, Any]]:
        last_original: dict[str, Any] | None = None
        while True:
            roll = self.rng.random()
            if roll < self.follow_up_share and self._recent:
                tweet_id, author_id, username = self.rng.choice(self._recent)
                lang, text = self.rng.choice(FOLLOW_UPS)
                yield self._event(
                    text,
                    author_id,
                    username,
                    reply_to=tweet_id,
                    conversation=tweet_id,
                    mentions=[],
                    hashtags=[],
                    lang=lang,
                )
                continue
            if roll < self.follow_up_share + self.retweet_share and last_original is not None:
                author_id, username = self._author()
                yield self._event(
                    "", author_id, username, mentions=[], hashtags=[], retweet_of=last_original
                )
                continue
            _, handles, hashtag, lang, _kind, pattern = self.rng.choices(PATTERNS, self._weights)[0]
            handle = self.rng.choice(handles)
            tags = [hashtag] if hashtag else []
            text = f"@{handle} " + self._fill(pattern) + (f" #{hashtag}" if hashtag else "")
            author_id, username = self._author()
            event = self._event(
                text, author_id, username, mentions=[handle], hashtags=tags, lang=lang
            )
            self._recent.append((event["data"]["id"], author_id, username))
            if len(self._recent) > 200:
                self._recent.pop(0)
            last_original = {**event["data"], "_username": username}
            yield event

    def lines(self, count: int) -> list[str]:
        stream = self.events()
        return [orjson.dumps(next(stream)).decode() for _ in range(count)]
