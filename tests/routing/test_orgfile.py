"""Loading an organisation: a valid file loads; every mistake is reported with its key path."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from sevadesk.routing.orgfile import OrgFileError, load_org_file, parse_duration, parse_org
from sevadesk.store import tables as t
from sevadesk.store.org_repo import apply_org
from tests.conftest import TEST_ORG

DEMO_ORG = Path(__file__).parents[2] / "src" / "sevadesk" / "demo" / "org.yaml"


def minimal(**unit: object) -> dict[str, object]:
    return {
        "units": [{"code": "A", "name": "A", "kind": "ministry", "ticket_prefix": "AA", **unit}]
    }


def problems_of(data: dict[str, object]) -> list[str]:
    with pytest.raises(OrgFileError) as info:
        parse_org(data)
    return info.value.problems


def test_a_bad_handle_is_named_by_its_key_path() -> None:
    data = minimal(
        children=[{"code": "B", "name": "B", "kind": "zone", "handles": ["ok", "not a handle!"]}]
    )
    assert problems_of(data) == [
        "units[0].children[0].handles (in B): not an X handle: 'not a handle!'"
    ]


def test_cross_checks_name_their_keys() -> None:
    data = minimal(
        handles=["x1"], children=[{"code": "A", "name": "dup", "kind": "zone", "handles": ["X1"]}]
    )
    data["users"] = [
        {"username": "u1", "name": "U", "role": "agent", "unit": "NOPE", "password": "long-enough"}
    ]
    found = problems_of(data)
    assert "units[0].children[0].code: 'A' is already used at units[0]" in found
    assert "units[0].children[0].handles[0]: @x1 is already owned by units[0]" in found
    assert "users[0].unit: no unit with code 'NOPE'" in found


def test_unknown_keys_and_bad_durations_are_refused() -> None:
    data = minimal(colour="blue")
    data["sla_policies"] = [{"unit": "A", "first_response": "soon", "resolution": "1d"}]
    found = problems_of(data)
    assert any(p.startswith("units[0].colour (in A): unknown key") for p in found)
    assert any(p.startswith("sla_policies[0].first_response:") for p in found)


def test_a_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "org.yaml"
    bad.write_text("units:\n  - code: A\n    name: [unclosed\n")
    with pytest.raises(OrgFileError, match=r"line \d+, column \d+"):
        load_org_file(bad)


def test_durations() -> None:
    assert (
        parse_duration("15m"),
        parse_duration("4h"),
        parse_duration("2d"),
        parse_duration(30),
    ) == (15, 240, 2880, 30)


def test_loading_twice_updates_instead_of_duplicating(engine: Engine) -> None:
    spec = load_org_file(TEST_ORG)
    with engine.begin() as conn:
        apply_org(conn, spec)
    with engine.begin() as conn:
        apply_org(conn, spec)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.units)).scalar() == 8
        assert conn.execute(select(func.count()).select_from(t.unit_handles)).scalar() == 4
        path = conn.execute(select(t.units.c.path).where(t.units.c.code == "UPP-LUCKNOW")).scalar()
        assert path == "/ROOT/UPP/UPP-Z-LKO/UPP-LUCKNOW/"
        hashes = conn.execute(select(t.users.c.password_hash)).scalars().all()
        assert all(h.startswith("$argon2id$") for h in hashes)


def test_the_shipped_demo_organisation_is_valid() -> None:
    spec = load_org_file(DEMO_ORG)
    districts = [u for u, _, _ in spec.walk() if u.kind in ("district", "commissionerate")]
    assert len(districts) == 75
    assert sum(1 for u, _, _ in spec.walk() if u.kind == "range") == 18


def test_triage_rules_are_validated_with_their_key_path() -> None:
    data = minimal()
    data["triage"] = {
        "categories": ["water", "teleportation"],
        "rules": [
            {"id": "r1", "pattern": "([unclosed", "urgency": "high"},
            {"id": "r2", "keywords": ["x"]},
        ],
    }
    found = problems_of(data)
    assert any(
        p.startswith("triage.rules[0].pattern: not a valid regular expression") for p in found
    )
    data["triage"]["rules"][0]["pattern"] = "fine"
    found = problems_of(data)
    assert "triage.categories[1]: unknown category 'teleportation'" in found
    assert "triage.rules[1]: set at least one of kind, category, urgency" in found


def test_complaint_hashtags_are_read_without_their_hash_and_checked() -> None:
    data = minimal()
    data["triage"] = {"addressing_hashtags": ["#PassportSeva", "DOTSeva"]}
    assert parse_org(data).triage.addressing_hashtags == ["passportseva", "dotseva"]  # type: ignore[union-attr]
    data["triage"] = {"addressing_hashtags": ["Passport Seva"]}
    assert any(p.startswith("triage.addressing_hashtags: not a hashtag") for p in problems_of(data))


def test_the_actionable_threshold_is_a_probability_and_reaches_triage() -> None:
    data = minimal()
    data["triage"] = {"actionable_threshold": 0.3}
    assert parse_org(data).triage_config().actionable_threshold == 0.3
    assert minimal() and parse_org(minimal()).triage_config().actionable_threshold is None
    data["triage"] = {"actionable_threshold": 1.5}
    assert any(
        p.startswith("triage.actionable_threshold: should be less than or equal to 1")
        for p in problems_of(data)
    )


def test_routing_rules_are_validated_with_their_key_path() -> None:
    data = minimal()
    data["routing_rules"] = [
        {
            "id": "a",
            "when": {"kinds": ["sos"]},
            "then": {"route_to": "NOPE", "acknowledge": "missing"},
        },
        {"id": "b", "when": {}, "then": {"ignore": True}},
        {"id": "c", "when": {"kinds": ["sos"]}, "then": {"priority": "urgent"}},
    ]
    found = problems_of(data)
    assert any(p.startswith("routing_rules[2].then.priority:") for p in found)
    data["routing_rules"].pop()
    found = problems_of(data)
    assert "routing_rules[0].then.route_to: no unit with code 'NOPE'" in found
    assert "routing_rules[0].then.acknowledge: unknown template 'missing'" in found
    assert "routing_rules[1].when: give at least one condition" in found
