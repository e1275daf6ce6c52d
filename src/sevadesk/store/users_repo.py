"""Users, their scope and their API tokens."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select, update

from sevadesk.domain.units import depth
from sevadesk.store import account_events
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


# What `seva user token` and the API use unless the settings say otherwise.
TOKEN_TTL = timedelta(days=30)
TOKEN_ID_LENGTH = 12  # a token is listed and revoked by the start of its digest


class UnknownToken(LookupError):
    """No token of that user starts with that id (or more than one does)."""


def issue_token(
    conn: Connection,
    username: str,
    label: str,
    ttl: timedelta = TOKEN_TTL,
    now: datetime | None = None,
    actor: str = "system",
) -> str:
    """A new token for `username`, valid for `ttl` (audited; shown once, only its digest kept)."""
    row = conn.execute(_actor_query().where(t.users.c.username == username)).first()
    if row is None:
        raise UnknownUser(f"no active user {username!r}")
    now = now or datetime.now(UTC)
    token = new_token()
    digest = token_digest(token)
    conn.execute(
        t.api_tokens.insert().values(
            token_hash=digest,
            user_id=row.id,
            label=label[:100],
            created_at=now,
            expires_at=now + ttl,
        )
    )
    account_events.record(
        conn,
        actor,
        "token_issued",
        username,
        now,
        f"token {digest[:TOKEN_ID_LENGTH]} ({label[:60]}) until {now + ttl:%Y-%m-%d %H:%M} UTC",
    )
    return token


def token_expiry(conn: Connection, token: str) -> datetime | None:
    value: datetime | None = conn.execute(
        select(t.api_tokens.c.expires_at).where(t.api_tokens.c.token_hash == token_digest(token))
    ).scalar()
    return value


def actor_for_token(conn: Connection, token: str, now: datetime | None = None) -> Actor | None:
    """The token's user, unless the token is unknown, revoked or past its expiry."""
    k = t.api_tokens.c
    q = (
        _actor_query()
        .join(t.api_tokens, k.user_id == t.users.c.id)
        .where(
            k.token_hash == token_digest(token),
            k.revoked_at.is_(None),
            k.expires_at > (now or datetime.now(UTC)),
        )
    )
    row = conn.execute(q).first()
    return _actor(row) if row else None


def list_tokens(conn: Connection, username: str | None = None) -> list[dict[str, Any]]:
    """Tokens by id (the start of the digest: the token itself is never stored), newest first."""
    k = t.api_tokens.c
    q = (
        select(
            func.substr(k.token_hash, 1, TOKEN_ID_LENGTH).label("id"),
            t.users.c.username,
            k.label,
            k.created_at,
            k.expires_at,
            k.revoked_at,
        )
        .join(t.users, t.users.c.id == k.user_id)
        .order_by(k.created_at.desc(), k.token_hash)
    )
    if username is not None:
        q = q.where(t.users.c.username == username)
    return [dict(r._mapping) for r in conn.execute(q)]


def revoke_token(
    conn: Connection, token_id: str, now: datetime, actor: str, username: str | None = None
) -> str:
    """Revoke the token whose id is `token_id` (audited); returns its user's name."""
    k = t.api_tokens.c
    if not re.fullmatch(r"[0-9a-f]{6,64}", token_id):
        raise UnknownToken(f"{token_id!r} is not a token id (hex digits, as listed)")
    q = (
        select(k.token_hash, k.revoked_at, t.users.c.username)
        .join(t.users, t.users.c.id == k.user_id)
        .where(k.token_hash.startswith(token_id))
    )
    if username is not None:
        q = q.where(t.users.c.username == username)
    rows = conn.execute(q.limit(2)).all()
    if len(rows) != 1:
        raise UnknownToken(
            f"no token {token_id}" if not rows else f"{token_id} names more than one token"
        )
    row = rows[0]
    if row.revoked_at is None:
        conn.execute(
            update(t.api_tokens).where(k.token_hash == row.token_hash).values(revoked_at=now)
        )
        account_events.record(
            conn, actor, "token_revoked", row.username, now, f"token {token_id[:TOKEN_ID_LENGTH]}"
        )
    return str(row.username)


def revoke_all_tokens(conn: Connection, username: str, now: datetime, actor: str) -> int:
    """Revoke every live token of `username` (audited); how many there were."""
    user_id = conn.execute(select(t.users.c.id).where(t.users.c.username == username)).scalar()
    if user_id is None:
        raise UnknownUser(f"no user {username!r}")
    k = t.api_tokens.c
    done = conn.execute(
        update(t.api_tokens)
        .where(k.user_id == user_id, k.revoked_at.is_(None), k.expires_at > now)
        .values(revoked_at=now)
    )
    if done.rowcount:
        account_events.record(
            conn, actor, "token_revoked", username, now, f"all {done.rowcount} live tokens"
        )
    return int(done.rowcount)


def password_hash_of(conn: Connection, username: str) -> tuple[Actor, str | None] | None:
    """The active user and their stored hash, for a sign-in to check."""
    row = conn.execute(_actor_query().where(t.users.c.username == username)).first()
    return (_actor(row), row.password_hash) if row else None


def actor_for_password(conn: Connection, username: str, password: str) -> Actor | None:
    found = password_hash_of(conn, username)
    matched = verify_password(found[1] if found else None, password)
    return found[0] if found and matched else None


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
