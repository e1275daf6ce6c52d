"""Migration 0029: the reports' per-category figures read one covering index, so a 30-day
report of a large organisation does not look up every matching row in the table."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from alembic import command
from sqlalchemy import Engine, event, inspect

from sevadesk.reports import figures
from sevadesk.reports.figures import Period
from sevadesk.store import rollups
from sevadesk.store import tables as t
from sevadesk.store.db import alembic_config

NEW, OLD = "ix_rollups_category_day_category", "ix_rollups_category_day"


def _indexes(engine: Engine) -> set[str]:
    engine.dispose()  # forget the inspected table
    return {i["name"] for i in inspect(engine).get_indexes("rollups_category")}


def test_the_category_index_comes_and_goes_with_its_migration(engine: Engine) -> None:
    assert NEW in _indexes(engine) and OLD not in _indexes(engine)
    command.downgrade(alembic_config(engine), "0029-1")  # relative: the lead may re-chain
    assert OLD in _indexes(engine) and NEW not in _indexes(engine)
    command.upgrade(alembic_config(engine), "head")
    assert NEW in _indexes(engine) and OLD not in _indexes(engine)


def test_the_reports_category_query_reads_only_the_index(org_engine: Engine) -> None:
    """On SQLite (the bench's database), the figures come from the index alone, in the
    order of the GROUP BY; on PostgreSQL the same query gives the same figures."""
    today = date(2026, 12, 7)
    with org_engine.begin() as conn:
        unit = conn.execute(t.units.select().where(t.units.c.code == "UPP-LUCKNOW")).first()
        assert unit is not None
        rows = [
            (rollups.Key.of(unit.id, category, _at(today - timedelta(days=d))), {"opened": n})
            for d, category, n in [(0, "theft", 2), (1, "theft", 1), (3, "water", 4)]
        ]
        rollups.bump(conn, rows)
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "rollups_category" in statement:
            statements.append((statement, params))

    event.listen(org_engine, "before_cursor_execute", record)
    try:
        with org_engine.connect() as conn:
            report = figures.categories(conn, "/ROOT/", Period.last(30, today), today)
    finally:
        event.remove(org_engine, "before_cursor_execute", record)
    assert {(r["category"], r["opened"], r["today"]) for r in report.rows} == {
        ("theft", 3, 2),
        ("water", 4, 0),
    }
    if org_engine.dialect.name != "sqlite":
        return
    (statement, params), *_ = statements
    with org_engine.connect() as conn:
        plan = " | ".join(
            r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
        )
    assert f"COVERING INDEX {NEW}" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


def _at(day: date) -> Any:
    from datetime import UTC, datetime

    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
