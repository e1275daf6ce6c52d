"""The reports' table of offices: each child of the unit shows its whole subtree's figures
for the period (grandchildren included, other days and other branches not)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, select

from sevadesk.reports import figures
from sevadesk.reports.figures import Period
from sevadesk.store import rollups
from sevadesk.store import tables as t

TODAY = date(2026, 12, 7)


def _at(days_ago: int) -> datetime:
    day = TODAY - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


def test_each_office_sums_its_subtree_for_the_period(org_engine: Engine) -> None:
    with org_engine.begin() as conn:
        ids = dict(conn.execute(select(t.units.c.code, t.units.c.id)).all())
        rollups.bump(
            conn,
            [
                (rollups.Key.of(ids[code], "theft", _at(ago)), counts)
                for code, ago, counts in [
                    ("UPP-LUCKNOW", 0, {"opened": 3, "resolved": 1, "resolved_in_sla": 1}),
                    ("UPP-KANPUR", 2, {"opened": 2, "resolved": 2}),
                    ("UPP", 1, {"opened": 1}),  # the agency's own desk
                    ("UPP-LUCKNOW", 40, {"opened": 50}),  # before the period
                    ("RLY-NR-LKO", 1, {"opened": 4, "resolved": 3, "resolved_in_sla": 3}),
                ]
            ],
        )
    with org_engine.connect() as conn:
        rows = figures.units(conn, "/ROOT/", Period.last(30, TODAY), _at(0))
        zones = figures.units(conn, "/ROOT/UPP/UPP-Z-LKO/", Period.last(30, TODAY), _at(0))
    by_code = {r["code"]: r for r in rows}
    assert set(by_code) == {"RLY", "UPP"}
    assert (by_code["UPP"]["opened"], by_code["UPP"]["resolved"]) == (6, 3)
    assert by_code["UPP"]["sla_resolution_pct"] == 33
    assert (by_code["RLY"]["opened"], by_code["RLY"]["resolved"]) == (4, 3)
    assert by_code["RLY"]["sla_resolution_pct"] == 100
    assert all(r["drill"] for r in rows)
    districts = {r["code"]: (r["opened"], r["drill"]) for r in zones}
    assert districts == {"UPP-LUCKNOW": (3, False), "UPP-KANPUR": (2, False)}
