"""Stage 1: store every raw inbound event before anything else touches it.

Entries are keyed by (channel, sha256 of the raw bytes), so replaying a file or a webhook
retry stores nothing twice; entries stay `pending` until the batch that processes them commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, select, update

from sevadesk.pipeline.batch import JournalEntry
from sevadesk.store import tables as t
from sevadesk.store.fast import bulk_insert, bulk_insert_returning

PENDING, PROCESSED, REJECTED, KEPT = "pending", "processed", "rejected", "kept"


def digest(payload: str) -> str:
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(
    conn: Connection,
    channel: str,
    source: str,
    payloads: Sequence[str],
    now: datetime,
    digests: Sequence[str] | None = None,
) -> list[JournalEntry]:
    """Store payloads not seen before; return every entry of this batch still to process.

    New payloads are inserted straight away (ON CONFLICT DO NOTHING); only those already
    stored are looked up, to hand back the ones left pending or rejected.
    """
    by_digest: dict[str, str] = {}
    for d, p in zip(digests or [digest(p) for p in payloads], payloads, strict=True):
        by_digest.setdefault(d, p)
    rows = [
        {
            "channel": channel,
            "source": source,
            "digest": d,
            "received_at": now,
            "payload": p,
            "status": PENDING,
        }
        for d, p in sorted(by_digest.items())  # one lock order for concurrent writers
    ]
    inserted = bulk_insert_returning(
        conn, t.journal, rows, ["id", "digest"], on_conflict=["channel", "digest"]
    )
    entries = [JournalEntry(jid, channel, by_digest[d], d) for jid, d in inserted]
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
                    JournalEntry(row.id, channel, by_digest[row.digest], row.digest, fresh=False)
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
            "payload": p,
            "status": status,
            "error": error,
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
    j = t.journal.c
    query = select(j.id, j.channel, j.payload).where(j.status == PENDING)
    if skip_sources:
        query = query.where(j.source.not_in(sorted(skip_sources)))
    if only_source is not None:
        query = query.where(j.source == only_source)
    rows = conn.execute(query.order_by(j.id).limit(limit))
    return [JournalEntry(r.id, r.channel, r.payload) for r in rows]


def claim(conn: Connection, journal_id: int) -> bool:
    """Mark one pending entry processed; False when another worker already did."""
    result = conn.execute(
        update(t.journal)
        .where(t.journal.c.id == journal_id, t.journal.c.status == PENDING)
        .values(status=PROCESSED)
    )
    return bool(result.rowcount)


def mark(conn: Connection, processed: Sequence[int], rejected: Sequence[tuple[int, str]]) -> None:
    if processed:
        conn.execute(
            update(t.journal).where(t.journal.c.id.in_(list(processed))).values(status=PROCESSED)
        )
    if rejected:
        stmt = (
            update(t.journal)
            .where(t.journal.c.id == bindparam("jid"))
            .values(status=REJECTED, error=bindparam("err"))
        )
        conn.execute(stmt, [{"jid": jid, "err": err[:1000]} for jid, err in rejected])
