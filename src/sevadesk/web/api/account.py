"""Who am I, how to get a token; my queue, reports, dead letters and the ingestion ledger."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection, select

from sevadesk.domain.errors import OutOfScope
from sevadesk.store import ledger
from sevadesk.store import tables as t
from sevadesk.store.credentials import token_digest
from sevadesk.store.users_repo import Actor, issue_token, revoke_token
from sevadesk.tickets.actions import retry_dead_reply
from sevadesk.tickets.queries import accountability, my_queue, outbox_entries
from sevadesk.web.deps import CurrentActor, CurrentClock, Problem, ReadConn, WriteConn
from sevadesk.web.malformed import TextBody
from sevadesk.web.sign_in import SignInFailed, SignInLocked, sign_in

router = APIRouter(tags=["account"])
MAX_ID = 2**63 - 1  # ids are 64-bit: a larger one is no id (and would overflow the query)


class Credentials(TextBody):
    username: str = Field(max_length=200)
    password: str = Field(max_length=1024)


class IssuedToken(BaseModel):
    token: str
    token_type: str = "bearer"
    expires_at: datetime


@router.post(
    "/auth/token",
    responses={
        401: {"model": Problem, "description": "Wrong username or password."},
        429: {
            "model": Problem,
            "description": "Too many failed sign-ins for this account or from this address; "
            "Retry-After says when to try again.",
        },
    },
)
async def create_token(body: Credentials, request: Request) -> IssuedToken:
    """A bearer token for a password (valid for SEVA_LOGIN_TOKEN_TTL_HOURS)."""
    settings = request.app.state.settings
    ttl = timedelta(hours=settings.login_token_ttl_hours)

    def issue(conn: Connection, who: Actor) -> IssuedToken:
        now = request.app.state.clock.now()
        token = issue_token(conn, who.username, "api-login", ttl, now, who.label)
        return IssuedToken(token=token, expires_at=now + ttl)

    try:
        return await sign_in(request, body.username, body.password, issue)
    except SignInFailed:
        raise HTTPException(401, "wrong username or password") from None
    except SignInLocked as lock:
        wait = lock.retry_after(request.app.state.clock.now())
        raise HTTPException(429, str(lock), headers={"Retry-After": str(wait)}) from None


@router.delete("/auth/token", status_code=204, responses={401: {"model": Problem}})
def revoke_own_token(
    conn: WriteConn, who: CurrentActor, clock: CurrentClock, request: Request
) -> Response:
    """Revoke the token this request was made with (signing out of the API)."""
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    revoke_token(conn, token_digest(token), clock.now(), who.label, who.username)
    return Response(status_code=204)


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
    conn: ReadConn,
    who: CurrentActor,
    status: Annotated[str, Query(max_length=16)] = "dead",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Replies by delivery state (default: dead letters, with the channel's error)."""
    return outbox_entries(conn, who, status, limit)


@router.post("/outbox/{outbox_id}/retry")
def retry_outbox(
    outbox_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    conn: WriteConn,
    who: CurrentActor,
    clock: CurrentClock,
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
