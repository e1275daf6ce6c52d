"""Failed sign-ins, counted in the database so that every process of the desk (several
servers, on one database) throttles the same account and address alike."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, delete, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from sevadesk.domain.sign_in import LockoutPolicy, SignInLocked
from sevadesk.store import account_events
from sevadesk.store import tables as t

ACCOUNT, ADDRESS = "account", "address"
# What a username can be (routing/orgfile.py): anything else is counted under a digest, so
# that a key is always short and storable (no NUL byte, no lone surrogate).
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]{1,63}$")
F = t.sign_in_failures.c


def account_key(username: str) -> str:
    if _USERNAME.match(username):
        return username
    raw = username.encode("utf-8", "surrogatepass")
    return "sha256:" + hashlib.sha256(raw).hexdigest()[:40]


def address_key(host: str | None) -> str:
    return (host or "unknown")[:100]


@dataclass(frozen=True, slots=True)
class Attempt:
    """Who is signing in, as the throttle counts them."""

    account: str
    address: str

    @classmethod
    def of(cls, username: str, host: str | None) -> Attempt:
        return cls(account_key(username), address_key(host))

    @property
    def keys(self) -> list[tuple[str, str]]:
        return [(ACCOUNT, self.account), (ADDRESS, self.address)]


def current_lock(conn: Connection, attempt: Attempt, now: datetime) -> SignInLocked | None:
    """The lock that holds for this attempt now (the one that ends last), if any."""
    row = conn.execute(
        select(F.scope, F.locked_until)
        .where(tuple_(F.scope, F.key).in_(attempt.keys), F.locked_until > now)
        .order_by(F.locked_until.desc())
        .limit(1)
    ).first()
    return SignInLocked(row.scope, row.locked_until) if row else None


def _insert(conn: Connection) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(t.sign_in_failures)


def record_failure(
    conn: Connection,
    attempt: Attempt,
    now: datetime,
    policies: Mapping[str, LockoutPolicy],
) -> SignInLocked | None:
    """Count a failure against the account and the address (one atomic upsert each, so
    concurrent processes never lose a count); the lock it starts, if any."""
    locks: list[SignInLocked] = []
    for scope, key in attempt.keys:
        policy = policies[scope]
        stmt = _insert(conn).values(scope=scope, key=key, failures=1, last_failure_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[F.scope, F.key],
            set_={
                "failures": case(
                    (F.last_failure_at < now - policy.forget_after, 1), else_=F.failures + 1
                ),
                "last_failure_at": now,
            },
        ).returning(F.failures)
        failures = int(conn.execute(stmt).scalar_one())
        lock = policy.lock_after(failures)
        if not lock:
            continue
        until = now + lock
        conn.execute(
            update(t.sign_in_failures)
            .where(F.scope == scope, F.key == key)
            .values(locked_until=until)
        )
        subject = key if scope == ACCOUNT else f"address:{key}"
        account_events.record(
            conn,
            "system",
            "sign_in_locked",
            subject,
            now,
            f"{failures} failed sign-ins in a row; locked until {until:%Y-%m-%d %H:%M:%S} UTC",
        )
        locks.append(SignInLocked(scope, until))
    return max(locks, key=lambda lock: lock.until) if locks else None


def clear_account(conn: Connection, attempt: Attempt) -> None:
    """A successful sign-in ends the account's run of failures (not the address's: one valid
    account must not buy an address more guesses at the others)."""
    conn.execute(delete(t.sign_in_failures).where(F.scope == ACCOUNT, F.key == attempt.account))


def unlock(conn: Connection, scope: str, key: str, actor: str, now: datetime) -> bool:
    """Lift a lock and forget its failures (audited); False when there was nothing to lift."""
    done = conn.execute(delete(t.sign_in_failures).where(F.scope == scope, F.key == key))
    if not done.rowcount:
        return False
    subject = key if scope == ACCOUNT else f"address:{key}"
    account_events.record(conn, actor, "sign_in_unlocked", subject, now)
    return True


def locks(conn: Connection, now: datetime) -> list[dict[str, Any]]:
    """Accounts and addresses locked now, the longest lock first."""
    rows = conn.execute(
        select(F.scope, F.key, F.failures, F.locked_until)
        .where(F.locked_until > now)
        .order_by(F.locked_until.desc())
    )
    return [dict(r._mapping) for r in rows]
