"""Staffing advice: how many officers a unit needs on each shift to answer in time.

The queue model is Erlang C (Poisson arrivals, one officer works one ticket at a time, a ticket
waits until an officer is free). Its inputs come from what the desk already records:

- the arrival rate per hour of the week: tickets opened, from the hourly rollups of the last
  four weeks, averaged over the weeks the scope has data for, in the organisation's time zone;
- the handling time per ticket: officers' working time from the audit trail (the gaps between
  one officer's consecutive actions, counted when shorter than `IDLE_GAP`) divided by the
  tickets they acted on; with too few tickets to measure, a stated default;
- the answer-time target: the scope's first-response SLA, and the share to answer within it.

A social media cell is not a call centre (an officer can keep several tickets open), so the
figure is an upper bound on what a queue of one-at-a-time work needs; the page shows every
input so a supervisor can judge it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from sevadesk.routing.sla import SlaBook
from sevadesk.store import tables as t
from sevadesk.store.org_repo import org_timezone

IDLE_GAP = timedelta(minutes=30)
DEFAULT_HANDLING = timedelta(minutes=8)
MIN_TICKETS_MEASURED = 20
WEEKS = 4
# Three eight-hour shifts in local time: (name, first hour, hours).
SHIFTS = (("morning", 6, 8), ("evening", 14, 8), ("night", 22, 8))
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def erlang_c(agents: int, traffic: float) -> float:
    """The probability that a ticket waits (Erlang C) with `agents` officers and `traffic`
    Erlangs (arrival rate × handling time). 1.0 where the officers cannot keep up."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    # Erlang B by its recurrence (no factorials, stable for hundreds of agents), then C from B.
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return agents * b / (agents - traffic * (1 - b))


