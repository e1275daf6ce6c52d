"""Periodic jobs run in one process at a time, however many servers and workers run them.

On PostgreSQL a job takes an advisory lock named after it and skips its pass when another
process holds it; the lock goes with the transaction (`try_lock`) or the connection
(`held`), so a killed process frees it. SQLite has one writer: its write lock already
serialises the passes, and a pass that started on a stale read is refused at its first write
("database is locked") and retried on the next tick.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text


def lock_key(job: str) -> int:
    """A stable signed 64-bit key for the job's name (advisory locks are keyed by bigint)."""
    return int.from_bytes(hashlib.sha256(f"sevadesk:{job}".encode()).digest()[:8], signed=True)


def try_lock(conn: Connection, job: str) -> bool:
    """True when this transaction may run `job`: it holds the job's lock until it ends."""
    if conn.dialect.name != "postgresql":
        return True
    query = text("SELECT pg_try_advisory_xact_lock(:key)")
    return bool(conn.execute(query, {"key": lock_key(job)}).scalar_one())


@contextmanager
def held(engine: Engine, job: str) -> Iterator[bool]:
    """For a job of several transactions: yields True while this process holds the job's
    lock (on a connection of its own, released at the end), False when another one does."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = {"key": lock_key(job)}
    with engine.connect() as conn:
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar_one())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), key)
                conn.commit()
