"""Posts, not people: tickets go to posts held by roster; SOS goes straight to the on-duty post."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from sevadesk.domain.clock import FrozenClock
from sevadesk.pipeline.runner import Pipeline
from sevadesk.routing.orgfile import parse_org
from sevadesk.store import tables as t
from sevadesk.store.org_repo import apply_org
from sevadesk.store.users_repo import actor_by_username
from sevadesk.tickets.queries import my_queue
from tests.factories import BASE_TIME, lines, tweet

ON_DUTY_FROM = (BASE_TIME - timedelta(days=1)).isoformat()


def staff(engine: Engine, mode: str, roster: list[dict[str, Any]]) -> None:
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
                            "code": "UPP-Z-LKO",
                            "name": "Lucknow zone",
                            "kind": "zone",
                            "children": [
                                {
                                    "code": "UPP-LUCKNOW",
                                    "name": "Lucknow police",
                                    "kind": "commissionerate",
                                    "assignment": mode,
                                    "jurisdiction": {
                                        "districts": ["Lucknow"],
                                        "pins": ["226001", "226010"],
                                    },
                                    "positions": [
                                        {
                                            "code": "LKO-CONTROL",
                                            "name": "Control room",
                                            "on_duty": True,
                                        },
                                        {
                                            "code": "SHO-HAZRATGANJ",
                                            "name": "SHO Hazratganj",
                                            "languages": ["en", "hi"],
                                            "skills": ["theft"],
                                        },
                                        {
                                            "code": "SHO-ALIGANJ",
                                            "name": "SHO Aliganj",
                                            "languages": ["en", "hi"],
                                        },
                                        {
                                            "code": "HINDI-DESK",
                                            "name": "Hindi desk",
                                            "languages": ["hi"],
                                        },
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ],
            "users": [
                {
                    "username": "lko.agent",
                    "name": "Lucknow agent",
                    "role": "agent",
                    "unit": "UPP-LUCKNOW",
                    "password": "lko-password",
                },
                {
                    "username": "knp.agent",
                    "name": "Moved to Lucknow",
                    "role": "agent",
                    "unit": "UPP-LUCKNOW",
                    "password": "knp-password",
                },
            ],
            "roster": roster,
        }
    )
    with engine.begin() as conn:
        apply_org(conn, spec)


def tickets(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        q = (
            select(t.tickets.c.ref, t.tickets.c.status, t.positions.c.code.label("post"))
            .outerjoin(t.positions, t.positions.c.id == t.tickets.c.position_id)
            .order_by(t.tickets.c.id)
        )
        return [dict(r._mapping) for r in conn.execute(q)]


def test_an_sos_reaches_the_on_duty_post_in_the_same_pass(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    staff(
        org_engine,
        "manual",
        [{"position": "LKO-CONTROL", "user": "lko.agent", "from": ON_DUTY_FROM}],
    )
    pipeline.reload_router()
    pipeline.ingest(
        "x",
        "test",
        lines(
            tweet(
                "@Uppolice a man with a knife is threatening people in Hazratganj, Lucknow 226001"
            )
        ),
    )
    assert tickets(org_engine) == [
        {"ref": "UPP-000001", "status": "assigned", "post": "LKO-CONTROL"}
    ]
    with org_engine.connect() as conn:
        alert = conn.execute(select(t.notifications.c.kind, t.notifications.c.message)).one()
    assert alert.kind == "sos" and "immediate attention" in alert.message


@pytest.mark.parametrize("mode", ["round_robin", "least_loaded"])
def test_automatic_modes_spread_tickets_over_staffed_posts(
    pipeline: Pipeline, org_engine: Engine, mode: str
) -> None:
    staff(
        org_engine,
        mode,
        [
            {"position": "SHO-HAZRATGANJ", "user": "lko.agent", "from": ON_DUTY_FROM},
            {"position": "SHO-ALIGANJ", "user": "knp.agent", "from": ON_DUTY_FROM},
        ],
    )
    pipeline.reload_router()
    posts = [
        tweet(
            f"@Uppolice FIR not registered for complaint number {n}, Lucknow PIN 226010",
            author_id=str(n),
        )
        for n in range(4)
    ]
    pipeline.ingest("x", "test", lines(*posts))
    assigned = [row["post"] for row in tickets(org_engine)]
    assert sorted(assigned) == ["SHO-ALIGANJ", "SHO-ALIGANJ", "SHO-HAZRATGANJ", "SHO-HAZRATGANJ"]


def test_manual_units_keep_tickets_in_the_unit_queue(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    staff(
        org_engine,
        "manual",
        [{"position": "SHO-HAZRATGANJ", "user": "lko.agent", "from": ON_DUTY_FROM}],
    )
    pipeline.reload_router()
    pipeline.ingest(
        "x",
        "test",
        lines(tweet("@Uppolice FIR not registered for my complaint, Lucknow PIN 226010")),
    )
    assert tickets(org_engine)[0]["post"] is None and tickets(org_engine)[0]["status"] == "new"


def test_when_the_officer_goes_off_duty_the_post_keeps_its_tickets(
    pipeline: Pipeline, org_engine: Engine, clock: FrozenClock
) -> None:
    shift_end = (clock.now() + timedelta(hours=2)).isoformat()
    staff(
        org_engine,
        "round_robin",
        [
            {
                "position": "SHO-HAZRATGANJ",
                "user": "lko.agent",
                "from": ON_DUTY_FROM,
                "to": shift_end,
            },
            {"position": "SHO-HAZRATGANJ", "user": "knp.agent", "from": shift_end},
        ],
    )
    pipeline.reload_router()
    pipeline.ingest(
        "x",
        "test",
        lines(tweet("@Uppolice FIR not registered for my complaint, Lucknow PIN 226010")),
    )
    assert tickets(org_engine)[0]["post"] == "SHO-HAZRATGANJ"
    with org_engine.connect() as conn:
        day, night = actor_by_username(conn, "lko.agent"), actor_by_username(conn, "knp.agent")
        assert day is not None and night is not None
        assert [r["ref"] for r in my_queue(conn, day, clock.now())] == ["UPP-000001"]
        assert my_queue(conn, night, clock.now()) == []
        later = clock.now() + timedelta(hours=3)
        assert my_queue(conn, day, later) == []
        assert [r["ref"] for r in my_queue(conn, night, later)] == ["UPP-000001"]


def test_a_post_that_speaks_the_language_is_preferred(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    staff(
        org_engine,
        "least_loaded",
        [
            {"position": "HINDI-DESK", "user": "knp.agent", "from": ON_DUTY_FROM},
            {"position": "SHO-ALIGANJ", "user": "lko.agent", "from": ON_DUTY_FROM},
        ],
    )
    pipeline.reload_router()
    pipeline.ingest(
        "x",
        "test",
        lines(
            tweet(
                "@Uppolice FIR not registered for my complaint, Lucknow PIN 226010", author_id="1"
            )
        ),
    )
    assert tickets(org_engine)[0]["post"] == "SHO-ALIGANJ"  # English post, English-speaking post