def service_level(agents: int, traffic: float, handling_s: float, target_s: float) -> float:
    """The share of tickets answered within `target_s` seconds."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    wait = erlang_c(agents, traffic)
    return 1 - wait * math.exp(-(agents - traffic) * target_s / handling_s)


def officers_needed(
    per_hour: float, handling_s: float, target_s: float, goal: float, most: int = 1000
) -> int:
    """The fewest officers that answer `goal` of tickets within `target_s` (0 with no work)."""
    if per_hour <= 0:
        return 0
    traffic = per_hour * handling_s / 3600
    agents = max(1, math.floor(traffic) + 1)
    while agents < most and service_level(agents, traffic, handling_s, target_s) < goal:
        agents += 1
    return agents


@dataclass(frozen=True, slots=True)
class Handling:
    seconds: float
    tickets: int  # tickets the measured working time was spread over
    measured: bool  # False: too few tickets, the default is used


@dataclass(frozen=True, slots=True)
class ShiftAdvice:
    weekday: str
    shift: str
    hours: str
    peak_per_hour: float  # the busiest hour of the shift
    officers: int
    answered_in_time: float  # the share the recommendation achieves at the peak hour


@dataclass(frozen=True, slots=True)
class Advice:
    shifts: list[ShiftAdvice]
    arrivals: dict[tuple[int, int], float]  # (weekday, local hour) → tickets per hour
    days: int  # days of data the rates are averaged over
    handling: Handling
    target_minutes: int
    goal: float
    timezone: str

    @property
    def officer_shifts(self) -> int:
        return sum(s.officers for s in self.shifts)


def arrivals(
    conn: Connection, path: str, today: date, tz: ZoneInfo, weeks: int = WEEKS
) -> tuple[dict[tuple[int, int], float], int]:
    """Tickets opened per (weekday, local hour), averaged over the last `weeks` weeks (or
    the days since the scope's first data, if fewer), with the days of data used."""
    h, u = t.rollups.c, t.units.c
    start = today - timedelta(days=7 * weeks - 1)
    rows = conn.execute(
        select(h.day, h.hour, func.sum(h.opened))
        .join(t.units, u.id == h.unit_id)
        .where(u.path.startswith(path, autoescape=True))
        .where(h.day >= start.isoformat(), h.day <= today.isoformat())
        .group_by(h.day, h.hour)
    ).all()
    if not rows:
        return {}, 0
    first = max(start, min(date.fromisoformat(r[0]) for r in rows))
    covered = (today - first).days + 1
    # Each (weekday, hour) is averaged over the times that weekday occurred since the data
    # began (a scope with one day of data has seen one Monday, not a seventh of a week).
    occurrences = [0] * 7
    for i in range(covered):
        occurrences[(first + timedelta(days=i)).weekday()] += 1
    totals: dict[tuple[int, int], float] = {}
    for day, hour, opened in rows:
        # An hourly rollup row is a UTC hour; it counts in the local hour its start falls in.
        local = datetime.combine(date.fromisoformat(day), time(hour), UTC).astimezone(tz)
        key = (local.weekday(), local.hour)
        totals[key] = totals.get(key, 0.0) + int(opened or 0)
    rates = {k: v / max(1, occurrences[k[0]]) for k, v in totals.items()}
    return rates, covered


def handling_time(conn: Connection, path: str, since: datetime) -> Handling:
    """Officers' working time per ticket, from their actions in the audit trail."""
    e, tk, u = t.ticket_events.c, t.tickets.c, t.units.c
    rows = conn.execute(
        select(e.actor, e.at, e.ticket_id)
        .join(t.tickets, tk.id == e.ticket_id)
        .join(t.units, u.id == tk.unit_id)
        .where(u.path.startswith(path, autoescape=True))
        .where(e.at >= since, e.actor.like("user:%"))
        .order_by(e.actor, e.at)
    ).all()
    worked = 0.0
    tickets: set[int] = set()
    previous: tuple[str, datetime] | None = None
    for actor, at, ticket_id in rows:
        tickets.add(ticket_id)
        if previous is not None and previous[0] == actor:
            gap = at - previous[1]
            if gap <= IDLE_GAP:
                worked += gap.total_seconds()
        previous = (actor, at)
    if len(tickets) < MIN_TICKETS_MEASURED or worked <= 0:
        return Handling(DEFAULT_HANDLING.total_seconds(), len(tickets), measured=False)
    return Handling(worked / len(tickets), len(tickets), measured=True)


def first_response_target(conn: Connection, path: str) -> int:
    """Minutes: the first-response SLA of the scope's unit (its own policy or the nearest
    ancestor's catch-all for normal urgency), 60 where none is set."""
    unit_id = conn.execute(select(t.units.c.id).where(t.units.c.path == path)).scalar()
    if unit_id is None:
        return 60
    policy = SlaBook.load(conn).policy(unit_id, None, "normal")
    return policy.first_response_minutes if policy else 60


def advise(
    conn: Connection,
    path: str,
    now: datetime,
    timezone: str | None = None,
    goal: float = 0.8,
) -> Advice:
    """The advice for the scope `path`; hours of the week in `timezone`, by default the
    organisation's (the org file's `timezone`)."""
    timezone = timezone or org_timezone(conn)
    tz = ZoneInfo(timezone)
    rates, days = arrivals(conn, path, now.astimezone(UTC).date(), tz)
    handling = handling_time(conn, path, now - timedelta(weeks=WEEKS))
    target = first_response_target(conn, path)
    shifts = []
    for weekday in range(7):
        for name, first_hour, length in SHIFTS:
            hours = [(weekday + (first_hour + i) // 24) % 7 for i in range(length)]
            keys = [(hours[i], (first_hour + i) % 24) for i in range(length)]
            peak = max(rates.get(k, 0.0) for k in keys)
            officers = officers_needed(peak, handling.seconds, target * 60, goal)
            traffic = peak * handling.seconds / 3600
            level = service_level(officers, traffic, handling.seconds, target * 60)
            end = (first_hour + length) % 24
            shifts.append(
                ShiftAdvice(
                    WEEKDAYS[weekday],
                    name,
                    f"{first_hour:02d}:00-{end:02d}:00",
                    round(peak, 2),
                    officers,
                    round(level, 3),
                )
            )
    return Advice(shifts, rates, days, handling, target, goal, timezone)
