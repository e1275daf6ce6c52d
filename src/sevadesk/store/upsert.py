"""INSERT .. ON CONFLICT DO NOTHING for whichever database the connection talks to."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.dml import Insert


def insert_ignore(conn: Connection, table: Table, conflict_columns: Sequence[str]) -> Insert:
    make = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    return make(table).on_conflict_do_nothing(index_elements=list(conflict_columns))
