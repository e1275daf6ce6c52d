"""Who am I, and how to get a token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel
from sqlalchemy import select

from sevadesk.store import tables as t
from sevadesk.store.users_repo import actor_for_password, issue_token
from sevadesk.tickets.queries import accountability, my_queue
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
