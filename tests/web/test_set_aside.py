"""Entries the database refused are visible (the admin page, the ledger, /metrics) and
retryable after a fix (an admin button, `seva journal retry`), and every retry is audited."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from sevadesk.config import Settings
from sevadesk.pipeline import journal
from sevadesk.store import ledger
from sevadesk.store import tables as t
from sevadesk.web.app import create_app
from tests.factories import BASE_TIME, line, tweet
from tests.web.signin import sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ERROR = "DataError: value too long for type character varying(64)"


@pytest.fixture
def client(org_engine: Engine, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, org_engine)) as c:
        yield c


@pytest.fixture
def set_aside(org_engine: Engine) -> int:
    with org_engine.begin() as conn:
        [entry] = journal.append(
            conn, "x", "x-webhook", [line(tweet("@RailMinIndia fan broken"))], BASE_TIME
        )
        ledger.record_reads(conn, "x-webhook", "x", BASE_TIME, 0)
        journal.set_aside(conn, entry.id, ERROR, BASE_TIME)
    return entry.id


def _status(engine: Engine, jid: int) -> str:
    with engine.connect() as conn:
        query = select(t.journal.c.status).where(t.journal.c.id == jid)
        return str(conn.execute(query).scalar_one())


def test_a_set_aside_entry_shows_on_the_admin_page_the_ledger_and_metrics(
    client: TestClient, org_engine: Engine, set_aside: int
) -> None:
    csrf = sign_in(client, "admin", "admin-password")
    page = client.get("/desk/admin")
    assert page.status_code == 200
    assert 'id="failed-entries"' in page.text and ERROR in page.text
    metrics = client.get("/metrics").text
    assert "seva_journal_failed_entries 1.0" in metrics
    with org_engine.connect() as conn:
        [source] = [r for r in ledger.report(conn, BASE_TIME, 300) if r["source"] == "x-webhook"]
    assert source["failed"] == 1 and "1 entries set aside" in source["alerts"][0]

    retried = client.post("/desk/admin/journal/retry", data={"csrf": csrf, "entry": set_aside})
    assert retried.status_code == 200 and "Back to the drain: 1 entries" in retried.text
    assert _status(org_engine, set_aside) == "pending"
    assert "seva_journal_failed_entries 0.0" in client.get("/metrics").text
    with org_engine.connect() as conn:
        events = conn.execute(
            select(t.account_events.c.actor, t.account_events.c.action, t.account_events.c.detail)
        ).all()
    assert ("user:admin", "journal_retry", f"1 entries: {set_aside}") in [tuple(e) for e in events]
    again = client.post("/desk/admin/journal/retry", data={"csrf": csrf, "entry": set_aside})
    assert again.status_code == 404 and "is not set aside" in again.text


def test_only_an_organisation_admin_may_retry(
    client: TestClient, org_engine: Engine, set_aside: int
) -> None:
    csrf = sign_in(client, "lko.agent", "lko-password")
    answer = client.post("/desk/admin/journal/retry", data={"csrf": csrf, "entry": "all"})
    assert answer.status_code == 403
    assert _status(org_engine, set_aside) == "failed"


def test_seva_journal_lists_and_retries_set_aside_entries(
    org_engine: Engine, database_url: str, set_aside: int
) -> None:
    env = {**os.environ, "SEVA_DATABASE_URL": database_url, "SEVA_LOG_LEVEL": "WARNING"}

    def seva(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "sevadesk", "journal", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)

    listed = seva("failed")
    assert (
        listed.returncode == 0 and ERROR in listed.stdout and "1 entries set aside" in listed.stdout
    )
    assert seva("retry").returncode == 2  # neither ids nor --all-failed
    assert seva("retry", "999999").returncode == 2
    done = seva("retry", "--all-failed")
    assert done.returncode == 0 and "1 entries back to pending" in done.stdout
    assert _status(org_engine, set_aside) == "pending"
