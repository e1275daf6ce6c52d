"""Ingestion-ledger figures on /metrics, read from the database at scrape time, so every
worker process and every replica reports the same numbers."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from sevadesk.config import Settings
from sevadesk.domain.clock import Clock
from sevadesk.pipeline import journal
from sevadesk.store import ledger


class LedgerCollector(Collector):
    def __init__(self, engine: Engine, settings: Settings, clock: Clock) -> None:
        self.engine, self.settings, self.clock = engine, settings, clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        lag = GaugeMetricFamily(
            "seva_ingest_lag_seconds", "Age of the newest post at receipt", labels=["source"]
        )
        gaps = GaugeMetricFamily("seva_ingest_gaps_detected", "Outages detected", labels=["source"])
        filled = GaugeMetricFamily(
            "seva_ingest_gaps_backfilled", "Outages recovered", labels=["source"]
        )
        quota = GaugeMetricFamily(
            "seva_ingest_quota_used", "Posts read this month", labels=["source"]
        )
        budget = GaugeMetricFamily(
            "seva_ingest_quota_budget", "Monthly read budget", labels=["channel"]
        )
        alert = GaugeMetricFamily(
            "seva_ingest_alert",
            "1 when lag or an open gap is over the threshold",
            labels=["source"],
        )
        failed = GaugeMetricFamily(
            "seva_journal_failed_entries",
            "Journal entries the database refused, set aside until retried",
        )
        set_aside: int | None = None
        try:
            with self.engine.connect() as conn:
                rows = ledger.report(conn, self.clock.now(), self.settings.ingest_lag_alert_seconds)
                set_aside = journal.failed_count(conn)
        except Exception:  # a scrape must not fail because the database blinked
            rows = []
        for row in rows:
            source = row["source"]
            lag.add_metric([source], row["lag_seconds"] or 0.0)
            gaps.add_metric([source], row["gaps_detected"])
            filled.add_metric([source], row["gaps_backfilled"])
            quota.add_metric([source], row["quota_used"])
            alert.add_metric([source], 1.0 if row["alerts"] else 0.0)
        budget.add_metric(["x"], self.settings.x_monthly_read_budget)
        yield from (lag, gaps, filled, quota, budget, alert)
        if set_aside is not None:
            failed.add_metric([], set_aside)
            yield failed
