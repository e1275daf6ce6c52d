"""Routing decisions: jurisdiction within the addressed organisation, then handle, then default."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sevadesk.domain.messages import InboundMessage
from sevadesk.domain.units import UnitRef
from sevadesk.routing.router import NoDefaultUnit, Router
from sevadesk.triage.baseline import BaselineTriager

UNITS = {
    1: UnitRef(1, "ROOT", "/ROOT/", "GEN"),
    2: UnitRef(2, "RLY", "/ROOT/RLY/", "RLY"),
    3: UnitRef(3, "RLY-LKO", "/ROOT/RLY/RLY-LKO/", "RLY"),
    4: UnitRef(4, "UPP", "/ROOT/UPP/", "UPP"),
    5: UnitRef(5, "UPP-LKO", "/ROOT/UPP/UPP-LKO/", "UPP"),
}


@pytest.fixture
def router() -> Router:
    return Router(
        units=UNITS,
        handles={"railminindia": 2, "uppolice": 4},
        hashtags={"railmadad": 2},
        jurisdiction={
            ("station", "LKO"): [3],
            ("district", "lucknow"): [5],
            ("pin", "226001"): [5],
            ("district", "kanpur dehat"): [5],
        },
        default_unit_id=1,
    )


def route(
    router: Router, text: str, mentions: tuple[str, ...] = (), hashtags: tuple[str, ...] = ()
) -> tuple[str, str]:
    msg = InboundMessage(
        "x", "1", "9", text, datetime(2026, 1, 1, tzinfo=UTC), mentions=mentions, hashtags=hashtags
    )
    unit, decision = router.route(msg, BaselineTriager().triage_one(text))
    assert unit.code == decision.unit_code
    return decision.unit_code, decision.reason


def test_a_station_code_routes_to_the_division(router: Router) -> None:
    assert route(router, "@RailMinIndia dirty platform at LKO", ("RailMinIndia",)) == (
        "RLY-LKO",
        "jurisdiction",
    )


def test_a_place_outside_the_addressed_organisation_is_ignored(router: Router) -> None:
    # Lucknow is a police district here; a railway complaint naming it stays with Railways.
    assert route(router, "@RailMinIndia train late at lucknow", ("RailMinIndia",)) == (
        "RLY",
        "handle",
    )


def test_a_district_name_routes_police_complaints(router: Router) -> None:
    assert route(router, "@Uppolice theft in Lucknow market", ("Uppolice",)) == (
        "UPP-LKO",
        "jurisdiction",
    )
    assert route(router, "@Uppolice fight in Kanpur Dehat", ("Uppolice",)) == (
        "UPP-LKO",
        "jurisdiction",
    )


def test_hashtag_then_default(router: Router) -> None:
    assert route(router, "no water #RailMadad", hashtags=("RailMadad",)) == ("RLY", "hashtag")
    assert route(router, "road broken near my house") == ("ROOT", "default")


def test_without_an_organisation_routing_says_what_to_do() -> None:
    empty = Router(units={}, handles={}, hashtags={}, jurisdiction={}, default_unit_id=None)
    with pytest.raises(NoDefaultUnit, match="seva org load"):
        route(empty, "anything")
