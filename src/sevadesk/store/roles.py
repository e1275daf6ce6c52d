"""Who may do what to the tables: the application runs as a role that can read and write
rows but not rewrite the audit trail.

PostgreSQL lets a table's owner TRUNCATE it, disable or drop its triggers and alter it, and
triggers cannot stop that; so migrations run as the owner (SEVA_MIGRATE_DATABASE_URL) and the
application connects as another role (SEVA_DATABASE_URL), granted here: rows of the working
tables, only SELECT and INSERT on the append-only ones, no TRUNCATE, no DDL.

SQLite has no roles: the application's own connections get an authorizer that refuses schema
changes and changes to the audit tables (`audit_guard`); the file's permissions protect it
from everyone else (docs/operations.md).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Connection, text

from sevadesk.store.tables import metadata

# Evidence: the database refuses UPDATE and DELETE on these (triggers), and the
# application's role may only add to them.
APPEND_ONLY = frozenset({"ticket_events", "config_changes", "account_events", "triage_decisions"})
# The application reads the schema version (it refuses to run on an out-of-date schema).
READ_ONLY = frozenset({"alembic_version"})


class RoleError(RuntimeError):
    """The application role cannot be set up as asked (it is the owner, or a superuser)."""


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


def grant_application_role(conn: Connection, role: str, password: str | None = None) -> None:
    """Give `role` what the application needs on this schema's tables, and nothing more;
    create it (LOGIN) if it does not exist. Idempotent: run after every migration (seva db
    upgrade does), so that new tables are granted too. PostgreSQL only."""
    me = conn.execute(text("SELECT current_user")).scalar_one()
    if role == me:
        raise RoleError(
            f"the application role {role!r} is the one migrating (the tables' owner): give "
            "SEVA_DATABASE_URL another user than SEVA_MIGRATE_DATABASE_URL"
        )
    found = conn.execute(
        text("SELECT rolsuper FROM pg_roles WHERE rolname = :role"), {"role": role}
    ).first()
    name = _quote(conn, role)
    if found is None:
        conn.execute(text(f"CREATE ROLE {name} LOGIN"))
        if password:
            # DDL takes no bind parameters; with standard_conforming_strings (the default
            # since 9.1) doubling the quotes is the whole of quoting a literal.
            literal = "'" + password.replace("'", "''") + "'"
            conn.execute(text(f"ALTER ROLE {name} PASSWORD {literal}"))
    elif found.rolsuper:
        raise RoleError(f"{role!r} is a superuser: it could still truncate the audit trail")
    schema = _quote(conn, conn.execute(text("SELECT current_schema()")).scalar_one())
    tables = sorted(set(metadata.tables) | READ_ONLY)
    conn.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {name}"))
    conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {name}"))
    for table in tables:
        if table in READ_ONLY:
            rights = "SELECT"
        elif table in APPEND_ONLY:
            rights = "SELECT, INSERT"
        else:
            rights = "SELECT, INSERT, UPDATE, DELETE"
        conn.execute(text(f"GRANT {rights} ON TABLE {schema}.{_quote(conn, table)} TO {name}"))
    # nextval() for the id columns; no setval (UPDATE), which could rewind a sequence.
    conn.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {name}"))
    conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {name}"))


# SQLite authorizer action codes that change the schema or attach another database.
_SCHEMA_CHANGES = frozenset(
    getattr(sqlite3, name)
    for name in dir(sqlite3)
    if name.startswith(("SQLITE_CREATE_", "SQLITE_DROP_"))
    or name in ("SQLITE_ALTER_TABLE", "SQLITE_ATTACH", "SQLITE_DETACH")
)


def _authorize(action: int, arg1: str | None, arg2: str | None, _db: Any, _trigger: Any) -> int:
    if action in _SCHEMA_CHANGES:
        return sqlite3.SQLITE_DENY
    if action in (sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE) and arg1 in APPEND_ONLY:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() == "writable_schema":
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def audit_guard(dbapi_connection: Any, _record: Any) -> None:
    """A connect hook for the application's SQLite engine (after its pragmas): no DROP
    TRIGGER, no ALTER, no writable_schema, no UPDATE or DELETE on the audit tables."""
    dbapi_connection.set_authorizer(_authorize)
