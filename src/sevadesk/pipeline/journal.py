"""Stage 1: store every raw inbound event before anything else touches it.

Entries are keyed by (channel, sha256 of the raw bytes), so replaying a file or a webhook
retry stores nothing twice; entries stay `pending` until the batch that processes them commits.
An entry the database refuses even on its own is set aside (`failed`, with the error and the
time) until `retry` puts it back, after a fix.

Several drain workers share the pending entries through claims (`claim_batch`): on PostgreSQL
a batch is taken with `FOR UPDATE SKIP LOCKED` and leased to one worker (`claimed_by`,
`claimed_until`), so the others take the next batch instead of waiting for, or redoing, this
one; a lease that runs out (its worker was killed) is claimed by the next worker that looks.
SQLite has one writer: there the claim is the pending entries, as read, and `lock_unfinished`
inside the batch's transaction is the guard it always was.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, or_, select, update

from sevadesk.pipeline.batch import JournalEntry
from sevadesk.store import account_events
from sevadesk.store import tables as t
from sevadesk.store.fast import bulk_insert, bulk_insert_returning

PENDING, PROCESSED, REJECTED, KEPT = "pending", "processed", "rejected", "kept"
FAILED = "failed"

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def digest(payload: str) -> str:
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


def storable(text: str) -> str:
    """`text` with what no database text column holds (NUL, lone surrogates) written as JSON
    escapes: inside a JSON string the payload means the same, and the adapter that reads it
    then rejects the entry, with the reason; outside one it was never JSON."""
    if _UNSTORABLE.search(text) is None:
        return text
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def append(
    conn: Connection,
    channel: str,
    source: str,
    payloads: Sequence[str],
    now: datetime,
    digests: Sequence[str] | None = None,
    claim: tuple[str, datetime] | None = None,
) -> list[JournalEntry]:
    """Store payloads not seen before; return every entry of this batch still to process.

    New payloads are inserted straight away (ON CONFLICT DO NOTHING); only those already
    stored are looked up, to hand back the ones left pending or rejected. `claim` (claimer,
    until) stores the new entries already leased, by a caller that processes them next (a
    file's ingest): drain workers leave them alone meanwhile.
    """
    claimed_by, claimed_until = claim or (None, None)
    by_digest: dict[str, str] = {}
    for d, p in zip(digests or [digest(p) for p in payloads], payloads, strict=True):
        by_digest.setdefault(d, p)
    rows = [
        {
            "channel": channel,
            "source": source,
            "digest": d,
            "received_at": now,
            "payload": storable(p),
            "status": PENDING,
            "claimed_by": claimed_by,
            "claimed_until": claimed_until,
        }
        for d, p in sorted(by_digest.items())  # one lock order for concurrent writers
    ]
    inserted = bulk_insert_returning(
        conn, t.journal, rows, ["id", "digest"], on_conflict=["channel", "digest"]
    )
    entries = [JournalEntry(jid, channel, storable(by_digest[d]), d) for jid, d in inserted]
    seen = set(by_digest) - {e.digest for e in entries}
    if seen:
        # Rejected entries are read again: a fixed adapter then accepts them, and a
        # still-broken one is reported again rather than silently counted as seen.
        j = t.journal.c
        for row in conn.execute(
            select(j.id, j.digest, j.status).where(j.channel == channel, j.digest.in_(seen))
        ):
            if row.status in (PENDING, REJECTED):
                entries.append(
                    JournalEntry(
                        row.id, channel, storable(by_digest[row.digest]), row.digest, fresh=False
                    )
                )
    entries.sort(key=lambda e: e.id)
    return entries


def keep(
    conn: Connection,
    channel: str,
    source: str,
    payloads: Sequence[str],
    now: datetime,
    status: str = KEPT,
    error: str | None = None,
) -> None:
    """Store events that open nothing (reactions, account updates) or that could not be read
    (status `rejected`, with the error): kept for the record, never processed."""
    rows = [
        {
            "channel": channel,
            "source": source,
            "digest": digest(p),
            "received_at": now,
            "payload": storable(p),
            "status": status,
            "error": None if error is None else storable(error),
        }
        for p in payloads
    ]
    bulk_insert(conn, t.journal, rows, on_conflict=["channel", "digest"])


def pending(
    conn: Connection,
    limit: int,
    skip_sources: frozenset[str] = frozenset(),
    only_source: str | None = None,
) -> list[JournalEntry]:
    """Pending entries in journal order, claimed or not (what is left to do)."""
    rows = conn.execute(
        _pending_query(skip_sources, only_source).order_by(t.journal.c.id).limit(limit)
    )
    return [JournalEntry(r.id, r.channel, r.payload) for r in rows]


def _pending_query(skip_sources: frozenset[str], only_source: str | None) -> Select[Any]:
    j = t.journal.c
    query = select(j.id, j.channel, j.payload).where(j.status == PENDING)
    if skip_sources:
        query = query.where(j.source.not_in(sorted(skip_sources)))
    if only_source is not None:
        query = query.where(j.source == only_source)
    return query


def claim_batch(
    conn: Connection,
    limit: int,
    claimer: str,
    now: datetime,
    lease: timedelta,
    skip_sources: frozenset[str] = frozenset(),
    only_source: str | None = None,
) -> list[JournalEntry]:
    """Up to `limit` pending entries for `claimer` to process, in journal order.

    On PostgreSQL the entries are those no other worker holds (never claimed, or a lease that
    ran out, or this claimer's own), locked with SKIP LOCKED so a concurrent claim takes the
    next ones, and leased until `now + lease`; the caller commits `conn` to publish the lease.
    On SQLite (one writer) they are the pending entries, as `pending` reads them.
    """
    query = _pending_query(skip_sources, only_source).order_by(t.journal.c.id).limit(limit)
    if conn.dialect.name != "postgresql":
        return [JournalEntry(r.id, r.channel, r.payload) for r in conn.execute(query)]
    j = t.journal.c
    query = query.where(
        or_(j.claimed_until.is_(None), j.claimed_until < now, j.claimed_by == claimer)
    ).with_for_update(of=t.journal, skip_locked=True)
    entries = [JournalEntry(r.id, r.channel, r.payload) for r in conn.execute(query)]
    if entries:
        conn.execute(
            update(t.journal)
            .where(j.id.in_([e.id for e in entries]))
            .values(claimed_by=claimer, claimed_until=now + lease)
        )
    return entries


def claim(conn: Connection, journal_id: int, claimer: str | None = None) -> bool:
    """Mark one pending entry processed (by `claimer`); False when another worker already did."""
    values: dict[str, object] = {"status": PROCESSED}
    if claimer is not None:
        values["claimed_by"] = claimer
    result = conn.execute(
        update(t.journal)
        .where(t.journal.c.id == journal_id, t.journal.c.status == PENDING)
        .values(**values)
    )
    return bool(result.rowcount)


def mark(
    conn: Connection,
    processed: Sequence[int],
    rejected: Sequence[tuple[int, str]],
    claimer: str | None = None,
) -> None:
    """Record the batch's outcome, with the worker that did it (`claimer`, when named)."""
    done: dict[str, object] = {"status": PROCESSED}
    if claimer is not None:
        done["claimed_by"] = claimer
    if processed:
        conn.execute(update(t.journal).where(t.journal.c.id.in_(list(processed))).values(**done))
    if rejected:
        stmt = (
            update(t.journal)
            .where(t.journal.c.id == bindparam("jid"))
            .values(status=REJECTED, error=bindparam("err"))
        )
        conn.execute(stmt, [{"jid": jid, "err": storable(err[:1000])} for jid, err in rejected])


def lock_unfinished(conn: Connection, ids: Sequence[int]) -> set[int]:
    """Of these entries, the ones still to process (pending, or rejected and read again),
    locked until the transaction ends. On PostgreSQL a second writer of the same entries
    waits here for the first to commit, then finds them processed; SQLite has one writer."""
    if not ids:
        return set()
    j = t.journal.c
    query = (
        select(j.id)
        .where(j.id.in_(sorted(ids)), j.status.in_((PENDING, REJECTED)))
        .order_by(j.id)
        .with_for_update()
    )
    return set(conn.execute(query).scalars())


def set_aside(conn: Connection, journal_id: int, error: str, now: datetime) -> None:
    """The database refused this entry on its own: keep it out of the drain, with why."""
    conn.execute(
        update(t.journal)
        .where(t.journal.c.id == journal_id)
        .values(status=FAILED, error=storable(error[:1000]), failed_at=now)
    )


def retry(conn: Connection, ids: Sequence[int] | None = None) -> list[int]:
    """Put set-aside entries back to pending (all of them when `ids` is None); returns the
    ids that were set aside. The next drain processes them."""
    j = t.journal.c
    query = select(j.id).where(j.status == FAILED)
    if ids is not None:
        query = query.where(j.id.in_(list(ids)))
    found = sorted(conn.execute(query).scalars())
    if found:
        conn.execute(
            update(t.journal)
            .where(j.id.in_(found), j.status == FAILED)
            .values(status=PENDING, error=None, failed_at=None, claimed_until=None)
        )
    return found


class NotSetAside(LookupError):
    """A retry named an entry that is not set aside."""


def retry_audited(
    conn: Connection, ids: Sequence[int] | None, actor: str, now: datetime
) -> list[int]:
    """`retry`, recorded in the administrators' audit trail; an id that is not set aside is
    refused (NotSetAside) so a typo is not taken for a done retry."""
    found = retry(conn, ids)
    if ids is not None and (missing := sorted(set(ids) - set(found))):
        raise NotSetAside(f"journal entry {missing[0]} is not set aside")
    if found:
        shown = ", ".join(map(str, found[:50])) + (" …" if len(found) > 50 else "")
        account_events.record(
            conn, actor, "journal_retry", "journal", now, f"{len(found)} entries: {shown}"
        )
    return found


def failed(conn: Connection, limit: int = 100) -> list[dict[str, object]]:
    """Set-aside entries, newest failure first (what the admin page and the CLI list)."""
    j = t.journal.c
    rows = conn.execute(
        select(j.id, j.channel, j.source, j.received_at, j.failed_at, j.error)
        .where(j.status == FAILED)
        .order_by(j.failed_at.desc(), j.id.desc())
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def failed_count(conn: Connection) -> int:
    j = t.journal.c
    query = select(func.count()).select_from(t.journal).where(j.status == FAILED)
    return int(conn.execute(query).scalar_one())
