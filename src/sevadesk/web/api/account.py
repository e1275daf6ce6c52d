"""Who am I, how to get a token; my queue, reports, dead letters and the ingestion ledger."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy import select

from sevadesk.domain.errors import OutOfScope
from sevadesk.store import ledger
from sevadesk.store import tables as t
from sevadesk.store.users_repo import actor_for_password, issue_token
from sevadesk.tickets.actions import retry_dead_reply
from sevadesk.tickets.queries import accountability, my_queue, outbox_entries
from sevadesk.web.deps import CurrentActor, CurrentClock, ReadConn, WriteConn

router = APIRouter(tags=["account"])


class Credentials(BaseModel):
    username: str
    password: str


@router.post("/auth/token")
def create_token(body: Credentials, conn: WriteConn) -> dict[str, str]:
    who = actor_for_password(conn, body.username, body.password)
    if who is None:
        raise HTTPException(401, "wrong username or password")
    return {"token": issue_token(conn, who.username, "api-login"), "token_type": "bearer"}


@router.get("/me")
def me(who: CurrentActor) -> dict[str, Any]:
    return {"username": who.username, "role": who.role, "unit": who.unit_code}


@router.get("/me/queue")
def queue(conn: ReadConn, who: CurrentActor, clock: CurrentClock) -> list[dict[str, Any]]:
    """My work: open tickets on the posts I hold now, and tickets given to me by name."""
    return my_queue(conn, who, clock.now())


@router.get("/reports/accountability")
def report_accountability(conn: ReadConn, who: CurrentActor) -> list[dict[str, Any]]:
    """Reopenings, appeals and bounced transfers per unit in my scope."""
    return accountability(conn, who)


@router.get("/units")
def units(conn: ReadConn, who: CurrentActor) -> list[dict[str, Any]]:
    u = t.units.c
    parent = t.units.alias("parent")
    rows = conn.execute(
        select(u.code, u.name, u.kind, u.path, parent.c.code.label("parent"))
        .outerjoin(parent, parent.c.id == u.parent_id)
        .where(u.path.startswith(who.scope_path, autoescape=True))
        .order_by(u.path)
    )
    return [dict(r._mapping) for r in rows]


@router.get("/outbox")
def outbox(
    conn: ReadConn, who: CurrentActor, status: str = "dead", limit: int = 100
) -> list[dict[str, Any]]:
    """Replies by delivery state (default: dead letters, with the channel's error)."""
    return outbox_entries(conn, who, status, min(limit, 500))


@router.post("/outbox/{outbox_id}/retry")
def retry_outbox(
    outbox_id: int, conn: WriteConn, who: CurrentActor, clock: CurrentClock
) -> dict[str, Any]:
    return retry_dead_reply(conn, who, outbox_id, clock.now())


@router.get("/ingest/sources")
def ingest_sources(
    conn: ReadConn, who: CurrentActor, clock: CurrentClock, request: Request
) -> list[dict[str, Any]]:
    """The ingestion ledger: per source the newest post, lag, gaps, quota, and alerts.

    Sources are the deployment's, shared by every office (one X stream reads every agency's
    handles), so only users whose scope is the whole deployment see them."""
    if not who.covers_deployment:
        raise OutOfScope("the ingestion ledger covers the whole deployment: ask its operators")
    settings = request.app.state.settings
    return ledger.report(conn, clock.now(), settings.ingest_lag_alert_seconds)
