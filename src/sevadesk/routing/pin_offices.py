"""PIN → the post office citizens know it by, and the nearest PIN to a shared location."""

from __future__ import annotations

import csv
import gzip
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sevadesk.triage.places import REFERENCE


@dataclass(frozen=True, slots=True)
class PinOffice:
    pin: str
    office: str
    lat: float | None
    lon: float | None


class PinOffices:
    def __init__(self, path: Path = REFERENCE / "pin_offices.csv.gz") -> None:
        self.by_pin: dict[str, PinOffice] = {}
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                lat = float(row["lat"]) if row["lat"] else None
                lon = float(row["lon"]) if row["lon"] else None
                self.by_pin[row["pin"]] = PinOffice(row["pin"], row["office"], lat, lon)
        self._located = [p for p in self.by_pin.values() if p.lat is not None]

    def nearest(self, lat: float, lon: float) -> PinOffice | None:
        """The PIN whose offices' centre is closest (equirectangular distance: fine at the
        scale of a district)."""
        scale = math.cos(math.radians(lat))
        best, best_d = None, float("inf")
        for p in self._located:
            assert p.lat is not None and p.lon is not None
            d = (p.lat - lat) ** 2 + ((p.lon - lon) * scale) ** 2
            if d < best_d:
                best, best_d = p, d
        # Farther than ~50 km from any post office: not in India, or the data has no office.
        return best if best is not None and best_d < 0.5**2 else None


@lru_cache(maxsize=1)
def pin_offices() -> PinOffices:
    return PinOffices()
