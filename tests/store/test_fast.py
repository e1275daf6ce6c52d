"""The bulk insert path writes timestamps exactly as SQLAlchemy would, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select

from sevadesk.store import tables as t
from sevadesk.store.fast import bulk_insert

IST = timezone(timedelta(hours=5, minutes=30))
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(IST)
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(moments, min_size=1, max_size=5))
def test_bulk_inserted_times_read_back_and_sort_like_orm_written_ones(
    engine: Engine, stamps: list[datetime]
) -> None:
    j = t.journal.c
    shared = stamps[0]  # the same value in two rows is converted once and stays right
    # (each example starts by emptying the journal, so the function-scoped engine is fine)
    rows = [
        {
            "channel": "x",
            "source": "fast",
            "digest": f"d{n}",
            "received_at": at,
            "payload": "{}",
            "status": "pending",
        }
        for n, at in enumerate([*stamps, shared])
    ]
    with engine.begin() as conn:
        conn.execute(delete(t.journal))
        bulk_insert(conn, t.journal, rows)
        conn.execute(
            t.journal.insert().values(
                channel="x",
                source="orm",
                digest="orm",
                received_at=shared,
                payload="{}",
                status="pending",
            )
        )
    with engine.connect() as conn:
        back = conn.execute(select(j.digest, j.received_at).order_by(j.received_at, j.id)).all()
        same = conn.execute(select(j.digest).where(j.received_at == shared)).scalars().all()
    assert [r.received_at for r in back] == sorted(
        at.astimezone(UTC) for at in [*stamps, shared, shared]
    )
    assert {"d0", f"d{len(stamps)}", "orm"} <= set(same)
