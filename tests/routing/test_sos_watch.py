"""An SOS nobody acknowledges within minutes goes to the supervisor on duty, once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select

from sevadesk.domain.clock import FrozenClock
from sevadesk.pipeline.runner import Pipeline
from sevadesk.routing.orgfile import parse_org
from sevadesk.store import alerts_repo
from sevadesk.store import tables as t
from sevadesk.store.org_repo import apply_org
from sevadesk.store.users_repo import actor_by_username
from sevadesk.tickets import actions
from tests.factories import BASE_TIME, lines, tweet

ON_DUTY_FROM = (BASE_TIME - timedelta(days=1)).isoformat()
SOS = "@Uppolice a man with a knife is threatening people in Hazratganj, Lucknow 226001"


def staff(engine: Engine, alerts: dict[str, Any] | None = None) -> None:
    """Lucknow: a control room post held by an agent, a duty supervisor's post held by one
    supervisor, and a second supervisor of the unit who is not on duty now."""
    users = [
        ("lko.agent", "agent", "lko-password"),
        ("lko.duty", "supervisor", "duty-password"),
        ("lko.boss", "supervisor", "boss-password"),
    ]
    spec = parse_org(
        {
            "units": [
                {
                    "code": "UPP",
                    "name": "UP Police",
                    "kind": "state_police",
                    "ticket_prefix": "UPP",
                    "handles": ["Uppolice"],
                    "children": [
                        {
                            "code": "UPP-LUCKNOW",
                            "name": "Lucknow police",
                            "kind": "commissionerate",
                            "jurisdiction": {"districts": ["Lucknow"], "pins": ["226001"]},
                            "positions": [
                                {"code": "LKO-CONTROL", "name": "Control room", "on_duty": True},
                                {"code": "LKO-DUTY-SUP", "name": "Duty officer", "on_duty": True},
                            ],
                        }
                    ],
                }
            ],
            "users": [
                {"username": u, "name": u, "role": r, "unit": "UPP-LUCKNOW", "password": p}
                for u, r, p in users
            ],
            "roster": [
                {"position": "LKO-CONTROL", "user": "lko.agent", "from": ON_DUTY_FROM},
                {"position": "LKO-DUTY-SUP", "user": "lko.duty", "from": ON_DUTY_FROM},
            ],
            **({"alerts": alerts} if alerts else {}),
        }
    )
    with engine.begin() as conn:
        apply_org(conn, spec)


def sla_pass(engine: Engine, clock: FrozenClock) -> None:
    with engine.begin() as conn:
        actions.sla_pass(conn, clock.now())


def escalations(engine: Engine) -> list[tuple[str, str]]:
    """(username, ticket ref) of every escalated-SOS alert sent."""
    n, u, tk = t.notifications.c, t.users.c, t.tickets.c
    with engine.connect() as conn:
        return [
            (r.username, r.ref)
            for r in conn.execute(
                select(u.username, tk.ref)
                .join(t.users, u.id == n.user_id)
                .join(t.tickets, tk.id == n.ticket_id)
                .where(n.kind == "sos_escalated")
                .order_by(n.id)
            )
        ]


def events(engine: Engine, ref: str) -> list[tuple[str, str | None]]:
    e, tk = t.ticket_events.c, t.tickets.c
    with engine.connect() as conn:
        return [
            (r.action, r.note)
            for r in conn.execute(
                select(e.action, e.note)
                .join(t.tickets, tk.id == e.ticket_id)
                .where(tk.ref == ref, e.action == "sos_escalated")
            )
        ]


def test_an_unacknowledged_sos_goes_to_the_on_duty_supervisor_once(
    pipeline: Pipeline, org_engine: Engine, clock: FrozenClock
) -> None:
    staff(org_engine)
    pipeline.reload_router()
    pipeline.ingest("x", "test", lines(tweet(SOS, at=clock.now())))
    with org_engine.connect() as conn:
        status, post = conn.execute(
            select(t.tickets.c.status, t.positions.c.code).join(
                t.positions, t.positions.c.id == t.tickets.c.position_id
            )
        ).one()
    assert (status, post) == ("assigned", "LKO-CONTROL")  # routing alone: nobody has seen it

    clock.advance(timedelta(minutes=4))
    sla_pass(org_engine, clock)
    assert escalations(org_engine) == []  # within the five minutes

    clock.advance(timedelta(minutes=2))
    for _ in range(3):  # the periodic job runs again and again
        sla_pass(org_engine, clock)
    # To the supervisor holding the on-duty post, not the one off duty, and only once.
    assert escalations(org_engine) == [("lko.duty", "UPP-000001")]
    [(_action, note)] = events(org_engine, "UPP-000001")
    assert note is not None and "5 minutes" in note and "user:lko.duty" in note
    # And it rings in that supervisor's bell as an SOS.
    with org_engine.connect() as conn:
        duty = actor_by_username(conn, "lko.duty")
        assert duty is not None
        count = alerts_repo.alert_count(conn, duty)
    assert count.sos_unread == 1 and count.newest_sos > 0


def test_an_acknowledged_sos_is_not_escalated(
    pipeline: Pipeline, org_engine: Engine, clock: FrozenClock
) -> None:
    staff(org_engine)
    pipeline.reload_router()
    pipeline.ingest(
        "x",
        "test",
        lines(
            tweet(SOS, at=clock.now(), author_id="1"),
            tweet(SOS.replace("knife", "sword"), at=clock.now(), author_id="2"),
            tweet(SOS.replace("knife", "gun"), at=clock.now(), author_id="3"),
        ),
    )
    clock.advance(timedelta(minutes=1))
    with org_engine.begin() as conn:
        agent = actor_by_username(conn, "lko.agent")
        assert agent is not None
        actions.assign(conn, agent, "UPP-000001", "lko.agent", clock.now())  # taken
        actions.add_note(conn, agent, "UPP-000002", "calling the PCR van", clock.now())  # seen
    clock.advance(timedelta(minutes=10))
    sla_pass(org_engine, clock)
    assert escalations(org_engine) == [("lko.duty", "UPP-000003")]
    assert events(org_engine, "UPP-000001") == events(org_engine, "UPP-000002") == []


def test_the_org_file_sets_how_long_an_sos_may_wait(
    pipeline: Pipeline, org_engine: Engine, clock: FrozenClock
) -> None:
    staff(org_engine, alerts={"sos_acknowledge_within": "15m"})
    pipeline.reload_router()
    pipeline.ingest("x", "test", lines(tweet(SOS, at=clock.now())))
    clock.advance(timedelta(minutes=10))
    sla_pass(org_engine, clock)
    assert escalations(org_engine) == []
    clock.advance(timedelta(minutes=6))
    sla_pass(org_engine, clock)
    assert escalations(org_engine) == [("lko.duty", "UPP-000001")]


def test_with_no_supervisor_on_duty_the_units_supervisors_are_alerted(
    pipeline: Pipeline, org_engine: Engine, clock: FrozenClock
) -> None:
    staff(org_engine)
    with org_engine.begin() as conn:  # the duty supervisor's shift ended
        conn.execute(
            t.position_holders.update()
            .where(
                t.position_holders.c.user_id
                == select(t.users.c.id).where(t.users.c.username == "lko.duty").scalar_subquery()
            )
            .values(ends_at=clock.now() - timedelta(minutes=1))
        )
    pipeline.reload_router()
    pipeline.ingest("x", "test", lines(tweet(SOS, at=clock.now())))
    clock.advance(timedelta(minutes=6))
    sla_pass(org_engine, clock)
    assert sorted(escalations(org_engine)) == [
        ("lko.boss", "UPP-000001"),
        ("lko.duty", "UPP-000001"),
    ]


def test_an_sos_from_days_ago_is_left_to_the_sla_escalation(
    pipeline: Pipeline, org_engine: Engine, clock: FrozenClock
) -> None:
    """An upgrade does not ring for every SOS of the past: the alarm is for the first day."""
    staff(org_engine)
    pipeline.reload_router()
    pipeline.ingest("x", "test", lines(tweet(SOS, at=clock.now() - timedelta(days=2))))
    sla_pass(org_engine, clock)
    assert escalations(org_engine) == []
