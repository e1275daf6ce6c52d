"""Scenarios on the demo organisation: places in posts route to the right office."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from sevadesk.routing.explain import evaluate_routing, explain
from sevadesk.routing.orgfile import load_org_file
from sevadesk.routing.router import Router
from sevadesk.store.org_repo import apply_org
from sevadesk.triage.entities import extract
from sevadesk.triage.model_triager import ModelTriager
from sevadesk.triage.places import gazetteer

ROOT = Path(__file__).parents[2]
DEMO_ORG = ROOT / "src" / "sevadesk" / "demo" / "org.yaml"
ROUTING_SET = ROOT / "evaluation" / "routing_demo.csv"


@pytest.fixture
def demo_router(engine: Engine) -> Router:
    with engine.begin() as conn:
        apply_org(conn, load_org_file(DEMO_ORG))
    with engine.connect() as conn:
        return Router.load(conn)


@pytest.fixture(scope="module")
def triager() -> ModelTriager:
    return ModelTriager()


@pytest.mark.parametrize(
    ("text", "unit", "evidence"),
    [
        ("@Uppolice chain snatching near Hazratganj, Lucknow 226001", "UPP-LUCKNOW", "PIN 226001"),
        ("@Uppolice chain snatching near Hazratganj", "UPP-LUCKNOW", "locality 'hazratganj'"),
        ("@Uppolice मेरठ में एफआईआर दर्ज नहीं हो रही", "UPP-MEERUT", "district 'मेरठ'"),
        ("@RailMinIndia no water in coach B4 of 12951, now at Kota Jn", "RLY-WCR-KOTA", "station"),
        ("@RailMinIndia no water in coach B4 of 12951", "RLY-WR", "train 12951"),
        ("@Uppolice loud music every night near my house", "UPP", "@Uppolice"),
    ],
)
def test_demo_scenarios(
    demo_router: Router, triager: ModelTriager, text: str, unit: str, evidence: str
) -> None:
    result = explain(demo_router, triager, text)
    assert result.decision.unit_code == unit
    assert evidence in result.decision.detail


def test_a_railway_post_naming_a_police_district_stays_with_railways(
    demo_router: Router, triager: ModelTriager
) -> None:
    result = explain(
        demo_router, triager, "@RailMinIndia toilet dirty in S5 of 12004, I boarded at Lucknow"
    )
    assert result.decision.unit_code.startswith("RLY")


def test_the_gazetteer_reads_pins_hindi_names_and_ignores_words_that_look_like_codes() -> None:
    g = gazetteer()
    text = "AC not working, PNR 4512345678, TT absent, train at Kanpur Central station, PIN 208001, वाराणसी"
    location = g.resolve(text, extract(text))
    kinds = {(p.kind, p.value) for p in location.places}
    assert ("station", "CNB") in kinds and ("pin", "208001") in kinds
    assert "Varanasi" in location.districts and "Kanpur Nagar" in location.districts
    assert not any(p.value in ("AC", "PNR", "TT") for p in location.places)


def test_station_codes_need_a_railway_post_and_are_not_words_tags_or_shouting() -> None:
    def stations(text: str) -> list[str]:
        return gazetteer().resolve(text, extract(text)).stations

    assert stations("@RailMinIndia train stuck at CNB outer for an hour") == ["CNB"]
    assert stations("@RailMinIndia the escalator at Kanpur Central is broken") == ["CNB"]
    assert stations("@Uppolice chain snatched near CNB crossing") == []  # not a railway post
    assert stations("@RailMinIndia zero deaths in train accidents #BJP #PMModi") == []
    assert stations("@RailMinIndia PLS help SIR, THE coach is dirty") == []
    assert stations("@RAILMININDIA THE TRAIN IS LATE AND NOBODY CARES AT ALL") == []


def test_renamed_stations_resolve_to_their_current_codes() -> None:
    def places(text: str) -> list[tuple[str, str | None]]:
        loc = gazetteer().resolve(text, extract(text))
        return [(p.value, p.zone) for p in loc.places if p.kind == "station"]

    assert places("@RailMinIndia FOB crowded at Mumbai Central") == [("MMCT", "WR")]
    assert places("@RailMinIndia train stuck near Mughalsarai (MGS) for 3 hours") == [
        ("DDU", "ECR")
    ]
    assert places("@RailMinIndia no water at Allahabad Jn") == [("PRYJ", "NCR")]
    # The 2016 list has Mumbai CST as CSTM; citizens write its current code or its full name.
    assert places("@RailMinIndia no water at Chhatrapati Shivaji Terminus station") == [
        ("CSMT", "CR")
    ]
    assert places("@RailMinIndia local stuck outside CSMT for an hour") == [("CSMT", "CR")]


def test_every_station_alias_names_a_known_station() -> None:
    g = gazetteer()
    assert {c for c in g.station_names.values() if c not in g.stations} == set()
    assert {c for c in g.renamed.values() if c not in g.stations} == set()


def test_routing_accuracy_on_the_labelled_demo_set(
    demo_router: Router, triager: ModelTriager
) -> None:
    accuracy, count, misses = evaluate_routing(demo_router, triager, ROUTING_SET)
    assert count >= 40
    assert accuracy >= 0.9, misses


def test_route_explain_command_prints_the_decision(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'd.db'}"
    run = [sys.executable, "-m", "sevadesk"]
    subprocess.run([*run, "org", "load", str(DEMO_ORG), "-d", db], check=True, capture_output=True)
    out = subprocess.run(
        [
            *run,
            "route",
            "explain",
            "@RailMinIndia no water in B4 of 12951 now at Kota Jn",
            "-d",
            db,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "route: RLY-WCR-KOTA by jurisdiction" in out.replace("\n", " ")


def test_on_the_demo_organisation_an_sos_reaches_the_lucknow_control_room(
    demo_router: Router, engine: Engine
) -> None:
    from sqlalchemy import select

    from sevadesk.config import Settings
    from sevadesk.pipeline.runner import Pipeline
    from sevadesk.store import tables as t
    from tests.factories import lines, tweet

    pipeline = Pipeline(engine, None, Settings(database_url=str(engine.url)))
    pipeline.ingest(
        "x",
        "demo",
        lines(
            tweet(
                "@Uppolice a man with a knife is threatening people near Hazratganj, Lucknow 226001"
            )
        ),
    )
    with engine.connect() as conn:
        row = conn.execute(
            select(t.tickets.c.status, t.tickets.c.priority, t.positions.c.code).join(
                t.positions, t.positions.c.id == t.tickets.c.position_id
            )
        ).one()
    assert tuple(row) == ("assigned", "p1", "LKO-CONTROL-ROOM")
