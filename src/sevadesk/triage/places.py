"""Where a post is about: PIN codes, districts (English and Hindi), localities, stations, trains.

Reference data ships in `reference/` (built by scripts/build_reference.py from
../shared/data, plus `aliases.yaml` written by the team). Evidence is ranked: a station or a
PIN code beats a district name, which beats a locality, which beats a train's owning zone.
Triage reports the districts and stations as entities (`place_entities`); routing maps the
whole `Location` to a unit's jurisdiction.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from pathlib import Path

import yaml

from sevadesk.domain import post_text
from sevadesk.domain.messages import Entity
from sevadesk.triage.entities import about_railways, overlaps
from sevadesk.triage.text import WORD_CHARS, tokens

REFERENCE = Path(__file__).with_name("reference")
# Upper-case words that are station codes but far more often something else in a complaint.
_NOT_STATIONS = frozenset(
    [
        "AC",
        "PNR",
        "TT",
        "TTE",
        "RPF",
        "GRP",
        "SOS",
        "SMS",
        "OTP",
        "UPI",
        "FIR",
        "SHO",
        "DM",
        "SP",
        "IG",
        "DGP",
        "PM",
        "CM",
        "MP",
        "MLA",
        "IRCTC",
        "NTES",
        "TDR",
        "RAC",
        "WL",
        "GM",
        "DRM",
        "CCTV",
        "ATM",
        "SIM",
        "BSNL",
        "CBI",
        "ID",
        "OK",
        "PLS",
        "PLZ",
        "SIR",
        "NO",
        "IS",
        "IN",
        "ON",
        "AT",
        "TO",
        "OF",
        "BY",
        "IT",
        "ME",
        "MY",
        "WE",
        "UP",
        "HQ",
        # Acronyms of Indian public life that are also a minor station's code: officers
        # (SSP, SDM, DCP, ASP, BDO, ANM), bodies and exams (RTI, RRB, SSC, ALP, NTA, TET, KVS,
        # DDA, LDA, BMC, KMC, SSB, JAL nigam), banks and schemes (SBI, PNB, BOI, NPS, PPF,
        # APL, PDS, FPS), things (PAN card, LPG, PUC, LHB and DEMU coaches, BUS, OLA), places
        # (PGI, PHC, CHC, DPS, DTC), degrees (MBA, PHD, BED) and "CNF", a confirmed berth.
        # In the railway and helpdesk tweets of ../shared/data each of these that occurs
        # (RRB 11 times, RTI 4, LHB 2, DTC 2, BMC 1, SBI 1) means the acronym, never a station.
        "SSP",
        "SDM",
        "DCP",
        "ASP",
        "BDO",
        "ANM",
        "RTI",
        "RRB",
        "SSC",
        "ALP",
        "NTA",
        "TET",
        "KVS",
        "DDA",
        "LDA",
        "BMC",
        "KMC",
        "SSB",
        "JAL",
        "SBI",
        "PNB",
        "BOI",
        "NPS",
        "PPF",
        "APL",
        "PDS",
        "FPS",
        "PAN",
        "LPG",
        "PUC",
        "LHB",
        "DEMU",
        "BUS",
        "OLA",
        "PGI",
        "PHC",
        "CHC",
        "DPS",
        "DTC",
        "MBA",
        "PHD",
        "BED",
        "CNF",
        "IGL",
        "MGL",
        "MTNL",
        # Railway zones, parties, news agencies, auditors and units, as the railway tweets
        # use them ("According to CAG Report", "(Photo: ANI)", "BJP govt", "NCR then NR",
        # "late by 5 HRS"); Hathras, Bijapur and the rest are written out.
        "NCR",
        "SWR",
        "SER",
        "NWR",
        "BJP",
        "AAP",
        "TMC",
        "DMK",
        "TDP",
        "BRS",
        "NCP",
        "CPM",
        "JMM",
        "ANI",
        "PTI",
        "UNI",
        "CAG",
        "NIA",
        "HRS",
        "KMS",
        "MIN",
        "AMT",
        "USD",
        "DOB",
        "PSO",
    ]
)
_STATION_CODE = re.compile(r"(?<![A-Za-z])[A-Z]{3,5}(?![A-Za-z])")  # two letters: too many words
_STATION_NAME = re.compile(
    r"([A-Za-z][A-Za-z .]{1,30}?)\s+(?:jn|jn\.|junction|jct|railway station|rly stn|station|stn)\b",
    re.I,
)


# Station codes that are also words people write in capitals ("PLS", "SIR", "THE", "NEW").
_WORD_CODES = frozenset(
    """AGE AIR ALL AND ANY ARE BAD BIG BOY BTW CAN CAR DAD DUE FAN FAR GOD GOT HAD HAS JOB KID
    KYA LOG LOL LOT MAN MAY MOM NEW PAY PER PLS PUT SAB SAD SAT SAW SEE SET SHE SIR TEN THE THX
    TKS""".split()  # noqa: SIM905 (a word list)
)
_UPPER = re.compile(r"[A-Z]")
_LOWER = re.compile(r"[a-z]")
_RAILWAY_WORDS = frozenset({"central", "cantt", "cantonment", "terminus", "terminal"})
# Cheap tests (on the lower-cased post) for whether the slower station-name searches can find
# anything: a railway word, or a word that follows a station's name.
_HAS_RAILWAY_WORD = re.compile("|".join(sorted(_RAILWAY_WORDS)))
_HAS_STATION_WORD = re.compile(r" jn|junction| jct|station| stn")


# Words beside a place's name that say it is one (for the names in aliases.yaml's
# `need_context`): "in Gaya", "near Banda", "जिला बस्ती"; "Gaya district", "Banda se", "Basti
# mein". "of" is not one ("the price of puri").
_PLACE_BEFORE = frozenset(
    "in at from to near district dist distt zila zilla jila city जिला ज़िला जनपद".split()  # noqa: SIM905
)
_PLACE_AFTER = frozenset(
    """district dist distt zila zilla jila jile zile city se mein me police station stn thana
    जिला जिले ज़िला ज़िले जनपद में से पुलिस थाना""".split()  # noqa: SIM905
)

_NEXT_WORD = re.compile(r"[ \t]+(\w+)")


def _key(name: str) -> str:
    return re.sub(r"\b(?:jn|junction|jct)\b", "", " ".join(tokens(name))).strip()


@dataclass(frozen=True, slots=True)
class Place:
    kind: str  # station | pin | district | locality | train
    value: str  # station code, PIN, district name, locality, train number
    district: str | None = None
    state: str | None = None
    zone: str | None = None
    evidence: str = ""
    said: str = ""  # the words or code as the post wrote them (lower-case words for names)


@dataclass
class Location:
    """Everything a post says about where it happened, strongest evidence first."""

    places: list[Place] = field(default_factory=list)

    @property
    def districts(self) -> list[str]:
        return list(dict.fromkeys(p.district for p in self.places if p.district))

    @property
    def zones(self) -> list[str]:
        return list(dict.fromkeys(p.zone for p in self.places if p.zone))

    @property
    def stations(self) -> list[str]:
        return [p.value for p in self.places if p.kind == "station"]


class Gazetteer:
    def __init__(self, reference: Path = REFERENCE) -> None:
        def rows(name: str, *columns: str) -> list[tuple[str, ...]]:
            # Tuples of the named columns: 98,000 localities load in half the time that
            # csv.DictReader, or a dict per row, takes.
            reader = csv.reader(
                io.StringIO(gzip.decompress((reference / name).read_bytes()).decode())
            )
            header = next(reader)
            pick = itemgetter(*(header.index(c) for c in columns))
            return [pick(row) for row in reader]

        self.pins = {pin: (d, st) for pin, d, st in rows("pins.csv.gz", "pin", "district", "state")}
        self.stations = {
            code: (name, zone)
            for code, name, zone in rows("stations.csv.gz", "code", "name", "zone")
        }
        self.station_names = {_key(name): code for code, (name, _) in self.stations.items()}
        train_rows = rows("trains.csv.gz", "train", "name", "origin_code", "origin_zone")
        state_of = {d: s for d, s in self.pins.values()}
        self.names: dict[
            tuple[str, ...], tuple[str, str, str | None]
        ] = {}  # words → (kind, district, pin)
        pins = self.pins
        for locality, pin in rows("localities.csv.gz", "locality", "pin"):
            district, _ = pins[pin]
            # Stored already normalised (lower-case words, one space apart): split, not tokens.
            self.names[tuple(locality.split())] = ("locality", district, pin)
        aliases = yaml.safe_load((reference / "aliases.yaml").read_text(encoding="utf-8"))
        for district, spellings in aliases["localities"].items():
            for spelling in spellings:
                self.names[tuple(tokens(spelling))] = ("locality", district, None)
        for district in state_of:
            self.names[tuple(tokens(district))] = ("district", district, None)
        for district, spellings in aliases["districts"].items():
            for spelling in spellings:
                self.names[tuple(tokens(spelling))] = ("district", district, None)
        self.state_of = state_of
        self.need_context = frozenset(tuple(tokens(n)) for n in aliases.get("need_context", []))
        # Most words start no name at all. A word that does is tried as a one-word name and
        # at the lengths of the longer names its first two words start, longest first:
        # common words ("of", "no", "a") start some long locality name, rarely with the
        # word that follows them in a post.
        self._starts = frozenset(key[0] for key in self.names)
        lengths: dict[tuple[str, ...], set[int]] = {}
        for key in self.names:
            if len(key) > 1:
                lengths.setdefault(key[:2], set()).add(len(key))
        self._lengths = {pair: (*sorted(ns, reverse=True), 1) for pair, ns in lengths.items()}
        self.renamed: dict[str, str] = aliases.get("station_renames", {})
        for old, new in self.renamed.items():
            if old in self.stations:
                name, zone = self.stations[old]
                self.stations[new] = (self.stations.get(new, (name, zone))[0], zone)
        for code, zone in aliases.get("station_zones", {}).items():
            if code in self.stations:
                self.stations[code] = (self.stations[code][0], zone)
        for name, code in aliases.get("station_names", {}).items():
            self.station_names[_key(name)] = code
        self.station_names = {n: self.renamed.get(c, c) for n, c in self.station_names.items()}
        # Names such as "Kanpur Central" or "Agra Cantt" are stations without the word "station".
        self.railway_names = {
            name: code
            for name, code in self.station_names.items()
            if name.rsplit(" ", 1)[-1] in _RAILWAY_WORDS and " " in name
        }
        # Every word that `_codes` may read as a station (old codes included).
        self._code_words = frozenset(
            w for w in (*self.stations, *self.renamed) if self._could_be_code(w)
        )
        # A train belongs to its origin station's zone (after the corrections above).
        self.trains = {
            train: (name, self.stations.get(origin, ("", origin_zone))[1])
            for train, name, origin, origin_zone in train_rows
        }

    def _codes(self, text: str, lowered: str) -> list[str]:
        """Station codes written in capitals ("now at CNB"), as current codes: only in a post
        about the railways, outside handles, hashtags and links, not abbreviations or words,
        and not in a post written in capitals (where "THE" is a word, not Tundla)."""
        # Most posts hold no capitalised word that could be a station code: say so first.
        if self._code_words.isdisjoint(_STATION_CODE.findall(text)):
            return []
        # `lowered` still has the handles: a railway handle (@RailMinIndia) is railway context.
        if not about_railways(lowered):
            return []
        bare = post_text.without_entities(text)
        upper = len(_UPPER.findall(bare))
        if upper > 0.4 * max(upper + len(_LOWER.findall(bare)), 1):
            return []
        codes = (self.renamed.get(c, c) for c in _STATION_CODE.findall(bare))
        return [c for c in dict.fromkeys(codes) if self._could_be_code(c)]

    def _could_be_code(self, word: str) -> bool:
        code = self.renamed.get(word, word)
        return code in self.stations and code not in _NOT_STATIONS and code not in _WORD_CODES

    def _station(self, code: str, said: str) -> Place:
        name, zone = self.stations[code]
        return Place(
            "station",
            code,
            zone=zone,
            evidence=f"station {said!r} → {code} ({name}, {zone})",
            said=said,
        )

    def _named_as_place(self, toks: list[str], i: int, n: int, text: str) -> bool:
        """Whether the everyday word or given name at toks[i : i + n] is used as a place: a
        place word beside it and, where the post uses capitals at all, a capital ("in Puri",
        not "insect in puri") and no capitalised word after it."""
        before = toks[i - 1] if i else ""
        after = toks[i + n] if i + n < len(toks) else ""
        if before not in _PLACE_BEFORE and after not in _PLACE_AFTER:
            return False
        if text.islower() or text.isupper():
            return True  # no capitals to go by, or nothing but
        span = _span(text, text.lower(), " ".join(toks[i : i + n]))
        if span is None or text[span[0]].islower():
            return False
        # A capitalised word next makes it part of another name: "North India", "South
        # Mumbai", "Puri Express" (but "Gaya District", "Banda Police").
        follows = _NEXT_WORD.match(text, span[1])
        return not (
            follows
            and follows.group(1)[0].isupper()
            and follows.group(1).lower() not in _PLACE_AFTER
        )

    def _names_in(self, toks: list[str], text: str) -> list[Place]:
        """Districts and localities, longest name first at each word; a name's words start no
        other name. An everyday word that is also a name (`need_context`) counts only where
        the post uses it as a place."""
        found: list[Place] = []
        starts, lengths = self._starts, self._lengths
        if starts.isdisjoint(toks):
            return found  # most posts name no place
        after = 0  # the first word not yet inside a name
        for i in [i for i, tok in enumerate(toks) if tok in starts]:
            if i < after:
                continue
            for n in lengths.get(tuple(toks[i : i + 2]), (1,)):
                if i + n > len(toks):
                    continue
                key = tuple(toks[i : i + n])
                hit = self.names.get(key)
                if not hit or (
                    key in self.need_context and not self._named_as_place(toks, i, n, text)
                ):
                    continue
                kind, district, _pin = hit
                words = " ".join(key)
                found.append(
                    Place(
                        kind,
                        words,
                        district,
                        self.state_of.get(district),
                        evidence=f"{kind} {words!r} → {district}",
                        said=words,
                    )
                )
                after = i + n
                break
        return found

    def resolve(
        self,
        text: str,
        entities: list[Entity],
        toks: list[str] | None = None,
        trains: bool = True,
    ) -> Location:
        """`toks`: `tokens(text)`, when the caller already has them; `trains=False` leaves out
        the zones of the trains the post names (triage reports only districts and stations)."""
        toks = tokens(text) if toks is None else toks
        lowered = text.lower()
        places = [self._station(code, code) for code in self._codes(text, lowered)]

        def add_station(code: str | None, said: str) -> bool:
            if code is None or any(p.value == code for p in places):
                return False
            places.append(self._station(code, said))
            return True

        if _HAS_RAILWAY_WORD.search(lowered):
            joined = f" {' '.join(toks)} "
            for name, code in self.railway_names.items():
                if f" {name} " in joined:
                    add_station(code, name)
        for m in _STATION_NAME.finditer(text) if _HAS_STATION_WORD.search(lowered) else ():
            words = tokens(m.group(1))
            # "now at Kota Jn" → try "now at kota", "at kota", "kota"
            for start in range(len(words)):
                said = " ".join(words[start:])
                if add_station(self.station_names.get(said), said):
                    break
        for e in entities:
            if e.kind == "pin" and e.value in self.pins:
                district, state = self.pins[e.value]
                places.append(
                    Place(
                        "pin",
                        e.value,
                        district,
                        state,
                        evidence=f"PIN {e.value} → {district}, {state}",
                        said=e.value,
                    )
                )
        names = self._names_in(toks, text)
        places += [p for p in names if p.kind == "district"] + [
            p for p in names if p.kind == "locality"
        ]
        for e in entities if trains else ():
            if e.kind == "train" and e.value in self.trains:
                name, zone = self.trains[e.value]
                if zone:
                    places.append(
                        Place(
                            "train",
                            e.value,
                            zone=zone,
                            evidence=f"train {e.value} ({name}) → zone {zone}",
                        )
                    )
        return Location(places)


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    return Gazetteer()


@lru_cache(maxsize=8192)
def _words_pattern(said: str) -> re.Pattern[str]:
    """`said` (a code, or lower-case words) as whole words, any gap between them."""
    gap = f"[^{WORD_CHARS}]+"
    body = gap.join(map(re.escape, said.split()))
    return re.compile(f"(?<![{WORD_CHARS}]){body}(?![{WORD_CHARS}])", re.I)


_WORD_CHAR = re.compile(f"[{WORD_CHARS}]")


def _span(text: str, lowered: str, said: str) -> tuple[int, int] | None:
    """Where `said` stands in `text` as whole words: found directly when its words are one
    space apart in the post too (the usual case), else by a pattern allowing any gap."""
    if not said.strip():
        return None
    said = said.lower()
    start = lowered.find(said) if len(lowered) == len(text) else -1
    while start != -1:
        end = start + len(said)
        if not (start and _WORD_CHAR.match(lowered, start - 1)) and not _WORD_CHAR.match(
            lowered, end
        ):
            return start, end
        start = lowered.find(said, start + 1)
    m = _words_pattern(said).search(text)
    return m.span() if m else None


def place_entities(text: str, location: Location) -> list[Entity]:
    """The districts and railway stations a post names, as entities: a district once, by its
    name in the PIN directory, however the post named it (a PIN, a locality, a Hindi
    spelling); a station by its code. Places found only through a train's zone are not. The
    strongest evidence claims its words first: in "Kanpur Central station" the station CNB
    stands, not a post office called "Central Station"."""
    found: list[Entity] = []
    seen: set[tuple[str, str]] = set()
    lowered = text.lower()
    for place in location.places:
        if place.kind == "station":
            key = ("station", place.value)
        elif place.district and place.kind in ("pin", "district", "locality"):
            key = ("district", place.district)
        else:
            continue
        span = _span(text, lowered, place.said)
        if key in seen or span is None or overlaps(span, [(e.start, e.end) for e in found]):
            continue
        seen.add(key)
        found.append(Entity(key[0], key[1], *span))
    return sorted(found, key=lambda e: e.start)
