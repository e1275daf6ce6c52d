"""Where a post is about: PIN codes, districts (English and Hindi), localities, stations, trains.

Reference data ships in `reference/` (built by scripts/build_reference.py from
../shared/data, plus `aliases.yaml` written by the team). Evidence is ranked: a station or a
PIN code beats a district name, which beats a locality, which beats a train's owning zone.
"""

from __future__ import annotations

import csv
import gzip
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from sevadesk.domain.messages import Entity
from sevadesk.triage.entities import RAIL_HINTS
from sevadesk.triage.text import tokens

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
_NOT_CODES = re.compile(r"https?://\S+|[@#]\w+")
_UPPER = re.compile(r"[A-Z]")
_LOWER = re.compile(r"[a-z]")
_RAILWAY_WORDS = frozenset({"central", "cantt", "cantonment", "terminus", "terminal"})


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


@dataclass
class Location:
    """Everything a post says about where it happened, strongest evidence first."""

    places: list[Place] = field(default_factory=list)

    @property
    def districts(self) -> list[str]:
        seen: list[str] = []
        for p in self.places:
            if p.district and p.district not in seen:
                seen.append(p.district)
        return seen

    @property
    def zones(self) -> list[str]:
        seen: list[str] = []
        for p in self.places:
            if p.zone and p.zone not in seen:
                seen.append(p.zone)
        return seen

    @property
    def stations(self) -> list[str]:
        return [p.value for p in self.places if p.kind == "station"]


class Gazetteer:
    def __init__(self, reference: Path = REFERENCE) -> None:
        def rows(name: str) -> list[dict[str, str]]:
            with gzip.open(reference / name, "rt", encoding="utf-8") as fh:
                return list(csv.DictReader(fh))

        self.pins = {r["pin"]: (r["district"], r["state"]) for r in rows("pins.csv.gz")}
        self.stations = {r["code"]: (r["name"], r["zone"]) for r in rows("stations.csv.gz")}
        self.station_names = {_key(name): code for code, (name, _) in self.stations.items()}
        train_rows = rows("trains.csv.gz")
        state_of = {d: s for d, s in self.pins.values()}
        self.names: dict[
            tuple[str, ...], tuple[str, str, str | None]
        ] = {}  # words → (kind, district, pin)
        for r in rows("localities.csv.gz"):
            district, _ = self.pins[r["pin"]]
            self.names[tuple(tokens(r["locality"]))] = ("locality", district, r["pin"])
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
        # Longest name length per first word: most words start no name at all.
        self._longest: dict[str, int] = {}
        for key in self.names:
            self._longest[key[0]] = max(self._longest.get(key[0], 0), len(key))
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
        # A train belongs to its origin station's zone (after the corrections above).
        self.trains = {
            r["train"]: (r["name"], self.stations.get(r["origin_code"], ("", r["origin_zone"]))[1])
            for r in train_rows
        }

    def _codes(self, text: str, lowered: str) -> list[str]:
        """Station codes written in capitals ("now at CNB"), as current codes: only in a post
        about the railways, outside handles, hashtags and links, not abbreviations or words,
        and not in a post written in capitals (where "THE" is a word, not Tundla)."""
        # `lowered` still has the handles: a railway handle (@RailMinIndia) is railway context.
        if not any(hint in lowered for hint in RAIL_HINTS):
            return []
        bare = _NOT_CODES.sub(" ", text)
        upper = len(_UPPER.findall(bare))
        if upper > 0.4 * max(upper + len(_LOWER.findall(bare)), 1):
            return []
        codes = (self.renamed.get(c, c) for c in _STATION_CODE.findall(bare))
        return [
            c
            for c in dict.fromkeys(codes)
            if c in self.stations and c not in _NOT_STATIONS and c not in _WORD_CODES
        ]

    def _station(self, code: str, said: str) -> Place:
        name, zone = self.stations[code]
        return Place(
            "station", code, zone=zone, evidence=f"station {said!r} → {code} ({name}, {zone})"
        )

    def _names_in(self, toks: list[str]) -> list[Place]:
        found: list[Place] = []
        i = 0
        longest = self._longest
        while i < len(toks):
            for n in range(min(longest.get(toks[i], 0), len(toks) - i), 0, -1):
                hit = self.names.get(tuple(toks[i : i + n]))
                if hit:
                    kind, district, _pin = hit
                    words = " ".join(toks[i : i + n])
                    found.append(
                        Place(
                            kind,
                            words,
                            district,
                            self.state_of.get(district),
                            evidence=f"{kind} {words!r} → {district}",
                        )
                    )
                    i += n - 1
                    break
            i += 1
        return found

    def resolve(self, text: str, entities: list[Entity]) -> Location:
        toks = tokens(text)
        lowered = text.lower()
        places = [self._station(code, code) for code in self._codes(text, lowered)]

        def add_station(code: str | None, said: str) -> bool:
            if code is None or any(p.value == code for p in places):
                return False
            places.append(self._station(code, said))
            return True

        if any(w in lowered for w in _RAILWAY_WORDS):
            joined = f" {' '.join(toks)} "
            for name, code in self.railway_names.items():
                if f" {name} " in joined:
                    add_station(code, name)
        named = any(w in lowered for w in (" jn", "junction", " jct", "station", " stn"))
        for m in _STATION_NAME.finditer(text) if named else ():
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
                    )
                )
        names = self._names_in(toks)
        places += [p for p in names if p.kind == "district"] + [
            p for p in names if p.kind == "locality"
        ]
        for e in entities:
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
