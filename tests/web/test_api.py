"""The REST API over real HTTP semantics: auth, scope, filters, replies, status changes."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select, update

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


@pytest.fixture
def client(org_engine: Engine, settings: Settings, clock: FrozenClock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, org_engine, clock)) as c:
        yield c


def auth(engine: Engine, username: str) -> dict[str, str]:
    with engine.begin() as conn:
        return {"Authorization": f"Bearer {issue_token(conn, username, 'test')}"}


@pytest.fixture
def tickets(pipeline: Pipeline) -> dict[str, str]:
    """Three tickets: Lucknow police, Kanpur police, Railways. Returns unit → ref."""
    pipeline.ingest(
        "x",
        "test",
        lines(
            tweet("@Uppolice chain snatching near Hazratganj, Lucknow PIN 226001", author_id="1"),
            tweet(
                "@Uppolice illegal parking blocks the road every day in Kanpur, please act, PIN 208001",
                author_id="2",
            ),
            tweet("@RailMinIndia no water in coach B4 of 12951 PNR 4512345678", author_id="3"),
        ),
    )
    with pipeline.engine.connect() as conn:
        rows = conn.execute(
            select(t.units.c.code, t.tickets.c.ref).join(
                t.units, t.units.c.id == t.tickets.c.unit_id
            )
        )
        return {code: ref for code, ref in rows}


def test_health_and_metrics_need_no_login(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    body = client.get("/metrics").text
    assert "seva_pipeline_messages_total" in body


def test_the_api_refuses_anonymous_and_unknown_tokens(
    client: TestClient, tickets: dict[str, str]
) -> None:
    assert client.get("/api/v1/tickets").status_code == 401
    assert (
        client.get("/api/v1/tickets", headers={"Authorization": "Bearer nope"}).status_code == 401
    )
    assert (
        client.post(f"/api/v1/tickets/{tickets['RLY']}/replies", json={"body": "hi"}).status_code
        == 401
    )


def test_a_password_login_issues_a_working_token(
    client: TestClient, tickets: dict[str, str]
) -> None:
    assert (
        client.post(
            "/api/v1/auth/token", json={"username": "admin", "password": "wrong"}
        ).status_code
        == 401
    )
    token = client.post(
        "/api/v1/auth/token", json={"username": "admin", "password": "admin-password"}
    ).json()["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me == {"username": "admin", "role": "admin", "unit": "ROOT"}


def test_an_agent_sees_only_tickets_of_their_unit_subtree(
    client: TestClient, org_engine: Engine, tickets: dict[str, str]
) -> None:
    lko = auth(org_engine, "lko.agent")
    listed = client.get("/api/v1/tickets", headers=lko).json()["items"]
    assert [i["ref"] for i in listed] == [tickets["UPP-LUCKNOW"]]
    # Another district's ticket by URL: not found, as if it did not exist.
    assert client.get(f"/api/v1/tickets/{tickets['UPP-KANPUR']}", headers=lko).status_code == 404
    assert (
        client.post(
            f"/api/v1/tickets/{tickets['UPP-KANPUR']}/replies", headers=lko, json={"body": "x"}
        ).status_code
        == 404
    )
    admin = auth(org_engine, "admin")
    assert len(client.get("/api/v1/tickets", headers=admin).json()["items"]) == 3


def test_filters_and_cursor_pagination(
    client: TestClient, org_engine: Engine, tickets: dict[str, str]
) -> None:
    admin = auth(org_engine, "admin")
    upp = client.get("/api/v1/tickets", headers=admin, params={"unit": "UPP"}).json()["items"]
    assert {i["unit"] for i in upp} == {"UPP-LUCKNOW", "UPP-KANPUR"}
    water = client.get("/api/v1/tickets", headers=admin, params={"category": "water"}).json()[
        "items"
    ]
    assert [i["ref"] for i in water] == [tickets["RLY"]]
    seen, cursor = [], None
    while True:
        page = client.get(
            "/api/v1/tickets",
            headers=admin,
            params={"limit": 1, **({"cursor": cursor} if cursor else {})},
        ).json()
        seen += [i["ref"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(tickets.values()) and len(seen) == 3
    assert (
        client.get("/api/v1/tickets", headers=admin, params={"cursor": "garbage!"}).status_code
        == 400
    )
    assert (
        client.get("/api/v1/tickets", headers=admin, params={"status": "bogus"}).status_code == 422
    )


def test_one_ticket_comes_with_its_messages_triage_and_audit_trail(
    client: TestClient, org_engine: Engine, tickets: dict[str, str]
) -> None:
    body = client.get(
        f"/api/v1/tickets/{tickets['RLY']}", headers=auth(org_engine, "rly.agent")
    ).json()
    assert body["ref"] == tickets["RLY"]
    assert body["messages"][0]["text"].startswith("@RailMinIndia no water")
    entities = {(e["kind"], e["value"]) for e in body["messages"][0]["entities"]}
    assert {("pnr", "4512345678"), ("train", "12951")} <= entities
    assert [e["action"] for e in body["events"]] == ["opened"]
    assert body["route_reason"] == "handle"


def test_a_reply_goes_to_the_outbox_once_per_idempotency_key(
    client: TestClient, org_engine: Engine, tickets: dict[str, str]
) -> None:
    h = auth(org_engine, "rly.agent")
    ref = tickets["RLY"]
    first = client.post(
        f"/api/v1/tickets/{ref}/replies",
        headers=h,
        json={"body": "Sorry, staff alerted.", "idempotency_key": "k1"},
    )
    again = client.post(
        f"/api/v1/tickets/{ref}/replies",
        headers=h,
        json={"body": "Sorry, staff alerted.", "idempotency_key": "k1"},
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    with org_engine.connect() as conn:
        rows = conn.execute(select(t.outbox)).mappings().all()
    assert len(rows) == 1
    assert rows[0]["status"] == "pending" and rows[0]["in_reply_to_id"] is not None
    detail = client.get(f"/api/v1/tickets/{ref}", headers=h).json()
    assert detail["first_response_at"] is not None
    assert [e["action"] for e in detail["events"]] == ["opened", "reply_queued"]
    assert detail["events"][-1]["actor"] == "user:rly.agent"


def test_status_changes_are_validated_and_audited(
    client: TestClient, org_engine: Engine, tickets: dict[str, str]
) -> None:
    h = auth(org_engine, "lko.agent")
    ref = tickets["UPP-LUCKNOW"]
    illegal = client.post(f"/api/v1/tickets/{ref}/status", headers=h, json={"status": "closed"})
    assert illegal.status_code == 409
    assert "cannot become closed" in illegal.json()["detail"]
    no_reason = client.post(f"/api/v1/tickets/{ref}/status", headers=h, json={"status": "rejected"})
    assert no_reason.status_code == 422
    ok = client.post(f"/api/v1/tickets/{ref}/status", headers=h, json={"status": "in_progress"})
    assert ok.status_code == 200 and ok.json()["status"] == "in_progress"
    resolved = client.post(
        f"/api/v1/tickets/{ref}/status",
        headers=h,
        json={"status": "resolved", "note": "patrol sent"},
    )
    assert resolved.status_code == 200
    events = client.get(f"/api/v1/tickets/{ref}", headers=h).json()["events"]
    assert [(e["action"], e["before"], e["after"]) for e in events[1:]] == [
        ("status_changed", {"status": "new"}, {"status": "in_progress"}),
        ("status_changed", {"status": "in_progress"}, {"status": "resolved"}),
    ]


def test_an_agent_corrects_a_category_within_scope_and_it_is_audited(
    client: TestClient, org_engine: Engine, tickets: dict[str, str]
) -> None:
    lko = auth(org_engine, "lko.agent")
    ref = tickets["UPP-LUCKNOW"]
    before = client.get(f"/api/v1/tickets/{ref}", headers=lko).json()["category"]
    assert before == "theft"  # "chain snatching"
    unknown = client.post(f"/api/v1/tickets/{ref}/category", headers=lko, json={"category": "x"})
    assert unknown.status_code == 422
    assert "unknown category 'x'" in unknown.json()["detail"]
    assert "harassment" in unknown.json()["detail"]  # the error lists the choices
    ok = client.post(
        f"/api/v1/tickets/{ref}/category", headers=lko, json={"category": "harassment"}
    )
    assert ok.status_code == 200 and ok.json() == {"ref": ref, "category": "harassment"}
    again = client.post(
        f"/api/v1/tickets/{ref}/category", headers=lko, json={"category": "harassment"}
    )
    assert again.status_code == 200
    detail = client.get(f"/api/v1/tickets/{ref}", headers=lko).json()
    assert detail["category"] == "harassment"
    changes = [e for e in detail["events"] if e["action"] == "category_changed"]
    assert [(e["actor"], e["before"], e["after"]) for e in changes] == [
        ("user:lko.agent", {"category": "theft"}, {"category": "harassment"})
    ]  # the repeat changed nothing and wrote nothing
    # Another district's ticket is not there for this agent.
    other = tickets["UPP-KANPUR"]
    refused = client.post(
        f"/api/v1/tickets/{other}/category", headers=lko, json={"category": "traffic"}
    )
    assert refused.status_code == 404


def test_assign_and_a_transfer_offer_the_receiving_unit_accepts(
    client: TestClient, org_engine: Engine, tickets: dict[str, str]
) -> None:
    admin = auth(org_engine, "admin")
    ref = tickets["UPP-LUCKNOW"]
    wrong = client.post(
        f"/api/v1/tickets/{ref}/assign", headers=admin, json={"username": "knp.agent"}
    )
    assert wrong.status_code == 403
    assigned = client.post(
        f"/api/v1/tickets/{ref}/assign", headers=admin, json={"username": "lko.agent"}
    )
    assert assigned.json() == {"ref": ref, "assignee": "lko.agent", "status": "assigned"}
    lko, knp = auth(org_engine, "lko.agent"), auth(org_engine, "knp.agent")
    no_reason = client.post(
        f"/api/v1/tickets/{ref}/transfer", headers=lko, json={"unit": "UPP-KANPUR", "reason": " "}
    )
    assert no_reason.status_code == 422
    offered = client.post(
        f"/api/v1/tickets/{ref}/transfer",
        headers=lko,
        json={"unit": "UPP-KANPUR", "reason": "incident in Kanpur"},
    )
    assert offered.json()["status"] == "offered"
    # Until Kanpur answers, the ticket stays with Lucknow; Kanpur sees the offer.
    assert client.get(f"/api/v1/tickets/{ref}", headers=lko).status_code == 200
    incoming = client.get("/api/v1/transfers", headers=knp).json()
    assert [(o["ref"], o["from_unit"], o["reason"]) for o in incoming] == [
        (ref, "UPP-LUCKNOW", "incident in Kanpur")
    ]
    assert client.post(f"/api/v1/tickets/{ref}/transfer/accept", headers=lko).status_code == 404
    accepted = client.post(f"/api/v1/tickets/{ref}/transfer/accept", headers=knp).json()
    assert accepted == {"ref": ref, "unit": "UPP-KANPUR", "status": "new"}
    assert client.get(f"/api/v1/tickets/{ref}", headers=lko).status_code == 404
    detail = client.get(f"/api/v1/tickets/{ref}", headers=knp).json()
    assert detail["assignee"] is None and detail["status"] == "new"
    assert [e["action"] for e in detail["events"]][-2:] == ["transfer_offered", "transfer_accepted"]


def test_returned_transfers_are_counted_and_alarm_the_common_parent(
    client: TestClient, org_engine: Engine, tickets: dict[str, str]
) -> None:
    ref = tickets["UPP-LUCKNOW"]
    lko, knp = auth(org_engine, "lko.agent"), auth(org_engine, "knp.agent")
    with org_engine.begin() as conn:  # a supervisor at the zone both districts sit under
        zone = conn.execute(select(t.units.c.id).where(t.units.c.code == "UPP-Z-LKO")).scalar()
        conn.execute(
            t.users.update()
            .where(t.users.c.username == "upp.viewer")
            .values(role="supervisor", unit_id=zone)
        )
    for bounce in range(1, 4):
        client.post(
            f"/api/v1/tickets/{ref}/transfer",
            headers=lko,
            json={"unit": "UPP-KANPUR", "reason": "Kanpur area"},
        )
        back = client.post(
            f"/api/v1/tickets/{ref}/transfer/return",
            headers=knp,
            json={"note": "this is in Lucknow"},
        ).json()
        assert back["bounces"] == bounce
    with org_engine.connect() as conn:
        # (Each offer and return also tells the offices concerned: kinds offer_*; the post
        # itself, read as an SOS, alerted its unit when it arrived: kind sos.)
        alarms = conn.execute(
            select(t.notifications.c.kind, t.notifications.c.message).where(
                ~t.notifications.c.kind.like("offer_%"), t.notifications.c.kind != "sos"
            )
        ).all()
    assert [a.kind for a in alarms] == ["bounce_alarm"]
    assert "bounced 3 times between units under UPP-Z-LKO" in alarms[0].message
    report = client.get("/api/v1/reports/accountability", headers=auth(org_engine, "admin")).json()
    assert {r["unit"]: r["bounces"] for r in report}["UPP-LUCKNOW"] == 3


def test_a_ticket_is_never_closed_as_not_ours(
    client: TestClient, org_engine: Engine, tickets: dict[str, str]
) -> None:
    ref = tickets["UPP-LUCKNOW"]
    refused = client.post(
        f"/api/v1/tickets/{ref}/status",
        headers=auth(org_engine, "lko.agent"),
        json={"status": "rejected", "note": "does not pertain to our office"},
    )
    assert refused.status_code == 422 and "transferred" in refused.json()["detail"]


def test_an_appeal_reopens_the_ticket_one_level_up(
    client: TestClient, org_engine: Engine, tickets: dict[str, str]
) -> None:
    ref = tickets["UPP-LUCKNOW"]
    lko = auth(org_engine, "lko.agent")
    assert (
        client.post(
            f"/api/v1/tickets/{ref}/appeal", headers=lko, json={"note": "not fixed"}
        ).status_code
        == 422
    )
    client.post(
        f"/api/v1/tickets/{ref}/status",
        headers=lko,
        json={"status": "resolved", "note": "patrol sent"},
    )
    appealed = client.post(
        f"/api/v1/tickets/{ref}/appeal", headers=lko, json={"note": "citizen says not fixed"}
    ).json()
    assert appealed == {"ref": ref, "unit": "UPP-Z-LKO", "status": "in_progress"}
    report = client.get("/api/v1/reports/accountability", headers=auth(org_engine, "admin")).json()
    assert {r["unit"]: r["appeals"] for r in report}["UPP-Z-LKO"] == 1


def test_a_viewer_reads_but_cannot_write(
    client: TestClient, org_engine: Engine, tickets: dict[str, str]
) -> None:
    h = auth(org_engine, "upp.viewer")
    ref = tickets["UPP-KANPUR"]
    assert client.get(f"/api/v1/tickets/{ref}", headers=h).status_code == 200
    assert (
        client.post(
            f"/api/v1/tickets/{ref}/status", headers=h, json={"status": "in_progress"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/tickets/{ref}/category", headers=h, json={"category": "traffic"}
        ).status_code
        == 403
    )


def test_a_citizen_reply_reopens_a_resolved_ticket(
    client: TestClient, org_engine: Engine, pipeline: Pipeline, clock: FrozenClock
) -> None:
    first = tweet("@Uppolice loud music every night near Lucknow PIN 226010", author_id="42")
    pipeline.ingest("x", "test", lines(first))
    h = auth(org_engine, "lko.agent")
    ref = client.get("/api/v1/tickets", headers=h).json()["items"][0]["ref"]
    assert (
        client.post(
            f"/api/v1/tickets/{ref}/status", headers=h, json={"status": "resolved"}
        ).status_code
        == 200
    )
    reply = tweet(
        "it started again tonight",
        author_id="42",
        minutes=180,
        reply_to=first["data"]["id"],
        conversation_id=first["data"]["id"],
    )
    summary = pipeline.ingest("x", "test", lines(reply))
    assert summary.reopened == 1
    detail = client.get(f"/api/v1/tickets/{ref}", headers=h).json()
    assert detail["status"] == "in_progress" and detail["resolved_at"] is None
    assert detail["events"][-1]["action"] == "reopened"
    report = client.get("/api/v1/reports/accountability", headers=auth(org_engine, "admin")).json()
    assert {r["unit"]: r["reopens"] for r in report}["UPP-LUCKNOW"] == 1


def test_the_live_page_shows_masked_tickets_to_signed_in_staff(
    client: TestClient, tickets: dict[str, str], pipeline: Pipeline
) -> None:
    from tests.web.signin import sign_in

    assert client.get("/", follow_redirects=False).status_code == 303  # a visitor signs in
    sign_in(client, "admin", "admin-password")
    assert "live tickets" in client.get("/").text
    pipeline.ingest(
        "x",
        "test",
        lines(tweet("@Uppolice threatened by my neighbour in Lucknow 226001, call me 9876543210")),
    )
    rows = client.get("/live/tickets.json").json()
    assert set(tickets.values()) < {r["ref"] for r in rows}
    texts = " ".join(r["summary"] for r in rows)
    assert "9876543210" not in texts and "[phone]" in texts  # personal data masked
    assert "4512345678" in texts  # a PNR is not personal data and stays


def test_an_unanswered_transfer_is_deemed_accepted_at_its_deadline(
    client: TestClient, org_engine: Engine, tickets: dict[str, str], clock: FrozenClock
) -> None:
    from datetime import timedelta

    from sevadesk.tickets.actions import OFFER_HOURS, expire_offers

    ref = tickets["UPP-LUCKNOW"]
    client.post(
        f"/api/v1/tickets/{ref}/transfer",
        headers=auth(org_engine, "lko.agent"),
        json={"unit": "UPP-KANPUR", "reason": "Kanpur area"},
    )
    with org_engine.begin() as conn:
        assert expire_offers(conn, clock.now() + timedelta(hours=OFFER_HOURS - 1)) == 0
        assert expire_offers(conn, clock.now() + timedelta(hours=OFFER_HOURS)) == 1
    assert (
        client.get(f"/api/v1/tickets/{ref}", headers=auth(org_engine, "knp.agent")).json()["unit"]
        == "UPP-KANPUR"
    )


def test_an_identity_links_only_citizens_the_officer_holds_every_ticket_of(
    client: TestClient, org_engine: Engine, tickets: dict[str, str]
) -> None:
    lko, knp = auth(org_engine, "lko.agent"), auth(org_engine, "knp.agent")
    number = {"channel": "whatsapp", "external_user_id": "919876500011"}
    lucknow, kanpur = tickets["UPP-LUCKNOW"], tickets["UPP-KANPUR"]
    linked = client.post(f"/api/v1/tickets/{lucknow}/identities", headers=lko, json=number)
    assert linked.status_code == 200

    def citizens() -> dict[str, int]:
        with org_engine.connect() as conn:
            return dict(conn.execute(select(t.tickets.c.ref, t.tickets.c.citizen_id)).all())

    before = citizens()
    # Kanpur's officer gives the same number for Kanpur's citizen: merging the two would make
    # Lucknow's ticket Kanpur's citizen's, and send Kanpur's private replies to that number.
    refused = client.post(f"/api/v1/tickets/{kanpur}/identities", headers=knp, json=number)
    assert refused.status_code == 403 and "outside your scope" in refused.json()["detail"]
    assert "UPP-LUCKNOW" not in refused.text and citizens() == before
    # An officer over both districts may merge them.
    upp = auth(org_engine, "admin")
    merged = client.post(f"/api/v1/tickets/{kanpur}/identities", headers=upp, json=number)
    assert merged.json()["merged"] is True
    after = citizens()
    assert after[lucknow] == after[kanpur] == before[kanpur]


def test_an_idempotency_key_is_per_ticket_and_says_nothing_of_other_tickets(
    client: TestClient, org_engine: Engine, tickets: dict[str, str]
) -> None:
    lko, knp = auth(org_engine, "lko.agent"), auth(org_engine, "knp.agent")
    reply = {"body": "An officer will call you.", "idempotency_key": "call-back"}
    first = client.post(
        f"/api/v1/tickets/{tickets['UPP-LUCKNOW']}/replies", headers=lko, json=reply
    )
    # The same key on Kanpur's ticket is Kanpur's own new reply, answered as any new key is.
    other = client.post(f"/api/v1/tickets/{tickets['UPP-KANPUR']}/replies", headers=knp, json=reply)
    again = client.post(f"/api/v1/tickets/{tickets['UPP-KANPUR']}/replies", headers=knp, json=reply)
    assert (first.status_code, other.status_code, again.status_code) == (201, 201, 200)
    assert other.json()["id"] == again.json()["id"] != first.json()["id"]
    assert other.json()["idempotency_key"] == "call-back"
    with org_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.outbox)).scalar_one() == 2


def test_retrying_another_offices_dead_reply_is_not_found_and_names_no_ticket(
    client: TestClient, org_engine: Engine, tickets: dict[str, str]
) -> None:
    lucknow = tickets["UPP-LUCKNOW"]
    sent = client.post(
        f"/api/v1/tickets/{lucknow}/replies",
        headers=auth(org_engine, "lko.agent"),
        json={"body": "Patrol sent."},
    ).json()
    with org_engine.begin() as conn:
        conn.execute(update(t.outbox).where(t.outbox.c.id == sent["id"]).values(status="dead"))
    answer = client.post(
        f"/api/v1/outbox/{sent['id']}/retry", headers=auth(org_engine, "knp.agent")
    )
    assert answer.status_code == 404 and lucknow not in answer.text
    assert answer.json()["detail"] == f"no outbox entry {sent['id']}"
