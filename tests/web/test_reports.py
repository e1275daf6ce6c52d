"""Reports come from rollups bumped as tickets open, get answers and are resolved."""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from sevadesk.config import Settings
from sevadesk.domain.clock import FrozenClock
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import rollups
from sevadesk.store import tables as t
from sevadesk.store.users_repo import actor_by_username
from sevadesk.tickets.actions import change_status, queue_reply
from sevadesk.web.app import create_app
from tests.factories import lines, tweet
from tests.web.signin import sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _sum(engine: Engine, column: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.coalesce(func.sum(getattr(t.rollups.c, column)), 0))
            ).scalar_one()
        )


@pytest.fixture
def two_tickets(pipeline: Pipeline, org_engine: Engine) -> list[str]:
    pipeline.ingest(
        "x",
        "test",
        lines(
            tweet("@Uppolice my phone was snatched near Hazratganj, Lucknow 226001", author_id="1"),
            tweet("@Uppolice chain snatching in Kanpur, PIN 208001", author_id="2", minutes=1),
            tweet("what a lovely morning", author_id="3", minutes=2),
        ),
    )
    with org_engine.connect() as conn:
        return list(conn.execute(select(t.tickets.c.ref).order_by(t.tickets.c.id)).scalars())


def test_rollups_count_openings_first_responses_and_resolutions(
    two_tickets: list[str], org_engine: Engine, clock: FrozenClock
) -> None:
    assert _sum(org_engine, "opened") == 2
    assert _sum(org_engine, "received") == 3 and _sum(org_engine, "actionable") == 2
    lucknow = two_tickets[0]
    with org_engine.begin() as conn:
        agent = actor_by_username(conn, "lko.agent")
        assert agent is not None
        clock.advance(timedelta(minutes=20))
        queue_reply(conn, agent, lucknow, "Police are on the way.", "k1", clock.now())
        queue_reply(
            conn, agent, lucknow, "Second reply is not a first response.", "k2", clock.now()
        )
        change_status(conn, agent, lucknow, "resolved", "phone recovered", clock.now())
    assert _sum(org_engine, "first_responses") == 1
    assert _sum(org_engine, "resolved") == 1
    with org_engine.connect() as conn:
        fr = [
            int(conn.execute(select(func.sum(getattr(t.rollups.c, f"fr_{i}")))).scalar() or 0)
            for i in range(12)
        ]
        opened_at = conn.execute(
            select(t.tickets.c.opened_at).where(t.tickets.c.ref == lucknow)
        ).scalar_one()
    waited = (clock.now() - opened_at).total_seconds()  # posted at 09:00, answered at 10:20
    assert fr[rollups.bucket(waited)] == 1 and sum(fr) == 1


@given(st.lists(st.floats(0, 30 * 86400), min_size=1, max_size=200))
def test_percentiles_from_buckets_are_ordered_and_bounded(durations: list[float]) -> None:
    buckets = [0] * 12
    for d in durations:
        buckets[rollups.bucket(d)] += 1
    p50, p90 = rollups.percentile(buckets, 0.5), rollups.percentile(buckets, 0.9)
    assert p50 is not None and p90 is not None and 0 <= p50 <= p90
    top = max(rollups.bucket(d) for d in durations)
    assert p90 <= (rollups.BOUNDS[top] if top < 11 else rollups.BOUNDS[10] * 2)


@given(st.floats(0, 30 * 86400))
def test_one_duration_is_its_own_median_bucket(duration: float) -> None:
    buckets = [0] * 12
    buckets[rollups.bucket(duration)] += 1
    median = rollups.percentile(buckets, 0.5)
    assert median is not None and rollups.bucket(min(median, rollups.BOUNDS[10] * 1.99)) in (
        rollups.bucket(duration),
        rollups.bucket(duration) + 1,  # the bucket's upper bound belongs to the next one
    )


@pytest.fixture
def client(org_engine: Engine, settings: Settings, clock: FrozenClock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, org_engine, clock)) as c:
        yield c


def figure(page: str, key: str, column: str = "today") -> str:
    match = re.search(rf'data-key="{key}">.*?<td class="{column}">([^<]*)</td>', page, re.S)
    assert match, key
    return match.group(1)


def test_the_reports_page_shows_the_scope_and_drills_down(
    client: TestClient, two_tickets: list[str]
) -> None:
    sign_in(client, "admin", "admin-password")
    page = client.get("/desk/reports").text
    assert figure(page, "opened") == "2" and figure(page, "received") == "3"
    assert 'data-code="UPP"' in page and 'data-code="RLY"' in page
    upp = client.get("/desk/reports?unit=UPP-Z-LKO").text
    assert 'data-code="UPP-LUCKNOW"' in upp and 'data-code="UPP-KANPUR"' in upp
    sign_in(client, "lko.agent", "lko-password")
    mine = client.get("/desk/reports?unit=UPP-KANPUR").text  # outside the scope: ignored
    assert figure(mine, "opened") == "1"


def test_resolving_changes_the_counters_and_the_export_streams_every_row(
    client: TestClient, two_tickets: list[str]
) -> None:
    csrf = sign_in(client, "lko.agent", "lko-password")
    assert figure(client.get("/desk/reports").text, "resolved") == "0"
    client.post(
        f"/desk/t/{two_tickets[0]}/status",
        data={"csrf": csrf, "status": "resolved", "note": "done"},
    )
    page = client.get("/desk/reports").text
    assert figure(page, "resolved") == "1" and figure(page, "sla_resolution_pct") == "100"
    export = client.get("/desk/reports.csv")
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert sum(int(r["opened"]) for r in rows) == 1 and sum(int(r["resolved"]) for r in rows) == 1
    assert {r["unit"] for r in rows} == {"UPP-LUCKNOW"}


def test_every_desk_text_exists_in_hindi() -> None:
    from sevadesk.web.ui.i18n import TEXTS

    assert set(TEXTS["hi"]) == set(TEXTS["en"])


def test_the_reports_page_speaks_hindi(client: TestClient, two_tickets: list[str]) -> None:
    sign_in(client, "admin", "admin-password")
    client.cookies.set("seva_lang", "hi")
    page = client.get("/desk/reports").text
    assert "दर्ज शिकायतें" in page and "समय सीमा में निपटान" in page
