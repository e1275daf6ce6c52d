"""Engine set-up and schema migration for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from sevadesk.store.roles import audit_guard, grant_application_role

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    # WAL lets the web server read while the pipeline writes; NORMAL sync is durable in WAL
    # mode across application crashes (only an OS crash can lose the last transactions).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    # Checkpoint the WAL every ~40 MB rather than every 4 MB: fewer stalls under bursts.
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()
    # Transactions are begun by SQLAlchemy's "begin" event below, not by the driver.
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
    # IMMEDIATE takes the write lock up front. A deferred transaction that reads and then
    # writes fails at once (SQLITE_BUSY, busy_timeout does not apply) when another thread
    # committed in between; several threads write here (webhooks, the drain and outbox
    # loops, the API), so every transaction queues for the lock instead. Readers in WAL mode
    # still see a consistent snapshot; they wait only while another transaction is open.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _json_dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def make_engine(url: str, guarded: bool = False) -> Engine:
    """An engine on `url`. `guarded` (the application's SQLite engine, not the one that
    migrates) refuses schema changes and audit rewrites on every connection (store/roles.py)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, json_serializer=_json_dumps
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        if guarded:
            event.listen(engine, "connect", audit_guard)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, json_serializer=_json_dumps
    )


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def upgrade(engine: Engine) -> bool:
    """Bring the schema to the newest migration; returns True if anything ran."""
    if current_revision(engine) == head_revision(engine):
        return False
    command.upgrade(alembic_config(engine), "head")
    return True


def application_role(migrate_url: str, app_url: str) -> tuple[str, str | None] | None:
    """The role (and password) the application connects as, when it is not the migrating
    one; None when both URLs name the same user (or the database is not PostgreSQL)."""
    migrate, app = make_url(migrate_url), make_url(app_url)
    if app.get_backend_name() != "postgresql" or not app.username:
        return None
    if app.username == migrate.username:
        return None
    return app.username, app.password


def grant(engine: Engine, role: str, password: str | None = None) -> None:
    """Grant `role` the application's rights on this schema (PostgreSQL; see store/roles.py)."""
    with engine.begin() as conn:
        grant_application_role(conn, role, password)


class SchemaOutOfDate(RuntimeError):
    """PostgreSQL is not migrated automatically: several workers could race to do it."""


def open_database(url: str) -> Engine:
    """The application's engine on a schema at head: SQLite is migrated on first use (by an
    engine of its own; the one returned cannot change the schema), PostgreSQL is checked."""
    engine = make_engine(url, guarded=True)
    if engine.dialect.name == "sqlite":
        migrating = make_engine(url)
        upgrade(migrating)
        migrating.dispose()
    elif current_revision(engine) != head_revision(engine):
        raise SchemaOutOfDate(
            f"the database schema is at {current_revision(engine) or 'nothing'}, the code needs "
            f"{head_revision(engine)}: run `seva db upgrade`"
        )
    return engine
