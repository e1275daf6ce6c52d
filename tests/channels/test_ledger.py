"""The ingestion ledger: lag, gaps and quota per source, with alerts on /metrics and in the API."""

from __future__ import annotations

import warnings
from datetime import timedelta

from sqlalchemy import Engine

from sevadesk.channels.x.client import XClient
from sevadesk.channels.x.stream import XSearchPoller
from sevadesk.config import Settings
from sevadesk.domain.clock import FrozenClock
from sevadesk.store import ledger
from sevadesk.store.users_repo import issue_token
from sevadesk.web.app import create_app
from tests.factories import BASE_TIME

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_a_gap_left_open_raises_an_alert_on_metrics_and_in_the_api(
    org_engine: Engine, settings: Settings
) -> None:
    clock = FrozenClock(BASE_TIME)
    with org_engine.begin() as conn:
        ledger.record_reads(
            conn, "x-stream", "x", clock.now(), 5, "100", BASE_TIME - timedelta(seconds=3)
        )
        ledger.open_gap(conn, "x-stream", "100", clock.now())
        token = issue_token(conn, "admin", "test")
        district = issue_token(conn, "lko.agent", "test")
    with TestClient(create_app(settings, org_engine, clock)) as client:
        # Sources serve every office: a district's officer is told the ledger is not theirs.
        refused = client.get(
            "/api/v1/ingest/sources", headers={"Authorization": f"Bearer {district}"}
        )
        assert refused.status_code == 403 and "whole deployment" in refused.json()["detail"]
        quiet = client.get("/metrics").text
        assert 'seva_ingest_alert{source="x-stream"} 0.0' in quiet
        assert 'seva_ingest_quota_used{source="x-stream"} 5.0' in quiet
        clock.advance(timedelta(minutes=10))  # over the 300 s threshold, not backfilled
        assert 'seva_ingest_alert{source="x-stream"} 1.0' in client.get("/metrics").text
        sources = client.get(
            "/api/v1/ingest/sources", headers={"Authorization": f"Bearer {token}"}
        ).json()
    stream = next(s for s in sources if s["source"] == "x-stream")
    assert stream["gaps_detected"] == 1 and stream["gaps_backfilled"] == 0
    assert stream["alerts"] and "not yet backfilled" in stream["alerts"][0]


def test_polling_slows_down_when_the_month_would_overrun_the_budget(
    org_engine: Engine, settings: Settings
) -> None:
    clock = FrozenClock(BASE_TIME)  # 20 November: two thirds of the month gone
    budgeted = Settings.model_validate(
        {**settings.model_dump(), "x_monthly_read_budget": 10_000, "x_poll_interval_seconds": 60}
    )
    poller = XSearchPoller(XClient.from_settings(budgeted), org_engine, budgeted, clock)
    assert poller.interval() == 60
    with org_engine.begin() as conn:  # 9,000 read in 19.4 days: 14,000 by month end
        ledger.record_reads(conn, "x-search", "x", clock.now(), 9_000)
    assert 60 * 1.3 < poller.interval() < 60 * 1.5
    assert poller.budget_left() == 1_000
    with org_engine.begin() as conn:
        ledger.record_reads(conn, "x-search", "x", clock.now(), 1_000)
    assert poller.budget_left() == 0
    assert poller.poll_once() == 0  # nothing read once the budget is spent
