"""SLA arithmetic: office hours, holidays, pauses and escalation levels."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from sevadesk.domain.sla import AlwaysOpen, BusinessHours, escalation_level, raise_priority

IST = ZoneInfo("Asia/Kolkata")
OFFICE = BusinessHours(
    opens=time(9, 30),
    closes=time(18, 0),
    days=frozenset(range(5)),
    holidays=frozenset({date(2026, 1, 26)}),
)


def ist(y: int, m: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=IST)


def test_office_hours_skip_nights_weekends_and_holidays() -> None:
    # Friday 17:00 + 2 working hours = Monday 10:30 ... unless Monday is Republic Day.
    assert OFFICE.add(ist(2026, 1, 16, 17), 120) == ist(2026, 1, 19, 10, 30).astimezone(UTC)
    assert OFFICE.add(ist(2026, 1, 23, 17), 120) == ist(2026, 1, 27, 10, 30).astimezone(UTC)
    # A post at night starts counting when the office opens.
    assert OFFICE.add(ist(2026, 1, 20, 23), 30) == ist(2026, 1, 21, 10, 0).astimezone(UTC)


@given(
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 1), timezones=st.just(UTC)
    ),
    st.integers(min_value=0, max_value=5000),
)
def test_adding_then_measuring_working_minutes_round_trips(start: datetime, minutes: int) -> None:
    end = OFFICE.add(start, minutes)
    assert end >= start
    assert OFFICE.minutes_between(start, end) == minutes


def test_24x7_counts_every_minute() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert AlwaysOpen().add(start, 90) == start + timedelta(minutes=90)
    assert AlwaysOpen().minutes_between(start, start + timedelta(hours=2)) == 120


def test_escalation_levels_rise_once_per_missed_interval() -> None:
    due = datetime(2026, 1, 1, 12, tzinfo=UTC)
    cal = AlwaysOpen()
    assert escalation_level(due, 60, due - timedelta(minutes=1), cal) == 0
    assert escalation_level(due, 60, due, cal) == 1
    assert escalation_level(due, 60, due + timedelta(minutes=59), cal) == 1
    assert escalation_level(due, 60, due + timedelta(minutes=125), cal) == 3


def test_priority_rises_but_not_past_p1() -> None:
    assert raise_priority("p3") == "p2"
    assert raise_priority("p2", 5) == "p1"
