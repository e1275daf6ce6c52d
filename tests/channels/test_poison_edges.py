"""The poison test: a NUL, an over-long id and an out-of-range time arrive by signed webhook
(X and WhatsApp) and by the web form, between good posts. Every good post becomes a ticket;
each bad one is refused (the form, 400 with the reason) or set aside in the journal with its
reason, and nothing stops the drain."""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, func, select

from sevadesk.channels.signatures import meta_signature, x_signature
from sevadesk.config import Settings
from sevadesk.fakes.graph_api import FakeGraph
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from sevadesk.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

META_SECRET, X_SECRET = "app-secret-2026", "consumer-secret"


@pytest.fixture
def client(org_engine: Engine, settings: Settings) -> Iterator[TestClient]:
    live = Settings.model_validate(
        {
            **settings.model_dump(),
            "whatsapp_app_secrets": META_SECRET,
            "x_consumer_secrets": X_SECRET,
        }
    )
    # A 500 must show as one, not as an exception in the test.
    with TestClient(create_app(live, org_engine), raise_server_exceptions=False) as c:
        yield c


def _whatsapp(client: TestClient, body: dict[str, Any]) -> int:
    raw = orjson.dumps(body)
    headers = {"content-type": "application/json", "x-hub-signature-256": ""}
    headers["x-hub-signature-256"] = meta_signature(META_SECRET, raw)
    return client.post("/webhooks/whatsapp", content=raw, headers=headers).status_code


def _x(client: TestClient, tweet: dict[str, Any]) -> int:
    raw = orjson.dumps({"for_user_id": "1", "tweet_create_events": [tweet]})
    headers = {"content-type": "application/json"}
    headers["x-twitter-webhooks-signature"] = x_signature(X_SECRET, raw)
    return client.post("/webhooks/x", content=raw, headers=headers).status_code


_ids = iter(range(1_900_000_000_000_000_000, 2_000_000_000_000_000_000))


def v1_tweet(text: str, user_id: str = "4001", at: str = "Fri Nov 20 09:30:00 +0000 2026") -> dict:
    tid = str(next(_ids))
    return {
        "id_str": tid,
        "text": text,
        "created_at": at,
        "user": {"id_str": user_id, "screen_name": "citizen_x", "name": "Citizen"},
        "entities": {"user_mentions": [{"screen_name": "RailMinIndia"}], "hashtags": []},
    }


def wa_message(graph: FakeGraph, wa_id: str, text: str, **override: Any) -> dict[str, Any]:
    body = graph.message_body(wa_id, text)
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    message.update(override)
    return body


def _csrf(client: TestClient) -> str:
    page = client.get("/complaint")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def _complaint(client: TestClient, **fields: str) -> Any:
    data = {
        "csrf": _csrf(client),
        "agency": "UPP",  # the form asks for the agency unless the text names it
        "category": "theft",
        "description": "Purse stolen at Charbagh station",
        "address": "Charbagh",
        **fields,
    }
    return client.post("/complaint", data=data, follow_redirects=False)


