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


def recent(conn: Connection, limit: int = 20) -> list[dict[str, Any]]:
    e = t.account_events.c
    rows = conn.execute(
        select(e.at, e.actor, e.action, e.subject, e.detail).order_by(e.id.desc()).limit(limit)
    )
    return [dict(r._mapping) for r in rows]
