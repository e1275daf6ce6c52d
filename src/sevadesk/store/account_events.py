"""The accounts' audit trail: tokens issued and revoked, sign-ins locked and unlocked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from sevadesk.store import tables as t


def record(
    conn: Connection, actor: str, action: str, subject: str, now: datetime, detail: str = ""
) -> None:
    conn.execute(
        t.account_events.insert().values(
            at=now, actor=actor, action=action, subject=subject[:100], detail=detail or None
        )
    )


def recent(
    conn: Connection, limit: int = 20, subjects: list[str] | None = None
) -> list[dict[str, Any]]:
    """The newest events, or only those about `subjects` (an admin's own users)."""
    e = t.account_events.c
    query = select(e.at, e.actor, e.action, e.subject, e.detail)
    if subjects is not None:
        query = query.where(e.subject.in_(subjects))
    rows = conn.execute(query.order_by(e.id.desc()).limit(limit))
    return [dict(r._mapping) for r in rows]