def _count(engine: Engine, table: t.Table, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def test_one_complaint_with_a_120_digit_phone_does_not_stop_later_whatsapp_messages(
    client: TestClient, org_engine: Engine, settings: Settings
) -> None:
    """The probe: 0 of 20 later WhatsApp deliveries were processed."""
    answer = _complaint(client, phone="9" * 120)
    assert answer.status_code == 400
    assert "phone" in answer.text and "characters" in answer.text
    graph = FakeGraph("token", META_SECRET)
    for i in range(20):
        text = f"Train 12951 coach B{i % 9 + 1} has no water, PNR 45123456{i:02d}"
        assert _whatsapp(client, graph.message_body(f"9198765432{i:02d}", text)) == 200
    Pipeline(org_engine, None, settings).drain()
    assert _count(org_engine, t.tickets, t.tickets.c.channel == "whatsapp") == 20
    assert _count(org_engine, t.journal, t.journal.c.status == "pending") == 0


def test_poison_by_webhook_and_form_is_set_aside_with_reasons_and_every_good_post_is_a_ticket(
    client: TestClient, org_engine: Engine, settings: Settings
) -> None:
    graph = FakeGraph("token", META_SECRET)
    good_wa = [
        wa_message(graph, f"91900000000{i}", f"Coach B{i} of 12951 has no water since Kota")
        for i in range(1, 4)
    ]
    bad_wa = {
        "NUL": wa_message(graph, "919111111111", "no water\x00 in coach S1"),
        "long sender": wa_message(graph, "9" * 300, "no water in coach S2"),
        "long id": wa_message(graph, "919111111112", "no light in coach S3", id="w" * 300),
        "year 9999": wa_message(graph, "919111111113", "fan broken", timestamp="253402300000"),
    }
    good_x = [
        v1_tweet(f"@RailMinIndia coach A{i} of 12301 has no water", user_id=f"50{i}")
        for i in range(1, 4)
    ]
    bad_x = {
        "NUL": v1_tweet("@RailMinIndia no water\x00 in A9", user_id="5090"),
        "long user id": v1_tweet("@RailMinIndia no water in A8", user_id="7" * 300),
        "past 9999": v1_tweet("@RailMinIndia A7 dirty", "5091", "Fri Dec 31 23:00:00 -0500 9999"),
        "before 1970": v1_tweet("@RailMinIndia A6 dirty", "5092", "Wed Dec 31 10:00:00 +0000 1969"),
    }
    for good, bad in zip(good_wa, bad_wa.values(), strict=False):
        assert _whatsapp(client, good) == 200 and _whatsapp(client, bad) == 200
    assert _whatsapp(client, list(bad_wa.values())[-1]) == 200
    for good, bad in zip(good_x, bad_x.values(), strict=False):
        assert _x(client, good) == 200 and _x(client, bad) == 200
    assert _x(client, list(bad_x.values())[-1]) == 200

    # The web form says what is wrong, in words, and stores nothing.
    for field, value, reason in (
        ("description", "purse stolen\x00", "NUL"),
        ("phone", "9" * 120, "phone"),
        ("email", "a" * 300 + "@example.org", "email"),
        ("name", "N" * 500, "first_name"),
    ):
        answer = _complaint(client, **{field: value})
        assert answer.status_code == 400, (field, answer.status_code)
        assert reason in answer.text
    assert _complaint(client, phone="+91 98765 43210").status_code == 303

    # Good posts after the poison, by both webhooks.
    late_wa = [
        wa_message(graph, f"91800000000{i}", f"Coach S{i} of 12565 toilet is choked")
        for i in range(1, 4)
    ]
    late_x = [
        v1_tweet(f"@RailMinIndia coach D{i} of 12002 no light", user_id=f"60{i}")
        for i in range(1, 4)
    ]
    for body in late_wa:
        assert _whatsapp(client, body) == 200
    for tw in late_x:
        assert _x(client, tw) == 200

    started = time.monotonic()
    Pipeline(org_engine, None, settings).drain()
    assert time.monotonic() - started < 30
    assert _count(org_engine, t.tickets) == 3 + 3 + 3 + 3 + 1  # and the form's good one
    with org_engine.connect() as conn:
        set_aside = conn.execute(
            select(t.journal.c.channel, t.journal.c.error).where(
                t.journal.c.status.in_(("rejected", "failed"))
            )
        ).all()
    assert len(set_aside) == len(bad_wa) + len(bad_x)
    reasons = " | ".join(error for _channel, error in set_aside)
    assert reasons.count("NUL") == 2
    assert "author_id is 300 characters" in reasons
    assert "external_id is 300 characters" in reasons
    assert "out of range" in reasons and "outside the years 1 to 9999" in reasons
    assert _count(org_engine, t.journal, t.journal.c.status == "pending") == 0
