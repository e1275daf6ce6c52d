"""Transfers teach the router: a category a unit keeps passing to one other unit goes there."""

from __future__ import annotations

from sqlalchemy import Engine, select

from sevadesk.domain.clock import FrozenClock
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from sevadesk.store.users_repo import actor_by_username
from sevadesk.tickets.actions import accept_transfer, return_transfer, transfer
from tests.factories import lines, tweet

PARKING = [
    "@Uppolice cars parked on both sides of the lane every evening, nobody can pass",
    "@Uppolice illegal parking outside the school gate blocks the road each morning",
    "@Uppolice trucks parked on the service road all night, traffic jam every day",
    "@Uppolice wrong side driving and parking near the market, daily jam",
]


def _route(engine: Engine, text: str) -> tuple[str, str, str]:
    with engine.connect() as conn:
        row = conn.execute(
            select(t.units.c.code, t.tickets.c.route_reason, t.tickets.c.route_detail)
            .join(t.units, t.units.c.id == t.tickets.c.unit_id)
            .where(t.tickets.c.summary == text)
        ).one()
    return row[0], row[1], row[2]


def _pass_on(engine: Engine, texts: list[str], clock: FrozenClock, accept: list[bool]) -> None:
    """The control room transfers each ticket to Lucknow, which accepts or returns it."""
    with engine.begin() as conn:
        refs = dict(conn.execute(select(t.tickets.c.summary, t.tickets.c.ref)).all())
        admin = actor_by_username(conn, "admin")
        lucknow = actor_by_username(conn, "lko.agent")
        assert admin is not None and lucknow is not None
        for text, ok in zip(texts, accept, strict=True):
            transfer(conn, admin, refs[text], "UPP-LUCKNOW", "traffic is theirs", clock.now())
            if ok:
                accept_transfer(conn, lucknow, refs[text], clock.now())
            else:
                return_transfer(conn, lucknow, refs[text], "not ours", clock.now())


def test_three_accepted_transfers_of_a_category_route_the_next_one_directly(
    pipeline: Pipeline, org_engine: Engine, clock: FrozenClock
) -> None:
    pipeline.ingest(
        "x", "test", lines(*(tweet(p, author_id=str(i)) for i, p in enumerate(PARKING[:3])))
    )
    assert [_route(org_engine, p)[:2] for p in PARKING[:3]] == [("UPP", "handle")] * 3
    _pass_on(org_engine, PARKING[:3], clock, [True, True, True])
    pipeline.reload_router()
    theft = "@Uppolice my bicycle was stolen from outside the temple this morning"
    pipeline.ingest(
        "x", "test", lines(tweet(PARKING[3], author_id="9"), tweet(theft, author_id="8"))
    )
    unit, reason, detail = _route(org_engine, PARKING[3])
    assert (unit, reason) == ("UPP-LUCKNOW", "learned")
    assert "3 of 3 traffic tickets transferred from UPP went to UPP-LUCKNOW" in detail
    assert _route(org_engine, theft)[:2] == ("UPP", "handle")  # another category stays


def test_a_returned_transfer_counts_against_learning(
    pipeline: Pipeline, org_engine: Engine, clock: FrozenClock
) -> None:
    first = [*PARKING[:3], "@Uppolice parking on the footpath near the bus stand every day"]
    pipeline.ingest("x", "test", lines(*(tweet(p, author_id=str(i)) for i, p in enumerate(first))))
    _pass_on(org_engine, first, clock, [True, True, True, False])  # 3 of 4: below 80%
    pipeline.reload_router()
    pipeline.ingest("x", "test", lines(tweet(PARKING[3], author_id="9")))
    assert _route(org_engine, PARKING[3])[:2] == ("UPP", "handle")
