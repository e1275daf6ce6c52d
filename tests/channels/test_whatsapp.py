"""WhatsApp end to end against the fake Graph API, with the desk on a real HTTP server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import Engine, select

from sevadesk.config import Settings, get_settings
from sevadesk.fakes.graph_api import FakeGraph, create_fake_graph
from sevadesk.fakes.serve import BackgroundServer
from sevadesk.store import tables as t
from sevadesk.store.users_repo import issue_token
from sevadesk.web.app import create_app
from tests.channels.conftest import count, wait_for

TOKEN, SECRET, OLD_SECRET, VERIFY = "graph-token", "app-secret-2026", "app-secret-2025", "verify-me"
CITIZEN = "919876543210"


@dataclass
class Desk:
    url: str
    engine: Engine
    graph: FakeGraph
    api: dict[str, str]
    graph_url: str = ""

    def reply(self, ref: str, body: str, key: str) -> httpx.Response:
        return httpx.post(
            f"{self.url}/api/v1/tickets/{ref}/replies",
            json={"body": body, "idempotency_key": key},
            headers=self.api,
        )

    def outbox(self, key: str) -> dict:
        with self.engine.connect() as conn:
            # Keys are kept per ticket: stored as "<ref>:<key>".
            outbox = t.outbox.c
            row = conn.execute(
                select(t.outbox).where(outbox.idempotency_key.endswith(f":{key}", autoescape=True))
            ).one()
        return dict(row._mapping)

    def only_ticket(self) -> str:
        with self.engine.connect() as conn:
            return str(conn.execute(select(t.tickets.c.ref)).scalar_one())


def _settings(settings: Settings, graph_url: str, **extra: object) -> Settings:
    return Settings.model_validate(
        {
            **settings.model_dump(),
            "whatsapp_base_url": graph_url,
            "whatsapp_token": TOKEN,
            "whatsapp_phone_number_id": "1122334455667",
            "whatsapp_app_secrets": SECRET,
            "whatsapp_verify_token": VERIFY,
            **extra,
        }
    )


@pytest.fixture
def graph() -> Iterator[tuple[FakeGraph, str]]:
    fake = FakeGraph(TOKEN, SECRET)
    with BackgroundServer(create_fake_graph(fake)) as server:
        yield fake, server.url


@pytest.fixture
def desk(org_engine: Engine, settings: Settings, graph: tuple[FakeGraph, str]) -> Iterator[Desk]:
    fake, graph_url = graph
    live = _settings(settings, graph_url, drain_interval_seconds=0.05, outbox_interval_seconds=0.05)
    with BackgroundServer(create_app(live, org_engine)) as server:
        fake.webhook_url = f"{server.url}/webhooks/whatsapp"
        with org_engine.begin() as conn:
            token = issue_token(conn, "admin", "test")
        yield Desk(server.url, org_engine, fake, {"Authorization": f"Bearer {token}"}, graph_url)


@pytest.fixture
def quiet_desk(
    org_engine: Engine, settings: Settings, graph: tuple[FakeGraph, str]
) -> Iterator[Desk]:
    """The desk with its background loops off: what a delivery stores is visible as is."""
    fake, graph_url = graph
    with BackgroundServer(create_app(_settings(settings, graph_url), org_engine)) as server:
        fake.webhook_url = f"{server.url}/webhooks/whatsapp"
        yield Desk(server.url, org_engine, fake, {})


def test_the_subscription_check_echoes_the_challenge_only_for_our_token(quiet_desk: Desk) -> None:
    url = f"{quiet_desk.url}/webhooks/whatsapp"
    ok = httpx.get(
        url,
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"},
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    bad = httpx.get(
        url, params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"}
    )
    assert bad.status_code == 403


def test_unsigned_forged_and_stale_deliveries_are_refused_and_store_nothing(
    quiet_desk: Desk,
) -> None:
    body = quiet_desk.graph.message_body(CITIZEN, "train 12951 coach B4 no water")
    assert quiet_desk.graph.deliver(body, secret=None).status_code == 401
    assert quiet_desk.graph.deliver(body, secret="someone-else").status_code == 403
    assert quiet_desk.graph.deliver(body, secret=OLD_SECRET).status_code == 403  # rotated out
    tampered = quiet_desk.graph.message_body(CITIZEN, "x")
    raw = httpx.Request("POST", "/", json=body).content
    from sevadesk.channels.signatures import meta_signature

    response = httpx.post(
        quiet_desk.graph.webhook_url or "",
        content=httpx.Request("POST", "/", json=tampered).content,
        headers={"x-hub-signature-256": meta_signature(SECRET, raw)},
    )
    assert response.status_code == 403
    assert count(quiet_desk.engine, t.journal) == 0


def test_a_valid_delivery_is_stored_before_the_200_and_a_retry_adds_nothing(
    quiet_desk: Desk,
) -> None:
    body = quiet_desk.graph.message_body(
        CITIZEN, "train 12951 coach B4 has no water, PNR 4512345678"
    )
    first = quiet_desk.graph.deliver(body)
    assert first.status_code == 200 and first.json()["stored"]["messages"] == 1
    # Committed when the 200 left: the row is there although nothing has processed it yet.
    assert count(quiet_desk.engine, t.journal, t.journal.c.status == "pending") == 1
    again = quiet_desk.graph.deliver(body)  # Meta retries when it missed our answer
    assert again.status_code == 200 and again.json()["stored"]["messages"] == 0
    assert count(quiet_desk.engine, t.journal) == 1


def test_a_message_becomes_a_ticket_and_the_reply_goes_out_as_text_with_statuses(
    desk: Desk,
) -> None:
    assert (
        desk.graph.citizen_says(
            CITIZEN, "Train 12951 coach B4 has no water since Kota, PNR 4512345678", name="Asha"
        ).status_code
        == 200
    )
    wait_for(lambda: count(desk.engine, t.tickets) == 1, what="ticket")
    ref = desk.only_ticket()
    assert desk.reply(ref, "Water will be refilled at Ratlam.", "wa-1").status_code == 201
    wait_for(lambda: desk.outbox("wa-1")["delivery_status"] == "read", what="read receipt")
    sent = desk.graph.sent[-1]
    assert sent["type"] == "text" and sent["to"] == CITIZEN
    assert sent["text"]["body"] == "Water will be refilled at Ratlam."
    entry = desk.outbox("wa-1")
    assert entry["status"] == "sent" and entry["kind"] == "text"
    with desk.engine.connect() as conn:
        receipts = set(
            conn.execute(
                select(t.outbox_receipts.c.status).where(
                    t.outbox_receipts.c.outbox_id == entry["id"]
                )
            ).scalars()
        )
    assert receipts == {"sent", "delivered", "read"}


def test_outside_the_24_hour_window_the_reply_is_a_template(desk: Desk) -> None:
    long_ago = time.time() - 25 * 3600
    desk.graph.citizen_says(
        CITIZEN, "Train 12951 coach B4 toilet choked and dirty, PNR 4512345678", at=long_ago
    )
    wait_for(lambda: count(desk.engine, t.tickets) == 1, what="ticket")
    ref = desk.only_ticket()
    queued = desk.reply(ref, "Cleaned at Vadodara.\nSorry for the trouble.", "wa-2")
    assert queued.status_code == 201, queued.text
    wait_for(lambda: desk.outbox("wa-2")["status"] == "sent", what="sent")
    sent = desk.graph.sent[-1]
    assert sent["type"] == "template" and sent["template"]["name"] == "ticket_update"
    params = [p["text"] for p in sent["template"]["components"][0]["parameters"]]
    assert params == [ref, "Cleaned at Vadodara. Sorry for the trouble."]
    assert desk.outbox("wa-2")["kind"] == "template"


def test_one_citizen_across_x_and_whatsapp_gets_the_private_part_on_whatsapp(
    desk: Desk, settings: Settings
) -> None:
    from sevadesk.domain.clock import SystemClock
    from sevadesk.pipeline.runner import Pipeline
    from tests.factories import line, tweet

    now = SystemClock().now()
    Pipeline(desk.engine, None, settings).ingest(
        "x",
        "test",
        [
            line(
                tweet("@RailMinIndia my bag was stolen in 12951 coach B4", author_id="5001", at=now)
            )
        ],
    )
    ref = desk.only_ticket()
    linked = httpx.post(
        f"{desk.url}/api/v1/tickets/{ref}/identities",
        json={"channel": "whatsapp", "external_user_id": CITIZEN},
        headers=desk.api,
    )
    assert linked.status_code == 200, linked.text
    blocked = desk.reply(ref, "Call inspector Meena on 9876543210", "pub-1")
    assert blocked.status_code == 422 and "mobile number" in blocked.json()["detail"]
    answer = httpx.post(
        f"{desk.url}/api/v1/tickets/{ref}/replies",
        json={
            "body": "We have sent you the inspector's number privately.",
            "private_body": "Inspector Meena: 9876543210",
            "idempotency_key": "pub-2",
        },
        headers=desk.api,
    )
    assert answer.status_code == 201 and answer.json()["private"]["channel"] == "whatsapp"
    wait_for(lambda: desk.outbox("pub-2:private")["status"] == "sent", what="private part sent")
    private = desk.graph.sent[-1]
    # Never written to on WhatsApp: outside the window, so the approved template carries it.
    assert private["to"] == CITIZEN and private["type"] == "template"
    assert "9876543210" in str(private["template"])
    # The citizen answers on WhatsApp: the same ticket, not a new one.
    desk.graph.citizen_says(CITIZEN, "Thank you, I called him. Bag is black with a red tag")
    inbound = (t.messages.c.channel == "whatsapp") & (t.messages.c.direction == "in")
    wait_for(
        lambda: count(desk.engine, t.messages, inbound, t.messages.c.ticket_id.is_not(None)) == 1
    )
    assert count(desk.engine, t.tickets) == 1


def _inbound_text(engine: Engine) -> list[str]:
    m = t.messages.c
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(m.text).where(m.channel == "whatsapp", m.direction == "in").order_by(m.id)
            ).scalars()
        )


# Meta's shapes, as pywa's test data has them (../shared/data/whatsapp-cloud-webhooks).
VOICE = {
    "type": "audio",
    "audio": {
        "mime_type": "audio/ogg; codecs=opus",
        "sha256": "m04pFf2ERdaopTyFkGPA0+bX3i+YY2dYgVFwOgDLSDI=",
        "id": "1234567890987654321",
        "voice": True,
    },
}


def test_a_voice_note_alone_opens_a_ticket_that_keeps_its_media_id(desk: Desk) -> None:
    body = desk.graph.message_body(CITIZEN, message=VOICE)
    assert desk.graph.deliver(body).status_code == 200
    wait_for(lambda: count(desk.engine, t.tickets) == 1, what="a ticket for the voice note")
    assert _inbound_text(desk.engine) == ["[voice note, media 1234567890987654321]"]
    with desk.engine.connect() as conn:
        ticket = conn.execute(select(t.tickets.c.channel, t.tickets.c.status)).one()
    assert ticket.channel == "whatsapp"


def test_a_flow_reply_keeps_the_citizens_answers_not_sent(desk: Desk) -> None:
    answers = {
        "complaint": "Street light not working near Hazratganj crossing for a week",
        "district": "Lucknow",
        "pin": "226001",
        "flow_token": "AQAAAAACS5FpgQ_cAAAAAD0QI3s.",
    }
    import json

    flow = {
        "type": "interactive",
        "interactive": {
            "type": "nfm_reply",
            "nfm_reply": {"response_json": json.dumps(answers), "body": "Sent", "name": "flow"},
        },
    }
    assert desk.graph.deliver(desk.graph.message_body(CITIZEN, message=flow)).status_code == 200
    wait_for(lambda: len(_inbound_text(desk.engine)) == 1, what="the form reply stored")
    text = _inbound_text(desk.engine)[0]
    assert text.startswith("[form]") and "Sent" not in text
    assert "complaint: Street light not working near Hazratganj" in text
    assert "district: Lucknow" in text and "pin: 226001" in text
    assert "flow_token" not in text and "AQAAAAACS5" not in text


def test_a_citizen_who_changes_number_stays_one_citizen_and_is_answered_on_the_new_one(
    desk: Desk,
) -> None:
    old, new = CITIZEN, "919812345678"
    desk.graph.citizen_says(old, "Train 12951 coach B4 has no water since Kota, PNR 4512345678")
    wait_for(lambda: count(desk.engine, t.tickets) == 1, what="ticket")
    ref = desk.only_ticket()
    change = desk.graph._envelope(
        {
            "messages": [
                {
                    "from": old,
                    "id": "wamid.number-change-1",
                    "timestamp": str(int(time.time())),
                    "system": {
                        "body": f"User A changed from {old} to {new}",
                        "wa_id": new,
                        "type": "user_changed_number",
                    },
                    "type": "system",
                }
            ]
        }
    )
    stored = desk.graph.deliver(change)
    assert stored.status_code == 200 and stored.json()["stored"]["other"] == 1
    ci = t.citizen_identities.c
    with desk.engine.connect() as conn:
        numbers = set(
            conn.execute(select(ci.external_user_id).where(ci.channel == "whatsapp")).scalars()
        )
        events = conn.execute(
            select(t.ticket_events.c.actor, t.ticket_events.c.after).where(
                t.ticket_events.c.action == "identity_linked"
            )
        ).all()
        account = (
            conn.execute(
                select(t.account_events.c.action).where(t.account_events.c.actor == "whatsapp")
            )
            .scalars()
            .all()
        )
    assert numbers == {new}
    assert [e.actor for e in events] == ["whatsapp"]
    assert events[0].after["reason"] == "user_changed_number"
    assert new not in str(events[0].after) and account == ["citizen_number_changed"]
    # A retry of the same delivery moves nothing twice.
    assert desk.graph.deliver(change).status_code == 200
    # From the new number: the same ticket, and the desk's answer goes to the new number.
    desk.graph.citizen_says(new, "Still no water at Ratlam")
    inbound = (t.messages.c.channel == "whatsapp") & (t.messages.c.direction == "in")
    wait_for(
        lambda: count(desk.engine, t.messages, inbound, t.messages.c.ticket_id.is_not(None)) == 2
    )
    assert count(desk.engine, t.tickets) == 1
    assert desk.reply(ref, "Water will be refilled at Ratlam.", "wa-new").status_code == 201
    wait_for(lambda: desk.outbox("wa-new")["status"] == "sent", what="sent")
    assert desk.graph.sent[-1]["to"] == new


def test_the_template_names_its_component_as_the_send_api_does_and_the_fake_checks_it(
    desk: Desk,
) -> None:
    from sevadesk.channels.whatsapp.client import template_message

    message = template_message("ticket_update", "en", ["RLY-000001", "Done"])
    assert message["template"]["components"][0]["type"] == "body"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = f"{desk.graph_url}/v21.0/1122334455667/messages"
    upper = {
        "messaging_product": "whatsapp",
        "to": CITIZEN,
        **message,
        "template": {
            **message["template"],
            "components": [{**message["template"]["components"][0], "type": "BODY"}],
        },
    }
    refused = httpx.post(url, json=upper, headers=headers)
    assert refused.status_code == 400 and "header, body, button" in refused.text
    accepted = httpx.post(
        url, json={"messaging_product": "whatsapp", "to": CITIZEN, **message}, headers=headers
    )
    assert accepted.status_code == 200, accepted.text


PYWA = get_settings().data_dir / "whatsapp-cloud-webhooks" / "pywa_tests_data_updates"


@pytest.mark.skipif(not PYWA.is_dir(), reason=f"{PYWA} not found (CI has ../shared)")
def test_pywas_voice_flow_and_number_change_bodies_through_the_signed_webhook(desk: Desk) -> None:
    """Meta's own shapes, as pywa's test data has them: the voice note opens a ticket, the
    flow reply keeps its answers, the number change moves the citizen."""
    import json

    def sample(file: str, name: str) -> dict:
        return json.loads((PYWA / file).read_text(encoding="utf-8"))[name]

    assert desk.graph.deliver(sample("message.json", "voice")).status_code == 200
    wait_for(lambda: count(desk.engine, t.tickets) == 1, what="a ticket for pywa's voice note")
    assert desk.graph.deliver(sample("flow_completion.json", "completion")).status_code == 200
    wait_for(lambda: len(_inbound_text(desk.engine)) == 2, what="the flow reply stored")
    voice, form = _inbound_text(desk.engine)
    assert voice == "[voice note, media 1234567890987654321]"
    assert "comment_text: Comment Text" in form and "delivery_rating: 4" in form
    assert "Sent" not in form and "flow_token" not in form
    assert desk.graph.deliver(sample("system.json", "phone_number_change")).status_code == 200
    ci = t.citizen_identities.c
    with desk.engine.connect() as conn:
        numbers = set(
            conn.execute(select(ci.external_user_id).where(ci.channel == "whatsapp")).scalars()
        )
    assert numbers == {"972912345678"}
