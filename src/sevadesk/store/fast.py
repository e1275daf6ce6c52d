"""Bulk INSERT without SQLAlchemy's per-row parameter processing, for the ingest hot path.

SQLAlchemy spends several microseconds per row turning dicts into driver parameters; for the
append-only tables the pipeline fills by the thousand (ticket events, triage results) this
module builds the driver's rows directly, converting values exactly as the column types
would: UTC datetimes as SQLite's text format or naive UTC for PostgreSQL, JSON as JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, Table

from sevadesk.store.types import UTCDateTime


def _converter(conn: Connection, column: Any):  # type: ignore[no-untyped-def]
    sqlite = conn.dialect.name == "sqlite"
    if isinstance(column.type, UTCDateTime):
        # Rows of one batch share timestamps (its `now`, a post's time in several tables):
        # each distinct value is converted once per call.
        seen: dict[Any, Any] = {None: None}
        if sqlite:

            def as_text(v: Any) -> Any:
                if (out := seen.get(v)) is None and v is not None:
                    # SQLAlchemy's SQLite DateTime format: %Y-%m-%d %H:%M:%S.%f
                    out = seen[v] = (
                        v.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
                    )
                return out

            return as_text

        def as_naive(v: Any) -> Any:
            if (out := seen.get(v)) is None and v is not None:
                out = seen[v] = v.astimezone(UTC).replace(tzinfo=None)
            return out

        return as_naive
    if isinstance(column.type, JSON):  # JSONType is JSON with a JSONB variant for PostgreSQL
        if sqlite:
            return lambda v: None if v is None else orjson.dumps(v).decode()
        from psycopg.types.json import Jsonb

        return lambda v: None if v is None else Jsonb(v, dumps=lambda o: orjson.dumps(o).decode())
    return None


def _prepare(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Driver rows, built column by column (map and zip run in C: a batch has thousands)."""
    names = list(rows[0])
    columns = []
    for name in names:
        column = list(map(itemgetter(name), rows))
        convert = _converter(conn, table.c[name])
        columns.append(list(map(convert, column)) if convert else column)
    return names, list(zip(*columns, strict=True))


def _head(conn: Connection, table: Table, names: list[str]) -> str:
    quoted = ", ".join(conn.dialect.identifier_preparer.quote(n) for n in names)
    return f"INSERT INTO {table.name} ({quoted}) VALUES "


def _conflict(conn: Connection, on_conflict: Sequence[str] | None) -> str:
    if not on_conflict:
        return ""
    cols = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in on_conflict)
    return f" ON CONFLICT ({cols}) DO NOTHING"


def bulk_insert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    on_conflict: Sequence[str] | None = None,
) -> None:
    """executemany of one INSERT; every row must have the same keys."""
    if not rows:
        return
    names, data = _prepare(conn, table, rows)
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = (
        _head(conn, table, names)
        + f"({', '.join([marker] * len(names))})"
        + _conflict(conn, on_conflict)
    )
    conn.exec_driver_sql(sql, data)


# SQLite allows 32,766 bound parameters per statement; PostgreSQL 65,535.
_MAX_PARAMS = 32_000


def bulk_insert_returning(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    returning: Sequence[str],
    on_conflict: Sequence[str] | None = None,
) -> list[tuple[Any, ...]]:
    """Multi-row INSERT .. RETURNING in chunks; rows skipped by ON CONFLICT return nothing.
    Returned values are raw driver values (use it for ids and text keys)."""
    if not rows:
        return []
    names, data = _prepare(conn, table, rows)
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    one = f"({', '.join([marker] * len(names))})"
    back = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in returning)
    per = max(1, _MAX_PARAMS // len(names))
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(data), per):
        chunk = data[start : start + per]
        sql = (
            _head(conn, table, names)
            + ", ".join([one] * len(chunk))
            + _conflict(conn, on_conflict)
            + f" RETURNING {back}"
        )
        params = tuple(v for row in chunk for v in row)
        out.extend(tuple(r) for r in conn.exec_driver_sql(sql, params))
    return out
