"""Request-scoped dependencies: a database connection, the clock, the authenticated actor."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy import Connection, Engine

from sevadesk.domain.clock import Clock
from sevadesk.store.users_repo import Actor, actor_for_token, token_expiry

_bearer = HTTPBearer(
    auto_error=False, description="A token from POST /api/v1/auth/token or `seva user token`."
)


def engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def clock(request: Request) -> Clock:
    return request.app.state.clock  # type: ignore[no-any-return]


def read_conn(db: Annotated[Engine, Depends(engine)]) -> Iterator[Connection]:
    with db.connect() as conn:
        yield conn


def write_conn(db: Annotated[Engine, Depends(engine)]) -> Iterator[Connection]:
    """One transaction per request: committed if the handler returns, rolled back if it raises.

    The transaction begins at the handler's first statement, not here: the other
    dependencies (the actor's token lookup) run first, and on SQLite, where a transaction
    holds the write lock, a second connection opened while this one is in a transaction
    would wait for it forever."""
    with db.connect() as conn:
        yield conn
        conn.commit()


class FieldProblem(BaseModel):
    loc: list[str]
    msg: str
    type: str


class Problem(BaseModel):
    """Every refusal: `detail` says why (a validation error lists each field instead)."""

    detail: str | list[FieldProblem]
    error: str | None = None


def actor(
    db: Annotated[Engine, Depends(engine)],
    now: Annotated[Clock, Depends(clock)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            401, "send Authorization: Bearer <token>", headers={"WWW-Authenticate": "Bearer"}
        )
    with db.connect() as conn:
        found = actor_for_token(conn, credentials.credentials, now.now())
        expired = found is None and _past(token_expiry(conn, credentials.credentials), now)
    if found is None:
        reason = "token expired: get a new one" if expired else "unknown or revoked token"
        raise HTTPException(401, reason, headers={"WWW-Authenticate": "Bearer"})
    return found


def _past(moment: datetime | None, now: Clock) -> bool:
    return moment is not None and moment <= now.now()


# Both release the connection when the handler returns, not after the response is sent.
ReadConn = Annotated[Connection, Depends(read_conn, scope="function")]
# scope="function": the transaction commits when the handler returns, before the response
# is sent (the default, "request", would commit after it: a client could see 201 for a
# reply that is not yet, or never, stored).
WriteConn = Annotated[Connection, Depends(write_conn, scope="function")]
CurrentActor = Annotated[Actor, Depends(actor)]
CurrentClock = Annotated[Clock, Depends(clock)]
