"""Report figures, summed from the rollups (never from the ticket table), for a unit's subtree.

Each function takes the subtree's path (a user's scope, or a unit they drilled into) and a
day range; every figure is a sum over `rollups` rows joined to units by path prefix.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import mean
from typing import Any

from sqlalchemy import Connection, func, select

from sevadesk.store import tables as t
from sevadesk.store.rollups import COUNTERS, percentile

# Reports read the daily table; the hourly one serves curves within a day.
R, U = t.rollups_daily.c, t.units.c
FR = [f"fr_{i}" for i in range(t.ROLLUP_BUCKETS)]
RS = [f"rs_{i}" for i in range(t.ROLLUP_BUCKETS)]


@dataclass(frozen=True, slots=True)
class Period:
    start: str  # YYYY-MM-DD, inclusive
    end: str

    @classmethod
    def last(cls, days: int, today: date) -> Period:
        return cls((today - timedelta(days=days - 1)).isoformat(), today.isoformat())


def _sums(columns: tuple[str, ...] = COUNTERS) -> list[Any]:
    return [func.coalesce(func.sum(getattr(R, c)), 0).label(c) for c in columns]


def _in(query: Any, path: str, period: Period) -> Any:
    return (
        query.join(t.units, U.id == R.unit_id)
        .where(U.path.startswith(path, autoescape=True))
        .where(R.day >= period.start, R.day <= period.end)
    )


def _figures(row: Any) -> dict[str, Any]:
    data = row if isinstance(row, dict) else dict(row._mapping)
    fr = [data[c] for c in FR]
    rs = [data[c] for c in RS]
    resolved, responses = data["resolved"], data["first_responses"]
    return {
        "received": data["received"],
        "actionable": data["actionable"],
        "opened": data["opened"],
        "resolved": resolved,
        "resolved_in_sla": data["resolved_in_sla"],
        "first_responses": responses,
        "first_response_in_sla": data["first_response_in_sla"],
        "sla_resolution_pct": round(100 * data["resolved_in_sla"] / resolved) if resolved else None,
        "sla_first_response_pct": round(100 * data["first_response_in_sla"] / responses)
        if responses
        else None,
        "first_response_p50_min": _minutes(percentile(fr, 0.5)),
        "first_response_p90_min": _minutes(percentile(fr, 0.9)),
        "resolution_p50_h": _hours(percentile(rs, 0.5)),
        "resolution_p90_h": _hours(percentile(rs, 0.9)),
        "screened": data["screened"],
        "promoted": data["promoted"],
    }


def _minutes(seconds: float | None) -> float | None:
    return round(seconds / 60, 1) if seconds is not None else None


def _hours(seconds: float | None) -> float | None:
    return round(seconds / 3600, 1) if seconds is not None else None


def summary(conn: Connection, path: str, period: Period) -> dict[str, Any]:
    return _figures(conn.execute(_in(select(*_sums()), path, period)).one())


def daily(conn: Connection, path: str, period: Period) -> list[dict[str, Any]]:
    rows = conn.execute(
        _in(select(R.day, *_sums(("received", "actionable", "opened", "resolved"))), path, period)
        .group_by(R.day)
        .order_by(R.day)
    ).all()
    by_day = {r.day: dict(r._mapping) for r in rows}
    out = []
    day = date.fromisoformat(period.start)
    while day.isoformat() <= period.end:
        key = day.isoformat()
        out.append(
            by_day.get(
                key, {"day": key, "received": 0, "actionable": 0, "opened": 0, "resolved": 0}
            )
        )
        day += timedelta(days=1)
    return out


def units(
    conn: Connection, parent_path: str, period: Period, now: datetime
) -> list[dict[str, Any]]:
    """The figures of each child of the unit at `parent_path` (its subtree's totals), with
    the open backlog, for drilling down the hierarchy."""
    parent_id = conn.execute(select(U.id).where(U.path == parent_path)).scalar()
    children = conn.execute(
        select(U.id, U.code, U.name, U.kind, U.path)
        .where(U.parent_id == parent_id)
        .order_by(U.path)
    ).all()
    out = []
    open_by_unit = backlog(conn, parent_path)
    paths = dict(conn.execute(select(U.id, U.path)).all())
    # One pass over the subtree's rows, grouped by unit, then added up per child: a query
    # per child read the period's rows once for each (a state's 75 districts, 75 times).
    per_unit = conn.execute(
        _in(select(R.unit_id, *_sums()), parent_path, period).group_by(R.unit_id)
    ).all()
    for child in children:
        sums = dict.fromkeys(COUNTERS, 0)
        for row in per_unit:
            if paths.get(row.unit_id, "").startswith(child.path):
                for name in COUNTERS:
                    sums[name] += getattr(row, name)
        figures = _figures(sums)
        waiting = sum(n for uid, n in open_by_unit if paths.get(uid, "").startswith(child.path))
        has_children = (
            conn.execute(select(U.id).where(U.parent_id == child.id).limit(1)).first() is not None
        )
        out.append(
            {
                "code": child.code,
                "name": child.name,
                "kind": child.kind,
                "backlog": waiting,
                "drill": has_children,
                **figures,
            }
        )
    return out


_BACKLOG: dict[tuple[int, str], tuple[float, list[tuple[int, int]]]] = {}
BACKLOG_SECONDS = 30.0


def backlog(conn: Connection, path: str) -> list[tuple[int, int]]:
    """(unit id, open tickets) for the subtree: a count over its units' open tickets only
    (the unit, status, id index), kept for 30 seconds so a busy reports page does not
    repeat it."""
    import time

    key = (id(conn.engine), path)
    hit = _BACKLOG.get(key)
    if hit is not None and time.monotonic() - hit[0] < BACKLOG_SECONDS:
        return hit[1]
    c = t.tickets.c
    subtree = select(U.id).where(U.path.startswith(path, autoescape=True))
    rows = [
        (int(uid), int(n))
        for uid, n in conn.execute(
            select(c.unit_id, func.count())
            .where(c.status.in_(["new", "assigned", "in_progress", "awaiting_citizen"]))
            .where(c.unit_id.in_(subtree))
            .group_by(c.unit_id)
        )
    ]
    _BACKLOG[key] = (time.monotonic(), rows)
    return rows


# A spike is judged against the previous week: with less history than that, every category
# that is busy today would look like one (a new deployment flagged all of them).
HISTORY_DAYS = 7


@dataclass(frozen=True, slots=True)
class CategoryReport:
    rows: list[dict[str, Any]]
    history_days: int  # days of data in the subtree before today
    spikes_judged: bool  # False while history_days < HISTORY_DAYS


def history_days(conn: Connection, path: str, today: date) -> int:
    """Whole days between the subtree's first day of data and today (0 if it started today)."""
    first = conn.execute(_in_subtree(select(func.min(R.day)), path)).scalar()
    return (today - date.fromisoformat(first)).days if first else 0


def _in_subtree(query: Any, path: str) -> Any:
    return query.join(t.units, U.id == R.unit_id).where(U.path.startswith(path, autoescape=True))


def categories(conn: Connection, path: str, period: Period, today: date) -> CategoryReport:
    """Tickets opened per category; a spike is today at least twice the average of the
    previous seven days and at least five tickets, judged only once the subtree has a week
    of history."""
    week = Period.last(HISTORY_DAYS + 1, today)
    history = history_days(conn, path, today)
    judged = history >= HISTORY_DAYS
    c = t.rollups_category.c
    rows = conn.execute(
        select(c.category, c.day, func.sum(c.opened).label("opened"))
        .join(t.units, U.id == c.unit_id)
        .where(U.path.startswith(path, autoescape=True))
        .where(c.day >= min(period.start, week.start), c.day <= period.end)
        .group_by(c.category, c.day)
    ).all()
    per: dict[str, dict[str, int]] = {}
    for r in rows:
        per.setdefault(r.category, {})[r.day] = int(r.opened)
    out = []
    for category, days in per.items():
        total = sum(n for d, n in days.items() if period.start <= d <= period.end)
        today_n = days.get(today.isoformat(), 0)
        previous = [
            days.get((today - timedelta(days=i)).isoformat(), 0) for i in range(1, HISTORY_DAYS + 1)
        ]
        baseline = mean(previous)
        out.append(
            {
                "category": category,
                "opened": total,
                "today": today_n,
                "baseline": round(baseline, 1) if judged else None,
                "spike": judged and today_n >= 5 and today_n >= 2 * max(baseline, 0.5),
            }
        )
    out.sort(key=lambda r: (-r["spike"], -r["opened"]))
    return CategoryReport(out, history, judged)


def public_offices(conn: Connection, period: Period) -> list[dict[str, Any]]:
    """The public record: each agency and the level below it."""
    root = conn.execute(select(U.id).where(U.parent_id.is_(None)).order_by(U.id)).scalar()
    offices = conn.execute(
        select(U.id, U.code, U.name, U.path, U.parent_id)
        .where((U.parent_id == root) | U.parent_id.in_(select(U.id).where(U.parent_id == root)))
        .order_by(U.path)
    ).all()
    out = []
    for office in offices:
        figures = summary(conn, office.path, period)
        out.append(
            {
                "code": office.code,
                "name": office.name,
                "level": 1 if office.parent_id == root else 2,
                **figures,
            }
        )
    return out


def rollup_rows(conn: Connection, path: str, period: Period) -> Iterator[tuple[Any, ...]]:
    """Every hourly rollup row of the subtree in the period, streamed (no row cap)."""
    h = t.rollups.c
    query = (
        select(U.code, h.category, h.day, h.hour, *[getattr(h, c) for c in COUNTERS])
        .join(t.units, U.id == h.unit_id)
        .where(U.path.startswith(path, autoescape=True))
        .where(h.day >= period.start, h.day <= period.end)
        .order_by(U.code, h.day, h.hour, h.category)
    )
    for row in conn.execution_options(yield_per=2000).execute(query):
        yield tuple(row)


ROLLUP_HEADER = ("unit", "category", "day", "hour", *COUNTERS)


# The report's own export: the by-unit table as the page shows it, then the scope's total.
REPORT_HEADER = (
    "unit",
    "name",
    "kind",
    "opened",
    "resolved",
    "backlog",
    "resolved_in_sla",
    "resolved_in_sla_pct",
    "first_responses",
    "first_response_in_sla",
    "first_response_in_sla_pct",
    "first_response_median_min",
    "resolution_median_h",
    "screened",
    "promoted",
)


def report_table(
    code: str, totals: dict[str, Any], backlog_total: int, children: list[dict[str, Any]]
) -> Iterator[tuple[Any, ...]]:
    def line(unit: str, name: str, kind: str, f: dict[str, Any], waiting: int) -> tuple[Any, ...]:
        return (
            unit,
            name,
            kind,
            f["opened"],
            f["resolved"],
            waiting,
            f["resolved_in_sla"],
            "" if f["sla_resolution_pct"] is None else f["sla_resolution_pct"],
            f["first_responses"],
            f["first_response_in_sla"],
            "" if f["sla_first_response_pct"] is None else f["sla_first_response_pct"],
            "" if f["first_response_p50_min"] is None else f["first_response_p50_min"],
            "" if f["resolution_p50_h"] is None else f["resolution_p50_h"],
            f["screened"],
            f["promoted"],
        )

    for child in children:
        yield line(child["code"], child["name"], child["kind"], child, child["backlog"])
    yield line(code, "total", "", totals, backlog_total)


def screened_days(conn: Connection, path: str, period: Period) -> list[dict[str, Any]]:
    """Per unit and day: posts screened out, and those an officer made tickets of (the misses
    caught), for the days either happened; newest day first."""
    rows = conn.execute(
        _in(
            select(
                U.code.label("unit"),
                U.name,
                R.day,
                func.sum(R.screened).label("screened"),
                func.sum(R.promoted).label("promoted"),
            ),
            path,
            period,
        )
        .where((R.screened > 0) | (R.promoted > 0))
        .group_by(U.code, U.name, R.day)
        .order_by(R.day.desc(), U.code)
    ).all()
    return [
        {**dict(r._mapping), "screened": int(r.screened), "promoted": int(r.promoted)} for r in rows
    ]
