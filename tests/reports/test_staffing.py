"""Staffing advice: Erlang C checked by hand, and the figures it is fed from the desk's own
records (rollups for arrivals, the audit trail for handling time)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from sevadesk.domain.clock import FrozenClock
from sevadesk.pipeline.runner import Pipeline
from sevadesk.reports import staffing
from sevadesk.store import rollups
from sevadesk.store import tables as t
from sevadesk.store.users_repo import actor_by_username
from sevadesk.tickets.actions import add_note
from tests.factories import lines, tweet


def test_erlang_c_matches_a_hand_computation() -> None:
    # Two Erlangs of work (12 tickets an hour, 10 minutes each) and three officers:
    # A^N/N! · N/(N-A) = (8/6)·3 = 4; Σ_{k<3} A^k/k! = 1 + 2 + 2 = 5; C = 4 / (5 + 4) = 4/9.
    assert staffing.erlang_c(3, 2.0) == pytest.approx(4 / 9)
    # Answered within one handling time: 1 - C · e^{-(N-A)·t/h} = 1 - (4/9)·e^{-1} ≈ 0.8365.
    assert staffing.service_level(3, 2.0, 600, 600) == pytest.approx(1 - 4 / 9 / math.e)
    # So three officers reach 80% within 10 minutes and two (no spare capacity) cannot.
    assert staffing.officers_needed(12, 600, 600, 0.8) == 3
    assert staffing.service_level(2, 2.0, 600, 600) == 0.0
    assert staffing.officers_needed(0, 600, 600, 0.8) == 0  # no work, nobody needed


@given(st.floats(0.1, 200), st.floats(60, 3600), st.floats(60, 7200), st.floats(0.5, 0.99))
def test_the_recommendation_is_the_fewest_officers_that_reach_the_goal(
    per_hour: float, handling_s: float, target_s: float, goal: float
) -> None:
    n = staffing.officers_needed(per_hour, handling_s, target_s, goal)
    traffic = per_hour * handling_s / 3600
    assert staffing.service_level(n, traffic, handling_s, target_s) >= goal
    assert n == 1 or staffing.service_level(n - 1, traffic, handling_s, target_s) < goal


def test_arrivals_are_per_local_hour_of_the_week(org_engine: Engine) -> None:
    ist = ZoneInfo("Asia/Kolkata")
    monday_9_ist = datetime(2026, 11, 16, 9, 0, tzinfo=ist)  # a Monday, 03:30 UTC
    with org_engine.begin() as conn:
        unit = conn.execute(
            select(t.units.c.id).where(t.units.c.code == "UPP-LUCKNOW")
        ).scalar_one()
        # Two Mondays of eight tickets at 09:00 IST each.
        rollups.bump(
            conn,
            [
                (rollups.Key.of(unit, "theft", monday_9_ist - timedelta(weeks=w)), {"opened": 8})
                for w in range(2)
            ],
        )
        rates, days = staffing.arrivals(conn, "", monday_9_ist.date(), ist, weeks=4)
    # 03:30 UTC is the 03:00 UTC rollup hour, which starts at 08:30 IST: counted at 08 IST.
    assert days == 8  # data since the first Monday, a week before
    assert rates == {(0, 8): 8.0}  # two Mondays seen, eight tickets on each


def test_handling_time_comes_from_officers_actions_in_the_audit_trail(
    pipeline: Pipeline, org_engine: Engine, clock: FrozenClock
) -> None:
    pipeline.ingest(
        "x",
        "test",
        lines(
            *(
                tweet(
                    f"@Uppolice chain snatched near Hazratganj, Lucknow 226001 case {i}",
                    author_id=str(i),
                    minutes=i,
                )
                for i in range(24)
            )
        ),
    )
    with org_engine.begin() as conn:
        refs = list(conn.execute(select(t.tickets.c.ref).order_by(t.tickets.c.id)).scalars())
        agent = actor_by_username(conn, "lko.agent")
        assert agent is not None and len(refs) == 24
        start = clock.now()
        for i, ref in enumerate(refs):  # one note every 5 minutes: 5 minutes of work each
            add_note(conn, agent, ref, "looked into it", start + timedelta(minutes=5 * i))
        # After a two-hour break (not work) one more note on the first ticket.
        add_note(conn, agent, refs[0], "back", start + timedelta(minutes=5 * 23 + 120))
        lucknow = conn.execute(
            select(t.units.c.path).where(t.units.c.code == "UPP-LUCKNOW")
        ).scalar_one()
        handling = staffing.handling_time(conn, lucknow, start - timedelta(days=1))
        few = staffing.handling_time(conn, lucknow, start + timedelta(minutes=5 * 20))
    assert handling.measured and handling.tickets == 24
    assert handling.seconds == pytest.approx(23 * 300 / 24)  # the break is not counted
    assert not few.measured and few.seconds == staffing.DEFAULT_HANDLING.total_seconds()


def test_advice_covers_every_shift_of_the_week(org_engine: Engine) -> None:
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    with org_engine.begin() as conn:
        unit = conn.execute(
            select(t.units.c.id).where(t.units.c.code == "UPP-LUCKNOW")
        ).scalar_one()
        rollups.bump(conn, [(rollups.Key.of(unit, "theft", now), {"opened": 30})])
        advice = staffing.advise(conn, "", now)
    assert len(advice.shifts) == 21
    busy = [s for s in advice.shifts if s.officers]
    # 12:00 UTC on a Friday is 17:30 IST: the Friday evening shift, and only it.
    assert [(s.weekday, s.shift) for s in busy] == [("Fri", "evening")]
    assert busy[0].answered_in_time >= 0.8 and not advice.handling.measured
