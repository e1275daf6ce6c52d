"""Write src/sevadesk/triage/reference/*.csv.gz from ../shared/data (see each folder's SOURCE.txt).

- pins.csv.gz: PIN → district, state (India Post directory 2025, Government Open Data Licence –
  India). A PIN served by offices in several districts goes to the district with most offices.
- localities.csv.gz: post-office locality name → PIN ("Aminabad Park" → 226018, Lucknow), from
  the same directory plus the older pypinindia edition; suffixes like S.O / B.O are dropped, and
  only names found in exactly one district are kept (a name shared by villages in several
  districts says nothing about where a post comes from), and not names made only of common
  words (see `generic`).
- pin_offices.csv.gz: PIN → the office citizens know it by (a head or sub office, else the
  first listed) and the mean position of its offices that have coordinates, for "find help"
  by PIN or by a shared location (nearest PIN).
- stations.csv.gz: station code → name, state, zone (datameet stations, CC0). About half the
  stations have no zone in the source; they take the zone of the nearest station that has one
  (marked `inferred`), which is right away from zone borders and a guess near them.
- trains.csv.gz: train number → name, origin and destination, and the origin station's zone
  (the owning zone in most cases), from the trains list matched to station names.

Run from the repository root: python scripts/build_reference.py (it needs wordfreq:
pip install -e '.[reference]'). Output is byte-for-byte reproducible (gzip without a date).
"""

from __future__ import annotations

import collections
import csv
import gzip
import io
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "src" / "sevadesk" / "triage" / "reference"
_SUFFIX = re.compile(r"\b(?:s\.?o|b\.?o|h\.?o|g\.?p\.?o|e\.?d\.?s\.?o|so|bo|ho|gpo)\b\.?$", re.I)


def station_key(name: str) -> str:
    """'GORAKHPUR JN', 'Gorakhpur Junction' → 'gorakhpur'."""
    return re.sub(r"\b(?:jn|junction|jct)\b", "", norm(name)).strip()


def norm(name: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", name.lower())).strip()


def write(name: str, header: list[str], rows: list[list[str]]) -> None:
    path = OUT / name
    with (
        gzip.GzipFile(path, "wb", mtime=0) as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="") as fh,
    ):
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    print(f"{path.relative_to(ROOT)}: {len(rows):,} rows, {path.stat().st_size:,} bytes")


# A post-office name made only of common words ("Airport", "Railway Station", "Future",
# "Kharab") matches posts that name no place at all. English words count as common at a Zipf
# frequency of 3.5 or more in wordfreq (about once in 300,000 words: "colony" and "court" are,
# "Lucknow" 3.1 and "Nagar" 3.07 are not); romanised Hindi ones are those below, the team's
# list of everyday words (five letters or more) that are also a post office's name.
COMMON_ZIPF = 3.5
# A one-word name is left out at a lower frequency: at 3.0 it is a word or given name that
# English text uses ("Saver", "Payer", "Mundane", "Anwar", "Tatiana"), where a multi-word one
# at that level is still a real place ("Jubilee Hills", "Mira Road"). Districts are never
# left out; those that are everyday words are in aliases.yaml's `need_context`.
COMMON_ZIPF_ONE_WORD = 3.0
ROMANISED_HINDI = frozenset(
    """chale chali ganda ghatiya kachra kahan kalse karke karne karta karwai kharab khidki
    kitna ladki mahanga mohalla paisa rakha rasta rehta rehti sardi tikat
    ghanta ghante udhar idhar magar lekin neeche andar bahar saath jaldi bahut bheed gaadi
    paani khana subah shaam aadmi aurat bachcha ladka rupaye jagah sheher shahar bijli
    pankha toota khula badbu machchar bimar dawai madad sahayata shikayat kijiye dijiye
    bhejo chahiye zaroor poora sabhi kitne kaise kyun yahan wahan purana accha zyada jyada
    thoda bilkul dhanyavad shukriya namaste bhaiya mummy""".split()  # noqa: SIM905
)


def generic(name: str) -> bool:
    from wordfreq import zipf_frequency

    words = name.split()
    common = COMMON_ZIPF_ONE_WORD if len(words) == 1 else COMMON_ZIPF
    return all(w in ROMANISED_HINDI or zipf_frequency(w, "en") >= common for w in words)


