"""X Account Activity webhook: CRC, signatures, and one message per tweet whatever the path."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import orjson
import pytest
from sqlalchemy import Engine, select

from sevadesk.channels.signatures import x_crc_response, x_signature
from sevadesk.config import Settings
from sevadesk.fakes.x_api import FakeX
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from sevadesk.web.app import create_app
from tests.channels.conftest import count
from tests.factories import line

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SECRET, OLD = "consumer-secret-new", "consumer-secret-old"


@pytest.fixture
def client(org_engine: Engine, settings: Settings) -> Iterator[TestClient]:
    live = Settings.model_validate({**settings.model_dump(), "x_consumer_secrets": SECRET})
    with TestClient(create_app(live, org_engine)) as c:
        yield c


def _post(client: TestClient, body: dict, secret: str | None):  # type: ignore[no-untyped-def]
    raw = orjson.dumps(body)
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["x-twitter-webhooks-signature"] = x_signature(secret, raw)
    return client.post("/webhooks/x", content=raw, headers=headers)


def test_the_crc_check_answers_with_the_hmac_of_the_token(client: TestClient) -> None:
    answer = client.get("/webhooks/x", params={"crc_token": "challenge-123"})
    assert answer.json() == {"response_token": x_crc_response(SECRET, "challenge-123")}


def test_forged_missing_and_stale_signatures_store_nothing(
    client: TestClient, org_engine: Engine
) -> None:
    fake = FakeX()
    body = fake.account_activity_body(fake.citizen_post("@RailMinIndia 12951 no water in B4"))
    assert _post(client, body, None).status_code == 401
    assert _post(client, body, "guess").status_code == 403
    assert _post(client, body, OLD).status_code == 403  # a secret that was rotated out
    assert count(org_engine, t.journal) == 0


def test_a_tweet_seen_by_the_webhook_and_the_stream_is_one_message(
    client: TestClient, org_engine: Engine, pipeline: Pipeline
) -> None:
    fake = FakeX()
    tid = fake.citizen_post("@RailMinIndia train 12951 coach B4 has no water, PNR 4512345678")
    answer = _post(client, fake.account_activity_body(tid), SECRET)
    assert answer.status_code == 200 and answer.json()["stored"]["messages"] == 1
    pipeline.drain()
    # The same tweet arrives again from the filtered stream, in v2 format.
    stream_event = {
        "data": fake.tweets[-1],
        "includes": {"users": [fake.users[fake.tweets[-1]["author_id"]]]},
    }
    pipeline.ingest("x", "x-stream", [line(stream_event)])
    with org_engine.connect() as conn:
        ids = conn.execute(select(t.messages.c.external_id)).scalars().all()
    assert ids == [tid]
    assert count(org_engine, t.tickets) == 1


def test_dm_events_become_messages_but_the_accounts_own_dms_do_not(
    client: TestClient, org_engine: Engine, pipeline: Pipeline
) -> None:
    dm = {
        "type": "message_create",
        "id": "1880000000000000001",
        "created_timestamp": "1764150000000",
        "message_create": {
            "target": {"recipient_id": "1000"},
            "sender_id": "4242",
            "message_data": {"text": "My PNR 4512345678, coach B4 of 12951 has no water"},
        },
    }
    own = {
        **dm,
        "id": "1880000000000000002",
        "message_create": {**dm["message_create"], "sender_id": "1000"},
    }
    body = {"for_user_id": "1000", "direct_message_events": [dm, own], "users": {}}
    answer = _post(client, body, SECRET)
    assert answer.json()["stored"] == {"messages": 1, "statuses": 0, "other": 1}
    pipeline.drain()
    with org_engine.connect() as conn:
        assert conn.execute(select(t.messages.c.external_id)).scalars().all() == [
            "dm-1880000000000000001"
        ]
