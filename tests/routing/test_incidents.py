"""150 posts about one delayed train become one incident that one reply answers."""

from __future__ import annotations

import warnings

from sqlalchemy import Engine, func, select

from sevadesk.config import Settings
from sevadesk.domain.clock import FrozenClock
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from sevadesk.store.users_repo import issue_token
from sevadesk.web.app import create_app
from tests.factories import lines, tweet

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

DELAYED = [
    "@RailMinIndia train 12004 running 4 hours late, no announcement at all",
    "@RailMinIndia 12004 is late again, stuck near Kanpur for 2 hours",
    "@RailMinIndia why is train 12004 so late today? passengers suffering",
    "@RailMinIndia train 12004 bahut late hai, 3 ghante se khadi hai",
    "@RailMinIndia delay in 12004, we will miss our connecting train",
]


def test_a_mass_delay_becomes_one_incident_and_one_reply_reaches_everyone(
    pipeline: Pipeline, org_engine: Engine, settings: Settings, clock: FrozenClock
) -> None:
    posts = [
        tweet(DELAYED[n % len(DELAYED)] + f" #{n}", author_id=str(1000 + n), minutes=n)
        for n in range(150)
    ]
    other = tweet(
        "@RailMinIndia no water in coach B4 of train 12951, PNR 4512345678", author_id="9"
    )
    for start in range(0, 150, 50):
        pipeline.ingest("x", "test", lines(*posts[start : start + 50]))
    pipeline.ingest("x", "test", lines(other))
    with org_engine.connect() as conn:
        incidents = conn.execute(select(t.incidents)).mappings().all()
        linked = conn.execute(
            select(func.count()).select_from(t.tickets).where(t.tickets.c.incident_id.is_not(None))
        ).scalar()
        tickets = conn.execute(select(func.count()).select_from(t.tickets)).scalar()
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident["key"] == "delay:train:12004"
    assert (
        linked == incident["ticket_count"] == tickets - 1 >= 140
    )  # the water complaint stays apart
    with org_engine.begin() as conn:
        token = issue_token(conn, "rly.agent", "test")
    with TestClient(create_app(settings, org_engine, clock)) as client:
        auth = {"Authorization": f"Bearer {token}"}
        detail = client.get(f"/api/v1/incidents/{incident['ref']}", headers=auth).json()
        assert detail["ticket_count"] == linked and len(detail["tickets"]) == linked
        body = {
            "body": "12004 was held by a signal failure near Kanpur; it is moving now. We regret the delay.",
            "idempotency_key": "kanpur-signal",
        }
        first = client.post(
            f"/api/v1/incidents/{incident['ref']}/replies", headers=auth, json=body
        ).json()
        again = client.post(
            f"/api/v1/incidents/{incident['ref']}/replies", headers=auth, json=body
        ).json()
    assert first["replies_queued"] == linked and again["replies_queued"] == 0
    with org_engine.connect() as conn:
        outbox = conn.execute(select(func.count()).select_from(t.outbox)).scalar()
    assert outbox == linked


def test_a_copy_paste_campaign_without_a_train_is_one_incident(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    campaign = (
        "Please restore the stoppage at our village halt, passengers walk 10 km to board any train"
    )
    posts = [
        tweet(f"@RailMinIndia @{handle} {campaign} #{n}", author_id=str(3000 + n), minutes=n)
        for n, handle in enumerate(["RailwaySeva", "DRMLucknow", "GMNR", "RailMadad"])
    ]
    pipeline.ingest(
        "x",
        "test",
        lines(*posts, tweet("@RailMinIndia the lift at platform 1 is broken again", author_id="9")),
    )
    with org_engine.connect() as conn:
        incidents = conn.execute(
            select(t.incidents.c.key, t.incidents.c.ticket_count, t.incidents.c.title)
        ).all()
    assert len(incidents) == 1
    assert ":text:" in incidents[0].key and incidents[0].ticket_count == 4
    assert "same post from many citizens" in incidents[0].title


def test_fingerprints_ignore_handles_numbers_and_order_but_not_words() -> None:
    from sevadesk.routing.incidents import text_fingerprint

    a = text_fingerprint("@RailMinIndia no water in coach since morning, PNR 4512345678")
    b = text_fingerprint("since morning no WATER in coach!! @RailwaySeva PNR 2222222222")
    c = text_fingerprint("@RailMinIndia no food in coach since morning")
    assert a == b and a != c
    assert text_fingerprint("@RailMinIndia help") is None