def pins_and_localities() -> None:
    by_pin: dict[str, collections.Counter[tuple[str, str]]] = collections.defaultdict(
        collections.Counter
    )
    places: dict[str, dict[str, str]] = collections.defaultdict(dict)  # locality → district → pin
    directory = DATA / "india-pincode-directory"
    with (directory / "india_post_offices_geo_2025-10-03.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            pin, district, state = row["pincode"], row["district"].title(), row["state"].title()
            if not district:
                continue
            by_pin[pin][(district, state)] += 1
            places[norm(_SUFFIX.sub("", row["office_name"].strip()))].setdefault(district, pin)
    with (directory / "all_india_pincode_directory_pypinindia.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            places[norm(_SUFFIX.sub("", row["officename"].strip()))].setdefault(
                row["districtname"].title(), row["pincode"]
            )
    write(
        "pins.csv.gz",
        ["pin", "district", "state"],
        [[pin, *counts.most_common(1)[0][0]] for pin, counts in sorted(by_pin.items())],
    )
    # A post office called "Odisha", "Madhya" or "Bharath" is a village; in a post the word
    # means the state or the country.
    states = {norm(state) for counts in by_pin.values() for (_, state) in counts}
    not_places = {w for state in states for w in state.split()} | {
        "india",
        "bharat",
        "bharath",
        "hindustan",
    }
    unique = [
        [loc, next(iter(d.values()))]
        for loc, d in sorted(places.items())
        if len(d) == 1
        and len(loc) >= 5
        and next(iter(d.values())) in by_pin
        and not generic(loc)
        and loc not in not_places
    ]
    write("localities.csv.gz", ["locality", "pin"], unique)


def pin_offices() -> None:
    offices: dict[str, list[tuple[int, str]]] = collections.defaultdict(list)
    points: dict[str, list[tuple[float, float]]] = collections.defaultdict(list)
    rank = {"HO": 0, "SO": 1, "PO": 2, "BO": 3}
    path = DATA / "india-pincode-directory" / "india_post_offices_geo_2025-10-03.csv"
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            pin, name = row["pincode"], row["office_name"].strip()
            kind = name.split()[-1].upper().replace(".", "") if name else ""
            offices[pin].append((rank.get(kind, 4), name))
            try:
                lat, lon = float(row["latitude"]), float(row["longitude"])
            except ValueError:
                continue
            if 6 <= lat <= 38 and 68 <= lon <= 98:  # inside India's bounding box
                points[pin].append((lat, lon))
    rows = []
    for pin in sorted(offices):
        office = min(offices[pin])[1]
        pts = points.get(pin, [])
        lat = f"{sum(p[0] for p in pts) / len(pts):.4f}" if pts else ""
        lon = f"{sum(p[1] for p in pts) / len(pts):.4f}" if pts else ""
        rows.append([pin, office, lat, lon])
    write("pin_offices.csv.gz", ["pin", "office", "lat", "lon"], rows)


def stations() -> dict[str, tuple[str, str]]:
    rows = list(
        csv.DictReader((DATA / "india-railway-stations" / "stations.csv").open(encoding="utf-8"))
    )
    zoned = [
        (float(r["latitude"]), float(r["longitude"]), r["zone"])
        for r in rows
        if r["zone"] not in ("", "?") and r["latitude"] and r["longitude"]
    ]
    out = []
    by_name: dict[str, tuple[str, str]] = {}
    for r in rows:
        zone, how = r["zone"], "source"
        if zone in ("", "?"):
            if not (r["latitude"] and r["longitude"]):
                continue
            lat, lon = float(r["latitude"]), float(r["longitude"])
            zone = min(
                zoned,
                key=lambda z: (z[0] - lat) ** 2 + ((z[1] - lon) * math.cos(math.radians(lat))) ** 2,
            )[2]
            how = "inferred"
        out.append([r["code"], r["name"].title(), r["state"], zone, how])
        by_name.setdefault(station_key(r["name"]), (r["code"], zone))
    write("stations.csv.gz", ["code", "name", "state", "zone", "zone_source"], out)
    return by_name


def trains(by_name: dict[str, tuple[str, str]]) -> None:
    rows = []
    for r in csv.DictReader(
        (DATA / "india-railway-trains" / "all_indian_trains.csv").open(encoding="utf-8")
    ):
        start = station_key(r["starts"])
        match = by_name.get(start)
        if match is None:
            for name, value in by_name.items():
                if name.startswith(start) or start.startswith(name):
                    match = value
                    break
        code, zone = match if match else ("", "")
        rows.append([r["train_no"].zfill(5), r["train_name"], r["starts"], r["ends"], code, zone])
    write("trains.csv.gz", ["train", "name", "starts", "ends", "origin_code", "origin_zone"], rows)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    pins_and_localities()
    pin_offices()
    trains(stations())
    return 0


if __name__ == "__main__":
    sys.exit(main())
