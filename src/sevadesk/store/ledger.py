"""The ingestion ledger: per source, the newest post seen, lag, outages and quota used.

X access is priced by posts read, so every read is counted against the calendar month; the
stream and the pollers check the budget before reading more.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from sevadesk.domain.numbers import ascii_digits
from sevadesk.store import tables as t
from sevadesk.store.fast import bulk_insert

L = t.ingest_sources.c
G = t.ingest_gaps.c


def month_of(now: datetime) -> str:
    return now.strftime("%Y-%m")


def ensure(conn: Connection, source: str, channel: str, now: datetime) -> None:
    bulk_insert(
        conn,
        t.ingest_sources,
        [{"source": source, "channel": channel, "state": "idle", "updated_at": now}],
        on_conflict=["source"],
    )


def _newer(candidate: str | None, current: str | None) -> bool:
    # X ids are snowflakes: a larger number is a later post.
    if candidate is None:
        return False
    if current is None:
        return True
    if ascii_digits(candidate) and ascii_digits(current):
        return int(candidate) > int(current)
    return candidate > current


def record_reads(
    conn: Connection,
    source: str,
    channel: str,
    now: datetime,
    reads: int,
    newest_id: str | None = None,
    newest_at: datetime | None = None,
    live: bool = True,
) -> None:
    """Count `reads` against this month's quota and move the high-water mark forward.

    Lag (receipt time minus the newest post's time) is measured on live deliveries only: a
    catch-up reads old posts on purpose, and a quiet hour on a poll is not a delay."""
    ensure(conn, source, channel, now)
    row = conn.execute(
        select(L.last_id, L.quota_month, L.quota_used).where(L.source == source)
    ).one()
    month = month_of(now)
    used = (row.quota_used if row.quota_month == month else 0) + reads
    values: dict[str, Any] = {
        "quota_month": month,
        "quota_used": used,
        "last_received_at": now,
        "updated_at": now,
    }
    if _newer(newest_id, row.last_id):
        values["last_id"] = newest_id
        if newest_at is not None:
            values["newest_at"] = newest_at
            if live:
                values["lag_seconds"] = max(0.0, (now - newest_at).total_seconds())
    conn.execute(update(t.ingest_sources).where(L.source == source).values(**values))


def set_state(
    conn: Connection, source: str, channel: str, state: str, now: datetime, error: str | None = None
) -> None:
    ensure(conn, source, channel, now)
    values: dict[str, Any] = {"state": state, "updated_at": now}
    if error is not None or state == "connected":
        values["last_error"] = error[:1000] if error else None
    conn.execute(update(t.ingest_sources).where(L.source == source).values(**values))


def last_id(conn: Connection, source: str) -> str | None:
    value: str | None = conn.execute(select(L.last_id).where(L.source == source)).scalar()
    return value


def quota_used(conn: Connection, channel: str, now: datetime) -> int:
    """Posts read this month across every source of the channel."""
    used = conn.execute(
        select(func.coalesce(func.sum(L.quota_used), 0)).where(
            L.channel == channel, L.quota_month == month_of(now)
        )
    ).scalar_one()
    return int(used)


def open_gap(conn: Connection, source: str, since_id: str | None, now: datetime) -> int:
    """Record that the source stopped receiving at `now`; at most one open gap per source."""
    existing = conn.execute(
        select(G.id).where(G.source == source, G.backfilled_at.is_(None), G.ended_at.is_(None))
    ).scalar()
    if existing is not None:
        return int(existing)
    conn.execute(
        update(t.ingest_sources)
        .where(L.source == source)
        .values(gaps_detected=L.gaps_detected + 1, updated_at=now)
    )
    return int(
        conn.execute(
            t.ingest_gaps.insert()
            .values(source=source, since_id=since_id, started_at=now)
            .returning(G.id)
        ).scalar_one()
    )


def open_gaps(conn: Connection, source: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(G.id, G.since_id, G.started_at, G.ended_at)
        .where(G.source == source, G.backfilled_at.is_(None))
        .order_by(G.id)
    )
    return [dict(r._mapping) for r in rows]


def end_gap(conn: Connection, gap_id: int, now: datetime) -> None:
    """The source is receiving again; the posts it missed are still to be recovered."""
    conn.execute(
        update(t.ingest_gaps).where(G.id == gap_id, G.ended_at.is_(None)).values(ended_at=now)
    )


def backfilled(conn: Connection, source: str, gap_id: int, recovered: int, now: datetime) -> None:
    conn.execute(
        update(t.ingest_gaps)
        .where(G.id == gap_id)
        .values(backfilled_at=now, recovered=recovered, ended_at=func.coalesce(G.ended_at, now))
    )
    conn.execute(
        update(t.ingest_sources)
        .where(L.source == source)
        .values(gaps_backfilled=L.gaps_backfilled + 1, updated_at=now)
    )


def report(conn: Connection, now: datetime, lag_alert_seconds: float) -> list[dict[str, Any]]:
    """Every source with its figures and the alerts an operator should see."""
    open_by_source: dict[str, datetime] = {}
    for r in conn.execute(
        select(G.source, func.min(G.started_at)).where(G.backfilled_at.is_(None)).group_by(G.source)
    ):
        open_by_source[r[0]] = r[1]
    j = t.journal.c
    failed_by_source = dict(
        conn.execute(
            select(j.source, func.count()).where(j.status == "failed").group_by(j.source)
        ).all()
    )
    out: list[dict[str, Any]] = []
    for r in conn.execute(select(t.ingest_sources).order_by(L.source)):
        row = dict(r._mapping)
        alerts: list[str] = []
        # Entries the database refused even alone, set aside until retried (see the journal).
        row["failed"] = failed_by_source.get(row["source"], 0)
        if row["failed"]:
            alerts.append(f"{row['failed']} entries set aside (failed): retry after a fix")
        if row["lag_seconds"] is not None and row["lag_seconds"] > lag_alert_seconds:
            alerts.append(f"lag {row['lag_seconds']:.0f} s over {lag_alert_seconds:.0f} s")
        gap_start = open_by_source.get(row["source"])
        if gap_start is not None:
            open_for = (now - gap_start).total_seconds()
            if open_for > lag_alert_seconds:
                alerts.append(f"gap open for {open_for:.0f} s, not yet backfilled")
        row["gap_open_since"] = gap_start
        row["alerts"] = alerts
        out.append(row)
    return out
