"""Bot sessions in the database: load, and save only if nobody saved in between."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from sevadesk.bot.engine import Session
from sevadesk.store import tables as t

S = t.bot_sessions.c


def load(conn: Connection, wa_id: str) -> Session | None:
    row = conn.execute(select(t.bot_sessions).where(S.wa_id == wa_id)).first()
    if row is None:
        return None
    return Session(
        wa_id=row.wa_id,
        step=row.step,
        lang=row.lang,
        data=dict(row.data or {}),
        misses=row.misses,
        handoff_ref=row.handoff_ref,
        updated_at=row.updated_at,
        version=row.version,
        last_inbound_at=row.last_inbound_at,
    )


def save(conn: Connection, session: Session, expected: int | None, now: datetime) -> bool:
    """Insert a new session (expected None) or update the one at version `expected`;
    False when another worker changed it first."""
    values: dict[str, Any] = {
        "step": session.step,
        "lang": session.lang,
        "data": session.data,
        "misses": session.misses,
        "handoff_ref": session.handoff_ref,
        "updated_at": session.updated_at or now,
        "last_inbound_at": session.last_inbound_at,
    }
    if expected is None:
        exists = conn.execute(select(S.wa_id).where(S.wa_id == session.wa_id)).first()
        if exists is not None:
            return False
        conn.execute(
            t.bot_sessions.insert().values(wa_id=session.wa_id, version=1, created_at=now, **values)
        )
        session.version = 1
        return True
    result = conn.execute(
        update(t.bot_sessions)
        .where(S.wa_id == session.wa_id, S.version == expected)
        .values(version=expected + 1, **values)
    )
    if result.rowcount:
        session.version = expected + 1
        return True
    return False
