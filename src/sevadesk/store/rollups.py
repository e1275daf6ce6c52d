"""Report rollups: counters bumped in the transaction that changes a ticket.

`bump` adds increments to (unit, category, day, hour) rows with one multi-row upsert
(`ON CONFLICT … DO UPDATE SET n = rollups.n + excluded.n`, the same on SQLite and
PostgreSQL), hour by hour and day by day. Durations go into histogram buckets; `percentile` reads a median or p90 back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection

from sevadesk.store import tables as t

# Upper bounds of the duration buckets, in seconds (the last is open-ended).
BOUNDS = (300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 345600, 604800, float("inf"))
COUNTERS = (
    "received",
    "actionable",
    "opened",
    "resolved",
    "resolved_in_sla",
    "first_responses",
    "first_response_in_sla",
    *[f"fr_{i}" for i in range(t.ROLLUP_BUCKETS)],
    *[f"rs_{i}" for i in range(t.ROLLUP_BUCKETS)],
    # Last, so the export's earlier columns keep their places.
    "screened",
    "promoted",
)


@dataclass(frozen=True, slots=True)
class Key:
    unit_id: int
    category: str
    day: str
    hour: int

    @classmethod
    def of(cls, unit_id: int, category: str | None, at: datetime) -> Key:
        at = at.astimezone(UTC)
        return cls(unit_id, category or "", at.date().isoformat(), at.hour)


def bucket(seconds: float) -> int:
    return next(i for i, bound in enumerate(BOUNDS) if seconds < bound)


def bump(conn: Connection, increments: Iterable[tuple[Key, dict[str, int]]]) -> None:
    totals: dict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for key, counts in increments:
        row = totals[key]
        for name, n in counts.items():
            row[name] += n
    if not totals:
        return
    hourly = sorted(
        totals.items(), key=lambda kv: (kv[0].unit_id, kv[0].category, kv[0].day, kv[0].hour)
    )
    daily: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    by_category: dict[tuple[int, str, str], int] = defaultdict(int)
    for key, counts in hourly:
        row = daily[(key.unit_id, key.day)]
        for name in COUNTERS:
            row[name] += counts[name]
        if key.category and counts["opened"]:
            by_category[(key.unit_id, key.category, key.day)] += counts["opened"]
    _upsert(
        conn,
        "rollups",
        ["unit_id", "category", "day", "hour"],
        [(k.unit_id, k.category, k.day, k.hour, *(v[c] for c in COUNTERS)) for k, v in hourly],
    )
    _upsert(
        conn,
        "rollups_daily",
        ["unit_id", "day"],
        [(*k, *(v[c] for c in COUNTERS)) for k, v in sorted(daily.items())],
    )
    if by_category:
        _upsert(
            conn,
            "rollups_category",
            ["unit_id", "category", "day"],
            [(*k, n) for k, n in sorted(by_category.items())],
            ("opened",),
        )


def _upsert(
    conn: Connection,
    table: str,
    keys: list[str],
    rows: list[tuple[object, ...]],
    counters: tuple[str, ...] = COUNTERS,
) -> None:
    columns = [*keys, *counters]
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counters)
    marker = "%s" if conn.dialect.name == "postgresql" else "?"
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"VALUES ({', '.join(marker for _ in columns)}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )
    conn.exec_driver_sql(sql, rows)


def percentile(buckets: Sequence[int], p: float) -> float | None:
    """The p-th percentile (0..1) of a histogram, by linear interpolation inside the bucket."""
    total = sum(buckets)
    if total == 0:
        return None
    target = p * total
    seen = 0
    for i, n in enumerate(buckets):
        if n and seen + n >= target:
            low = 0.0 if i == 0 else BOUNDS[i - 1]
            high = BOUNDS[i] if BOUNDS[i] != float("inf") else low * 2
            return low + (high - low) * (target - seen) / n
        seen += n
    return BOUNDS[-2] * 2
