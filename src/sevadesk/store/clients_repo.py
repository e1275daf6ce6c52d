"""Keys for GeoReport v2 (Open311) clients: shown once, stored as a digest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, update

from sevadesk.store import tables as t
from sevadesk.store.credentials import new_token, token_digest


def issue_open311_key(conn: Connection, name: str, now: datetime) -> str:
    key = new_token()
    conn.execute(
        t.open311_clients.insert().values(name=name, key_digest=token_digest(key), created_at=now)
    )
    return key


def revoke_open311_client(conn: Connection, name: str, now: datetime) -> int:
    c = t.open311_clients.c
    result = conn.execute(
        update(t.open311_clients)
        .where(c.name == name, c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount)
