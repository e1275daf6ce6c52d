"""Times as an officer reads them: in the organisation's time zone, with the zone named.

The database keeps UTC; a desk in India that showed it unlabelled was read 5½ hours wrong.
Every time the desk shows passes through `local_time`, so the zone is always written beside
it: the zone's abbreviation where it has a real one ("IST", "CET"), else the UTC offset
("+04:00"), which tzdata gives as a bare number for many zones.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Kolkata"
SHORT = "%d %b %H:%M"  # "07 Dec 14:05": lists, where the year goes without saying
LONG = "%d %b %Y %H:%M"


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone_label(value: datetime) -> str:
    """ "IST" for Asia/Kolkata; the offset ("+04:00", "UTC") where the zone has no letters."""
    name = value.tzname() or ""
    if name and name[0] not in "+-" and name.isalpha():
        return name
    offset = value.utcoffset()
    if offset is None or not offset:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def to_zone(value: datetime, zone_name: str = DEFAULT_ZONE) -> datetime:
    """`value` (aware, or naive UTC as some drivers return it) in the zone `zone_name`."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone(zone_name))


def local_time(value: datetime | None, zone_name: str = DEFAULT_ZONE, fmt: str = SHORT) -> str:
    """ "07 Dec 14:00 IST" for 08:30 UTC in Asia/Kolkata; "" for no time."""
    if value is None:
        return ""
    here = to_zone(value, zone_name)
    return f"{here.strftime(fmt)} {zone_label(here)}"
