"""The org file's time zone and alert settings: validated, stored, read back."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from sevadesk.routing.orgfile import OrgFileError, parse_org
from sevadesk.store.org_repo import alert_settings, apply_org, org_timezone

UNITS: list[dict[str, Any]] = [
    {"code": "UPP", "name": "UP Police", "kind": "state_police", "ticket_prefix": "UPP"}
]


def test_the_time_zone_defaults_to_india() -> None:
    spec = parse_org({"units": UNITS})
    assert spec.timezone == "Asia/Kolkata"
    assert spec.alerts.sos_acknowledge_within == 5


def test_an_unknown_time_zone_is_refused_naming_the_key() -> None:
    with pytest.raises(OrgFileError) as refused:
        parse_org({"units": UNITS, "timezone": "India/Delhi"})
    [problem] = refused.value.problems
    assert problem.startswith("timezone:")
    assert "unknown time zone 'India/Delhi'" in problem and "Asia/Kolkata" in problem


def test_a_bad_sos_wait_is_refused_naming_the_key() -> None:
    with pytest.raises(OrgFileError) as refused:
        parse_org({"units": UNITS, "alerts": {"sos_acknowledge_within": "soon"}})
    assert refused.value.problems[0].startswith("alerts.sos_acknowledge_within:")


def test_the_settings_are_stored_with_the_organisation(engine: Engine) -> None:
    with engine.connect() as conn:  # before any org file: the defaults
        assert org_timezone(conn) == "Asia/Kolkata"
        assert alert_settings(conn).sos_acknowledge_within == 5
    spec = parse_org(
        {"units": UNITS, "timezone": "Asia/Dhaka", "alerts": {"sos_acknowledge_within": "2m"}}
    )
    with engine.begin() as conn:
        apply_org(conn, spec)
    with engine.connect() as conn:
        assert org_timezone(conn) == "Asia/Dhaka"
        assert alert_settings(conn).sos_acknowledge_within == 2
