"""Users, their scope and their API tokens."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, func, select, update

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


def _actor_query() -> Select[Any]:
    u, un = t.users.c, t.units.c
    return (
        select(u.id, u.username, u.role, u.unit_id, un.code, un.path, u.password_hash)
        .join(t.units, t.units.c.id == u.unit_id)
        .where(u.active.is_(True))
    )


def _actor(row: Any) -> Actor:
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


# Managing users from the desk (the admin's users page) ---------------------------------------

ROLES = ("agent", "supervisor", "admin", "viewer")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]{1,63}$")  # as the org file's users take them


class UserRefused(ValueError):
    """A change to a user that cannot be made; the message says why in plain words."""


def list_users(conn: Connection, scope_path: str) -> list[dict[str, Any]]:
    """The users of the units under `scope_path` (active and not), by unit then name."""
    u, un = t.users.c, t.units.c
    rows = conn.execute(
        select(
            u.username,
            u.display_name,
            u.role,
            u.active,
            un.code.label("unit"),
            un.name.label("unit_name"),
        )
        .join(t.units, un.id == u.unit_id)
        .where(un.path.startswith(scope_path, autoescape=True))
        .order_by(un.path, u.username)
    )
    return [dict(r._mapping) for r in rows]


def _unit_in_scope(conn: Connection, code: str, scope_path: str) -> tuple[int, str]:
    un = t.units.c
    row = conn.execute(select(un.id, un.path).where(un.code == code)).first()
    if row is None or not row.path.startswith(scope_path):
        raise UserRefused(f"unit: no unit with code {code!r} in your scope")
    return int(row.id), str(row.path)


def _user_in_scope(conn: Connection, username: str, scope_path: str) -> Any:
    u, un = t.users.c, t.units.c
    row = conn.execute(
        select(u.id, u.username, u.display_name, u.role, u.active, un.code, un.path)
        .join(t.units, un.id == u.unit_id)
        .where(u.username == username)
    ).first()
    # Another office's user is not found, as another office's ticket is not.
    if row is None or not row.path.startswith(scope_path):
        raise UserRefused(f"no user {username!r} in your scope")
    return row


def _password(password: str, username: str, display_name: str) -> str:
    from sevadesk.domain.passwords import password_problems
    from sevadesk.store.credentials import hash_password

    problems = password_problems(password, username, display_name)
    if problems:
        raise UserRefused("; ".join(problems))
    return hash_password(password)


def create_user(
    conn: Connection,
    admin: Actor,
    username: str,
    display_name: str,
    role: str,
    unit_code: str,
    password: str,
    now: datetime,
) -> None:
    """Add a user to a unit in the admin's scope, with a password meeting the rules (audited)."""
    username, display_name = username.strip(), display_name.strip()
    if not USERNAME.fullmatch(username):
        raise UserRefused(
            "username: 2 to 64 lower-case letters, digits, '.', '_' or '-', starting with a "
            "letter or digit"
        )
    if not display_name or len(display_name) > 200:
        raise UserRefused("display name: give the person's name (at most 200 characters)")
    if role not in ROLES:
        raise UserRefused(f"role: one of {', '.join(ROLES)}")
    unit_id, _path = _unit_in_scope(conn, unit_code, admin.scope_path)
    if conn.execute(select(t.users.c.id).where(t.users.c.username == username)).first():
        raise UserRefused(f"username: {username!r} is already taken")
    conn.execute(
        t.users.insert().values(
            username=username,
            display_name=display_name,
            role=role,
            unit_id=unit_id,
            password_hash=_password(password, username, display_name),
            languages=["en", "hi"],
            active=True,
        )
    )
    account_events.record(conn, admin.label, "user_added", username, now, f"{role} at {unit_code}")


def change_user(
    conn: Connection, admin: Actor, username: str, role: str, unit_code: str, now: datetime
) -> str:
    """Give a user of the admin's scope another role or unit (audited); what changed."""
    row = _user_in_scope(conn, username, admin.scope_path)
    if role not in ROLES:
        raise UserRefused(f"role: one of {', '.join(ROLES)}")
    unit_id, _path = _unit_in_scope(conn, unit_code, admin.scope_path)
    if row.username == admin.username and (role != row.role or unit_code != row.code):
        raise UserRefused("you cannot change your own role or unit: ask another administrator")
    changes = [f"role {row.role} → {role}"] if role != row.role else []
    changes += [f"unit {row.code} → {unit_code}"] if unit_code != row.code else []
    if not changes:
        return "nothing changed"
    conn.execute(update(t.users).where(t.users.c.id == row.id).values(role=role, unit_id=unit_id))
    detail = "; ".join(changes)
    account_events.record(conn, admin.label, "user_changed", username, now, detail)
    return detail


def _end_sessions(conn: Connection, user_id: int, now: datetime) -> None:
    conn.execute(
        update(t.web_sessions)
        .where(S.user_id == user_id, S.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def reset_password(
    conn: Connection, admin: Actor, username: str, password: str, now: datetime
) -> None:
    """Set a new password for a user of the admin's scope (audited); their browser sessions
    end, so whoever knew the old password is signed out."""
    row = _user_in_scope(conn, username, admin.scope_path)
    digest = _password(password, row.username, row.display_name)
    conn.execute(update(t.users).where(t.users.c.id == row.id).values(password_hash=digest))
    _end_sessions(conn, row.id, now)
    account_events.record(conn, admin.label, "password_reset", username, now)


def set_active(conn: Connection, admin: Actor, username: str, active: bool, now: datetime) -> bool:
    """Deactivate (or reactivate) a user of the admin's scope (audited). A deactivated user
    cannot sign in, and their sessions and API tokens end at once. Whether anything changed."""
    row = _user_in_scope(conn, username, admin.scope_path)
    if row.username == admin.username and not active:
        raise UserRefused("you cannot deactivate your own account: ask another administrator")
    if bool(row.active) == active:
        return False
    conn.execute(update(t.users).where(t.users.c.id == row.id).values(active=active))
    if not active:
        _end_sessions(conn, row.id, now)
        revoke_all_tokens(conn, username, now, admin.label)
    action = "user_reactivated" if active else "user_deactivated"
    account_events.record(conn, admin.label, action, username, now)
    return True
