"""SLA arithmetic: working-time calendars, due dates, pauses and escalation levels. No I/O."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Calendar(Protocol):
    def add(self, start: datetime, minutes: int) -> datetime: ...

    def minutes_between(self, start: datetime, end: datetime) -> int: ...


class AlwaysOpen:
    """24x7: every minute counts."""

    def add(self, start: datetime, minutes: int) -> datetime:
        return start + timedelta(minutes=minutes)

    def minutes_between(self, start: datetime, end: datetime) -> int:
        return max(0, int((end - start).total_seconds() // 60))


@dataclass(frozen=True)
class BusinessHours:
    """Office hours on working days in one time zone, skipping public holidays."""

    opens: time = time(9, 30)
    closes: time = time(18, 0)
    days: frozenset[int] = frozenset(range(6))  # Monday..Saturday, as Indian offices work
    holidays: frozenset[date] = field(default_factory=frozenset)
    timezone: str = "Asia/Kolkata"

    def _tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _is_working_day(self, day: date) -> bool:
        return day.weekday() in self.days and day not in self.holidays

    def _windows(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working windows from `start`'s local day on, generated as far as the caller reads."""
        tz = self._tz()
        day = start.astimezone(tz).date()
        for _ in range(800):  # two years of days is more than any SLA horizon
            if self._is_working_day(day):
                yield datetime.combine(day, self.opens, tz), datetime.combine(day, self.closes, tz)
            day += timedelta(days=1)

    def add(self, start: datetime, minutes: int) -> datetime:
        remaining = timedelta(minutes=minutes)
        for opens, closes in self._windows(start):
            begin = max(opens, start.astimezone(self._tz()))
            if begin >= closes:
                continue
            available = closes - begin
            if remaining <= available:
                return (begin + remaining).astimezone(UTC)
            remaining -= available
        raise ValueError("SLA longer than the calendar horizon")

    def minutes_between(self, start: datetime, end: datetime) -> int:
        if end <= start:
            return 0
        total = timedelta()
        for opens, closes in self._windows(start):
            if opens >= end:
                break
            begin, finish = (
                max(opens, start.astimezone(self._tz())),
                min(closes, end.astimezone(self._tz())),
            )
            if finish > begin:
                total += finish - begin
        return int(total.total_seconds() // 60)


@dataclass(frozen=True)
class Policy:
    first_response_minutes: int
    resolution_minutes: int
    calendar: str = "24x7"


def escalation_level(
    due: datetime, interval_minutes: int, now: datetime, calendar: Calendar, cap: int = 10
) -> int:
    """0 before `due`; 1 from `due`; one more for every further `interval` of working time."""
    if now < due:
        return 0
    level, deadline = 1, due
    while level < cap:
        deadline = calendar.add(deadline, interval_minutes)
        if now < deadline:
            break
        level += 1
    return level


PRIORITIES = ("p1", "p2", "p3", "p4")


def raise_priority(priority: str, steps: int = 1) -> str:
    index = PRIORITIES.index(priority) if priority in PRIORITIES else 3
    return PRIORITIES[max(0, index - steps)]


def weekday_numbers(names: list[str]) -> frozenset[int]:
    return frozenset(WEEKDAYS.index(n.lower()[:3]) for n in names)
