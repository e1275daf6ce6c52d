"""The audit trail cannot be wiped by the application: on PostgreSQL it connects as a role
that may only add to the audit tables; on SQLite its connections refuse schema changes."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from sevadesk.config import Settings
from sevadesk.pipeline.runner import Pipeline
from sevadesk.routing.orgfile import load_org_file
from sevadesk.store.db import application_role, grant, make_engine, open_database, upgrade
from sevadesk.store.org_repo import apply_org, record_config_change
from sevadesk.store.roles import RoleError
from sevadesk.web.app import create_app
from tests.conftest import POSTGRES_URL, REQUIRE_POSTGRES, TEST_ORG, postgres_problem
from tests.factories import BASE_TIME, lines, tweet
from tests.web.signin import sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

WIPES = [
    "TRUNCATE {table}",
    "ALTER TABLE {table} DISABLE TRIGGER ALL",
    "DROP TRIGGER {trigger} ON {table}",
    "ALTER TABLE {table} DROP COLUMN at",
    "UPDATE {table} SET at = at",
    "DELETE FROM {table}",
]
AUDIT = {
    "ticket_events": "ticket_events_no_change",
    "config_changes": "config_changes_no_change",
    "account_events": "account_events_no_change",
}


def _load_org_and_work(engine: Engine, settings: Settings) -> None:
    """What the application does every day, all of it as the application's role."""
    with engine.begin() as conn:
        apply_org(conn, load_org_file(TEST_ORG))
        record_config_change(conn, "cli", TEST_ORG.read_text(encoding="utf-8"), BASE_TIME)
    pipeline = Pipeline(engine, None, settings)
    summary = pipeline.ingest(
        "x", "test", lines(tweet("@RailMinIndia no water in coach B4 of 12951 PNR 4512345678"))
    )
    assert summary.tickets_opened == 1
    with TestClient(create_app(settings, engine)) as client:
        token = client.post(
            "/api/v1/auth/token", json={"username": "rly.agent", "password": "rly-password"}
        ).json()["token"]
        api = {"Authorization": f"Bearer {token}"}
        ref = client.get("/api/v1/tickets", headers=api).json()["items"][0]["ref"]
        reply = client.post(
            f"/api/v1/tickets/{ref}/replies", json={"body": "We are on it."}, headers=api
        )
        assert reply.status_code == 201, reply.text
        status = client.post(
            f"/api/v1/tickets/{ref}/status", json={"status": "resolved"}, headers=api
        )
        assert status.status_code == 200, status.text
        assert (
            client.post("/api/v1/auth/token", json={"username": "x", "password": "y"}).status_code
            == 401
        )
        client.delete("/api/v1/auth/token", headers=api)  # revoking writes the account audit
        csrf = sign_in(client, "admin", "admin-password")
        applied = client.post(
            "/desk/admin/apply", data={"csrf": csrf, "text": TEST_ORG.read_text(encoding="utf-8")}
        )
        assert applied.status_code == 200 and "Applied" in applied.text


# PostgreSQL ----------------------------------------------------------------------------------


@pytest.fixture
def schema() -> Iterator[str]:
    problem = postgres_problem()
    if problem:
        if REQUIRE_POSTGRES:
            pytest.fail(problem)
        pytest.skip(problem)
    name = f"t_{uuid.uuid4().hex[:12]}"
    owner = create_engine(POSTGRES_URL)
    with owner.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    yield name
    with owner.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    owner.dispose()


@pytest.fixture
def app_role(schema: str) -> Iterator[str]:
    """A role of this test's own (roles belong to the whole server, schemas to one test)."""
    role = f"seva_app_{uuid.uuid4().hex[:10]}"
    yield role
    owner = create_engine(POSTGRES_URL)
    with owner.begin() as conn:
        conn.execute(text(f'DROP OWNED BY "{role}"'))
        conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    owner.dispose()


def _url(role: str | None, schema: str) -> str:
    url = make_url(POSTGRES_URL)
    if role:
        url = url.set(username=role, password=None)
    return f"{url.render_as_string(hide_password=False)}?options=-csearch_path%3D{schema}"


@pytest.mark.postgres
def test_the_application_role_cannot_wipe_the_audit_trail_on_postgresql(
    schema: str, app_role: str
) -> None:
    migrate_url, app_url = _url(None, schema), _url(app_role, schema)
    owner = make_engine(migrate_url)
    upgrade(owner)
    found = application_role(migrate_url, app_url)
    assert found == (app_role, None)
    grant(owner, *found)  # as `seva db upgrade` does
    app = open_database(app_url)
    with app.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar_one() == app_role
    _load_org_and_work(app, Settings(database_url=app_url, drain_interval_seconds=0))
    for table, trigger in AUDIT.items():
        for statement in WIPES:
            sql = statement.format(table=table, trigger=trigger)
            with (
                pytest.raises(DBAPIError, match=r"permission denied|must be owner"),
                app.begin() as conn,
            ):
                conn.execute(text(sql))
    with app.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ticket_events")).scalar_one() > 0
    app.dispose()
    owner.dispose()


@pytest.mark.postgres
def test_the_owner_is_not_taken_as_the_application_role(schema: str) -> None:
    owner = make_engine(_url(None, schema))
    upgrade(owner)
    me = make_url(POSTGRES_URL).username or "postgres"
    with pytest.raises(RoleError, match="owner"):
        grant(owner, me)
    owner.dispose()


# SQLite --------------------------------------------------------------------------------------

SQLITE_WIPES = [
    "DROP TRIGGER ticket_events_no_update",
    "DROP TABLE ticket_events",
    "ALTER TABLE ticket_events RENAME TO old_events",
    "CREATE TRIGGER hide BEFORE INSERT ON ticket_events BEGIN SELECT RAISE(IGNORE); END",
    "PRAGMA writable_schema = ON",
    "UPDATE ticket_events SET actor = 'someone-else'",
    "DELETE FROM config_changes",
    "DELETE FROM account_events",
]


def test_the_applications_sqlite_connections_cannot_touch_the_audit_trail(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'seva.db'}"
    app = open_database(url)
    _load_org_and_work(app, Settings(database_url=url, drain_interval_seconds=0))
    for statement in SQLITE_WIPES:
        with pytest.raises(DBAPIError, match=r"not authorized|prohibited"), app.begin() as conn:
            conn.execute(text(statement))
    with app.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ticket_events")).scalar_one() > 0
        triggers = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        assert "ticket_events_no_update" in set(triggers.scalars())
    app.dispose()
