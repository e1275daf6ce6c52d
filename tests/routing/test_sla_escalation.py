"""SLA on real tickets: deadlines at opening, escalation on breach, pause while awaiting the citizen."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select, update

from sevadesk.domain.clock import FrozenClock
from sevadesk.pipeline.runner import Pipeline
from sevadesk.routing.escalation import run_escalations
from sevadesk.routing.sla import SlaBook
from sevadesk.store import tables as t
from sevadesk.store.users_repo import actor_by_username
from sevadesk.tickets.actions import change_status
from tests.factories import lines, tweet


def ticket(engine: Engine) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(select(t.tickets)).mappings().one())


def test_a_ticket_gets_the_most_specific_policys_deadlines(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    # Test org: RLY has an SOS policy of 15m/4h; UPP a catch-all of 1h/3d.
    pipeline.ingest(
        "x", "test", lines(tweet("@RailMinIndia passenger unconscious in B1 of 12951, need doctor"))
    )
    row = ticket(org_engine)
    assert row["urgency"] == "sos"
    assert row["first_response_due"] - row["opened_at"] == timedelta(minutes=15)
    assert row["resolution_due"] - row["opened_at"] == timedelta(hours=4)


def test_an_unattended_ticket_escalates_up_the_hierarchy_at_each_breach(
    pipeline: Pipeline, org_engine: Engine, clock: FrozenClock
) -> None:
    pipeline.ingest(
        "x",
        "test",
        lines(tweet("@Uppolice FIR not registered at the thana for a week, Lucknow PIN 226001")),
    )
    opened = ticket(org_engine)
    assert opened["priority"] == "p3" and opened["escalation_level"] == 0
    with org_engine.begin() as conn:
        book = SlaBook.load(conn)
        assert (
            run_escalations(conn, opened["first_response_due"] - timedelta(minutes=1), book) == []
        )
        first = run_escalations(conn, opened["first_response_due"] + timedelta(minutes=1), book)
        again = run_escalations(conn, opened["first_response_due"] + timedelta(minutes=2), book)
        later = run_escalations(conn, opened["first_response_due"] + timedelta(minutes=61), book)
    assert [(e.level, e.unit) for e in first] == [(1, "UPP-Z-LKO")]
    assert again == []  # one escalation per breach, not per run
    assert [(e.level, e.unit) for e in later] == [(2, "UPP")]
    row = ticket(org_engine)
    assert row["escalation_level"] == 2
    assert row["priority"] == "p1"  # raised one step per level: p3 → p2 → p1
    with org_engine.connect() as conn:
        actions = (
            conn.execute(
                select(t.ticket_events.c.action).where(t.ticket_events.c.action == "escalated")
            )
            .scalars()
            .all()
        )
    assert len(actions) == 2


def test_supervisors_of_the_escalation_unit_are_notified(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    pipeline.ingest(
        "x",
        "test",
        lines(tweet("@Uppolice FIR not registered for my complaint in Kanpur, PIN 208001")),
    )
    due = ticket(org_engine)["first_response_due"]
    with org_engine.begin() as conn:
        # Make the UPP viewer a supervisor of the zone the ticket escalates to.
        zone = conn.execute(select(t.units.c.id).where(t.units.c.code == "UPP-Z-LKO")).scalar()
        conn.execute(
            update(t.users)
            .where(t.users.c.username == "upp.viewer")
            .values(role="supervisor", unit_id=zone)
        )
        run_escalations(conn, due + timedelta(minutes=1), SlaBook.load(conn))
    with org_engine.connect() as conn:
        notes = conn.execute(select(t.notifications.c.kind, t.notifications.c.message)).all()
    assert len(notes) == 1 and notes[0].kind == "sla_breach"
    assert "escalated to level 1 (UPP-Z-LKO)" in notes[0].message


def test_awaiting_the_citizen_pauses_the_clock_and_their_answer_restarts_it(
    pipeline: Pipeline, org_engine: Engine, clock: FrozenClock
) -> None:
    first = tweet(
        "@Uppolice FIR not registered for my complaint, Lucknow PIN 226010", author_id="77"
    )
    pipeline.ingest("x", "test", lines(first))
    before = ticket(org_engine)
    with org_engine.connect() as conn:
        agent = actor_by_username(conn, "lko.agent")
    assert agent is not None
    with org_engine.begin() as conn:
        change_status(
            conn, agent, before["ref"], "awaiting_citizen", "asked for the FIR copy", clock.now()
        )
    paused = ticket(org_engine)
    assert paused["sla_paused_at"] == clock.now()
    with org_engine.begin() as conn:  # paused tickets do not escalate, however late
        assert (
            run_escalations(conn, before["resolution_due"] + timedelta(days=30), SlaBook.load(conn))
            == []
        )
    clock.advance(timedelta(hours=5))
    reply = tweet(
        "here is the FIR copy",
        author_id="77",
        minutes=60 + 5 * 60,
        reply_to=first["data"]["id"],
        conversation_id=first["data"]["id"],
    )
    pipeline.ingest("x", "test", lines(reply))
    resumed = ticket(org_engine)
    assert resumed["status"] == "in_progress" and resumed["sla_paused_at"] is None
    assert resumed["resolution_due"] - before["resolution_due"] == timedelta(hours=5)
