"""Human ticket and incident references (RLY-000123, INC-000007) from per-prefix counters."""

from __future__ import annotations

from sqlalchemy import Connection, update

from sevadesk.store import tables as t


def allocate_refs(conn: Connection, prefix: str, count: int) -> list[str]:
    """Reserve `count` consecutive references like RLY-000123 (row-locked on PostgreSQL)."""
    seq = t.ticket_sequences.c
    last = conn.execute(
        update(t.ticket_sequences)
        .where(seq.prefix == prefix)
        .values(last_value=seq.last_value + count)
        .returning(seq.last_value)
    ).scalar()
    if last is None:
        conn.execute(t.ticket_sequences.insert().values(prefix=prefix, last_value=count))
        last = count
    return [f"{prefix}-{n:06d}" for n in range(last - count + 1, last + 1)]
