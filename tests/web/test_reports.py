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
    row = re.search(rf'<tr data-key="{key}">(.*?)</tr>', page, re.S)
    assert row, key
    match = re.search(rf'<td class="{column}">([^<]*?)\s*(?:<span[^>]*>[^<]*</span>)?</td>', row[1])
    assert match, (key, row[1])
    return match.group(1)


def count_beside(page: str, key: str, column: str = "today") -> str:
    row = re.search(rf'<tr data-key="{key}">.*?<td class="{column}">.*?</td>', page, re.S)
    assert row, key
    match = re.search(r'class="muted count">\(([^)]*)\)', row[0])
    return match[1] if match else ""


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
    assert count_beside(page, "sla_resolution_pct") == "1 of 1"  # a percentage says of what
    assert count_beside(page, "sla_first_response_pct") == ""  # no answers yet: no "0 of 0"
    rollup = client.get("/desk/reports/rollup.csv")
    assert rollup.headers["content-type"].startswith("text/csv")
    raw = list(csv.DictReader(io.StringIO(rollup.text)))
    assert sum(int(r["opened"]) for r in raw) == 1 and sum(int(r["resolved"]) for r in raw) == 1
    assert {r["unit"] for r in raw} == {"UPP-LUCKNOW"} and "fr_0" in raw[0]


def test_the_report_export_has_the_columns_the_page_shows(
    client: TestClient, two_tickets: list[str]
) -> None:
    csrf = sign_in(client, "admin", "admin-password")
    client.post(
        f"/desk/t/{two_tickets[1]}/status",
        data={"csrf": csrf, "status": "resolved", "note": "done"},
    )
    page = client.get("/desk/reports?unit=UPP-Z-LKO").text
    export = client.get("/desk/reports.csv?unit=UPP-Z-LKO")
    assert "sevadesk-report-UPP-Z-LKO" in export.headers["content-disposition"]
    rows = {r["unit"]: r for r in csv.DictReader(io.StringIO(export.text))}
    assert "fr_0" not in next(iter(rows.values()))  # the page's columns, not the raw rollup
    for code in ("UPP-LUCKNOW", "UPP-KANPUR"):
        shown = re.search(rf'data-code="{code}".*?</tr>', page, re.S)
        assert shown, code
        cells = re.findall(r"<td[^>]*>(.*?)</td>", shown[0], re.S)
        assert cells[1] == rows[code]["opened"] and cells[3] == rows[code]["backlog"]
    assert rows["UPP-KANPUR"]["resolved"] == "1" and rows["UPP-LUCKNOW"]["resolved"] == "0"
    total = rows["UPP-Z-LKO"]
    assert total["name"] == "total" and total["opened"] == "2" and total["backlog"] == "1"
    assert total["resolved_in_sla"] == "1" and total["resolved_in_sla_pct"] == "100"


def test_the_chart_has_a_count_axis_dates_and_a_legend(
    client: TestClient, two_tickets: list[str]
) -> None:
    sign_in(client, "admin", "admin-password")
    page = client.get("/desk/reports?days=30").text
    chart = re.search(r'<svg[^>]*id="chart".*?</svg>', page, re.S)
    assert chart
    ticks = re.findall(r'class="y-tick">(\d+)<', chart[0])
    assert ticks[0] == "0" and int(ticks[-1]) >= 2  # up to at least the day's two openings
    dates = re.findall(r'class="x-tick">([^<]+)<', chart[0])
    assert 2 <= len(dates) <= 8 and (dates[0], dates[-1]) == ("22 Oct", "20 Nov")  # 30 days
    assert "Tickets opened (2)" in chart[0] and "Resolved (0)" in chart[0]


def test_every_desk_text_exists_in_hindi() -> None:
    from sevadesk.web.ui.i18n import TEXTS

    assert set(TEXTS["hi"]) == set(TEXTS["en"])


def test_the_reports_page_speaks_hindi(client: TestClient, two_tickets: list[str]) -> None:
    sign_in(client, "admin", "admin-password")
    client.cookies.set("seva_lang", "hi")
    page = client.get("/desk/reports").text
    assert "दर्ज शिकायतें" in page and "समय सीमा में निपटान" in page


def test_spikes_wait_for_a_week_of_history(
    client: TestClient, two_tickets: list[str], org_engine: Engine, clock: FrozenClock
) -> None:
    """A new deployment has no baseline: a busy day is not a spike of every category. With a
    week of quiet days behind it, a category at several times its average is one."""
    with org_engine.begin() as conn:
        lucknow = conn.execute(
            select(t.units.c.id).where(t.units.c.code == "UPP-LUCKNOW")
        ).scalar_one()
        rollups.bump(conn, [(rollups.Key.of(lucknow, "theft", clock.now()), {"opened": 9})])
    sign_in(client, "admin", "admin-password")
    page = client.get("/desk/reports?unit=UPP-Z-LKO").text
    assert 'id="no-history"' in page and "0 of 7 days" in page
    theft = re.search(r'data-category="theft".*?</tr>', page, re.S)
    assert theft and "badge sos" not in theft[0]

    with org_engine.begin() as conn:
        rollups.bump(
            conn,
            [
                (
                    rollups.Key.of(lucknow, "theft", clock.now() - timedelta(days=d)),
                    {"opened": 1, "received": 1},
                )
                for d in range(1, 8)
            ],
        )
    page = client.get("/desk/reports?unit=UPP-Z-LKO").text
    assert 'id="no-history"' not in page
    rows = {m[1]: m[0] for m in re.finditer(r'data-category="([^"]+)".*?</tr>', page, re.S)}
    assert "badge sos" in rows["theft"]  # 9 (+1 from the fixture) today against 1 a day
    assert all("badge sos" not in row for c, row in rows.items() if c != "theft")


def test_the_staffing_page_shows_officers_per_shift_and_the_figures_behind_them(
    client: TestClient, two_tickets: list[str], org_engine: Engine, clock: FrozenClock
) -> None:
    with org_engine.begin() as conn:
        kanpur = conn.execute(
            select(t.units.c.id).where(t.units.c.code == "UPP-KANPUR")
        ).scalar_one()
        rollups.bump(conn, [(rollups.Key.of(kanpur, "theft", clock.now()), {"opened": 40})])
    sign_in(client, "admin", "admin-password")
    page = client.get("/desk/reports/staffing?unit=UPP-Z-LKO&goal=90").text
    assert page.count("<tr data-day=") == 7 and page.count('data-shift="night"') == 7
    officers = [int(n) for n in re.findall(r'class="officers">(\d+)<', page)]
    assert len(officers) == 21 and max(officers) >= 2  # 40+ tickets in one hour need a team
    assert "90% of tickets" in page and "a default" in page  # inputs shown, default said
    sign_in(client, "lko.agent", "lko-password")
    mine = client.get("/desk/reports/staffing?unit=UPP-KANPUR").text  # outside: own scope
    # Lucknow's one ticket an hour, 8 minutes each, answered within the hour: one officer.
    assert "UPP-LUCKNOW" in mine and sorted(
        int(n) for n in re.findall(r'class="officers">(\d+)<', mine)
    ) == [0] * 20 + [1]
