"""Users, their scope and their API tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select, update

from sevadesk.domain.units import depth
from sevadesk.store import tables as t
from sevadesk.store.credentials import new_token, token_digest, verify_password


class UnknownUser(LookupError):
    """No active user by that name."""


@dataclass(frozen=True, slots=True)
class Actor:
    """An authenticated user and the unit subtree their role covers."""

    id: int
    username: str
    role: str
    unit_id: int
    unit_code: str
    scope_path: str

    @property
    def label(self) -> str:
        return f"user:{self.username}"

    def can_write(self) -> bool:
        return self.role in ("agent", "supervisor", "admin")

    @property
    def covers_deployment(self) -> bool:
        """The user's unit is the top of the tree: their scope is every office."""
        return depth(self.scope_path) <= 1


def _actor_query():  # type: ignore[no-untyped-def]
    u, un = t.users.c, t.units.c
    return (
        select(u.id, u.username, u.role, u.unit_id, un.code, un.path, u.password_hash)
        .join(t.units, t.units.c.id == u.unit_id)
        .where(u.active.is_(True))
    )


def _actor(row) -> Actor:  # type: ignore[no-untyped-def]
    return Actor(row.id, row.username, row.role, row.unit_id, row.code, row.path)


def issue_token(conn: Connection, username: str, label: str) -> str:
    row = conn.execute(_actor_query().where(t.users.c.username == username)).first()
    if row is None:
        raise UnknownUser(f"no active user {username!r}")
    token = new_token()
    conn.execute(
        t.api_tokens.insert().values(
            token_hash=token_digest(token),
            user_id=row.id,
            label=label,
            created_at=datetime.now(UTC),
        )
    )
    return token


def actor_for_token(conn: Connection, token: str) -> Actor | None:
    q = (
        _actor_query()
        .join(t.api_tokens, t.api_tokens.c.user_id == t.users.c.id)
        .where(
            t.api_tokens.c.token_hash == token_digest(token), t.api_tokens.c.revoked_at.is_(None)
        )
    )
    row = conn.execute(q).first()
    return _actor(row) if row else None


def actor_for_password(conn: Connection, username: str, password: str) -> Actor | None:
    row = conn.execute(_actor_query().where(t.users.c.username == username)).first()
    if row is None or not verify_password(row.password_hash, password):
        return None
    return _actor(row)


def actor_by_username(conn: Connection, username: str) -> Actor | None:
    row = conn.execute(_actor_query().where(t.users.c.username == username)).first()
    return _actor(row) if row else None


# Browser sessions: a random token in an HttpOnly cookie, only its digest stored.
S = t.web_sessions.c


def open_session(conn: Connection, user_id: int, now: datetime, ttl: timedelta) -> tuple[str, str]:
    """Returns (cookie token, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    conn.execute(
        t.web_sessions.insert().values(
            token_digest=token_digest(token),
            user_id=user_id,
            csrf=csrf,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return token, csrf


def session_actor(conn: Connection, token: str, now: datetime) -> tuple[Actor, str] | None:
    row = conn.execute(
        _actor_query()
        .add_columns(S.csrf)
        .join(t.web_sessions, S.user_id == t.users.c.id)
        .where(S.token_digest == token_digest(token), S.revoked_at.is_(None), S.expires_at > now)
    ).first()
    return (_actor(row), row.csrf) if row else None


def close_session(conn: Connection, token: str, now: datetime) -> None:
    conn.execute(
        update(t.web_sessions).where(S.token_digest == token_digest(token)).values(revoked_at=now)
    )
