"""Posts their authors deleted or edited: the words leave every public view, the desk shows
the deletion, the case stays, and each change is audited without the words."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, select

from sevadesk.channels.signatures import meta_signature, x_signature
from sevadesk.channels.whatsapp.payloads import split_webhook
from sevadesk.channels.x.payloads import tweet_deletions
from sevadesk.config import Settings
from sevadesk.domain.clock import FrozenClock
from sevadesk.domain.revisions import DELETED, DELETED_TEXT, EDITED
from sevadesk.fakes.graph_api import FakeGraph
from sevadesk.fakes.x_api import FakeX
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from sevadesk.tickets.actions import sla_pass
from sevadesk.web.app import create_app
from tests.factories import line
from tests.web.signin import sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

X_SECRET, WA_SECRET = "x-consumer-secret", "wa-app-secret"
CITIZEN = "919812345678"
HAZRATGANJ = "@Uppolice my phone was snatched near Hazratganj, Lucknow 226001"


@pytest.fixture
def client(org_engine: Engine, settings: Settings, clock: FrozenClock) -> Iterator[TestClient]:
    live = Settings.model_validate(
        {
            **settings.model_dump(),
            "x_consumer_secrets": X_SECRET,
            "whatsapp_app_secrets": WA_SECRET,
            "sla_interval_seconds": 0,  # the tests run the routine job themselves
        }
    )
    with TestClient(create_app(live, org_engine, clock)) as c:
        yield c


def to_x(client: TestClient, body: dict[str, Any]) -> Any:
    """A delivery to /webhooks/x, signed as X signs it."""
    raw = orjson.dumps(body)
    headers = {
        "content-type": "application/json",
        "x-twitter-webhooks-signature": x_signature(X_SECRET, raw),
    }
    answer = client.post("/webhooks/x", content=raw, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["stored"]


def to_whatsapp(client: TestClient, body: dict[str, Any]) -> Any:
    """A delivery to /webhooks/whatsapp, signed with the app secret as Meta signs it."""
    raw = orjson.dumps(body)
    headers = {
        "content-type": "application/json",
        "x-hub-signature-256": meta_signature(WA_SECRET, raw),
    }
    answer = client.post("/webhooks/whatsapp", content=raw, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["stored"]


def only_ref(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(select(t.tickets.c.ref)).scalar_one())


def public_views(client: TestClient, ref: str) -> dict[str, str]:
    from sevadesk.store.users_repo import issue_token

    with client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
        staff = {"Authorization": "Bearer " + issue_token(conn, "admin", "wallboard")}
    return {
        "open311 list": client.get("/open311/v2/requests.json").text,
        "open311 xml": client.get("/open311/v2/requests.xml").text,
        "open311 one": client.get(f"/open311/v2/requests/{ref}.json").text,
        "status page": client.get(f"/status/{ref}").text,
        "public lookup": client.get("/public", params={"ref": ref}).text,
        # Not public: the staff's wallboard, masked all the same.
        "live feed": client.get("/live/tickets.json", headers=staff).text,
    }


def desk_page(client: TestClient, ref: str, username: str, password: str) -> str:
    sign_in(client, username, password)
    page = client.get(f"/desk/t/{ref}", follow_redirects=False)
    assert page.status_code == 200
    return page.text


def events(engine: Engine, action: str) -> list[Any]:
    e = t.ticket_events.c
    with engine.connect() as conn:
        return conn.execute(select(e.actor, e.after, e.note).where(e.action == action)).all()


def journal_holding(engine: Engine, words: str) -> list[str]:
    with engine.connect() as conn:
        payloads = conn.execute(select(t.journal.c.channel, t.journal.c.payload)).all()
    return [channel for channel, payload in payloads if words in payload]


def test_a_post_deleted_on_x_leaves_every_public_view_and_reads_as_deleted_in_the_desk(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    fake = FakeX(agency_username="Uppolice")
    post = fake.citizen_post(HAZRATGANJ, username="asha_v")
    to_x(client, fake.account_activity_body(post))
    pipeline.drain()
    ref = only_ref(org_engine)
    assert "Hazratganj" in public_views(client, ref)["open311 list"]  # a public post, until…

    deletion = fake.citizen_deletes(post)
    assert to_x(client, deletion) == {"messages": 0, "statuses": 0, "other": 1}
    to_x(client, deletion)  # X retries a delivery: one deletion all the same

    for name, text in public_views(client, ref).items():
        assert ref in text and "Hazratganj" not in text, name
    page = desk_page(client, ref, "lko.agent", "lko-password")
    assert DELETED_TEXT in page and "Hazratganj" not in page
    assert "message_deleted" in page  # the audit trail shows it happened
    audit = events(org_engine, "message_deleted")
    assert len(audit) == 1 and audit[0].actor == "citizen"
    assert audit[0].note == "deleted by its author on X" and audit[0].after["external_id"] == post
    # X's policy: the words are not kept anywhere, the raw journal included; the case stays.
    assert journal_holding(org_engine, "Hazratganj") == []
    with org_engine.connect() as conn:
        status = conn.execute(select(t.tickets.c.status)).scalar_one()
    assert status in ("new", "assigned")


def test_a_deletion_that_comes_before_its_post_applies_when_the_post_is_stored(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    fake = FakeX(agency_username="Uppolice")
    post = fake.citizen_post(HAZRATGANJ)
    created = fake.account_activity_body(post)
    stream_copy = {"data": dict(fake.tweets[-1]), "includes": {"users": list(fake.users.values())}}
    deletion = fake.citizen_deletes(post)
    to_x(client, deletion)  # the webhook delivers the deletion first
    to_x(client, created)
    pipeline.drain()
    ref = only_ref(org_engine)
    for name, text in public_views(client, ref).items():
        assert ref in text and "Hazratganj" not in text, name
    assert len(events(org_engine, "message_deleted")) == 1
    # The stream saw the post too, and delivers its copy later: stored as a duplicate, and
    # emptied in the journal at once.
    pipeline.ingest("x", "x-stream", [line(stream_copy)])
    assert journal_holding(org_engine, "Hazratganj") == []
    assert len(events(org_engine, "message_deleted")) == 1


def test_copies_journaled_before_the_deletion_are_emptied_by_the_routine_job(
    client: TestClient, pipeline: Pipeline, org_engine: Engine, clock: FrozenClock
) -> None:
    fake = FakeX(agency_username="Uppolice")
    post = fake.citizen_post(HAZRATGANJ)
    stream_copy = {"data": dict(fake.tweets[-1]), "includes": {"users": list(fake.users.values())}}
    pipeline.ingest("x", "x-stream", [line(stream_copy)])
    to_x(client, fake.account_activity_body(post))  # the webhook's copy: a duplicate
    pipeline.drain()
    assert journal_holding(org_engine, "Hazratganj") == ["x", "x"]
    to_x(client, fake.citizen_deletes(post))
    assert journal_holding(org_engine, "Hazratganj") == ["x"]  # the copy the message came from
    with org_engine.begin() as conn:
        sla_pass(conn, clock.now())
    assert journal_holding(org_engine, "Hazratganj") == []


def test_a_whatsapp_message_its_author_revoked_reads_as_deleted_in_the_desk(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    graph = FakeGraph("token", WA_SECRET)
    message = graph.message_body(CITIZEN, "Asha here: my chain was snatched near Hazratganj")
    wamid = message["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    to_whatsapp(client, message)
    pipeline.drain()
    ref = only_ref(org_engine)
    with org_engine.begin() as conn:  # as if the message had shared where it happened
        conn.execute(
            t.tickets.update()
            .where(t.tickets.c.ref == ref)
            .values(lat=26.85, long=80.95, address="Hazratganj", media_url="https://e.in/1.jpg")
        )
    revoke = graph.revoke_body(CITIZEN, wamid)
    assert to_whatsapp(client, revoke)["other"] == 1
    to_whatsapp(client, revoke)
    page = desk_page(client, ref, "admin", "admin-password")
    assert DELETED_TEXT in page and "Asha" not in page and "Hazratganj" not in page
    audit = events(org_engine, "message_deleted")
    assert [a.note for a in audit] == ["deleted by its author on WhatsApp"]
    assert journal_holding(org_engine, "Hazratganj") == []
    with org_engine.connect() as conn:
        place = conn.execute(
            select(t.tickets.c.lat, t.tickets.c.address, t.tickets.c.media_url).where(
                t.tickets.c.ref == ref
            )
        ).one()
    assert tuple(place) == (None, None, None)
    for name, text in public_views(client, ref).items():
        assert "Hazratganj" not in text and DELETED_TEXT not in text, name  # never shown


def test_a_whatsapp_edit_replaces_the_words_masked_again_whenever_it_arrives(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    graph = FakeGraph("token", WA_SECRET)
    message = graph.message_body(CITIZEN, "My bag was stolen at Charbagh station", at=1_763_600_000)
    wamid = message["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    newer = graph.edit_body(
        CITIZEN, wamid, "Bag stolen at Charbagh, call me on 9876543210", 1_763_600_120
    )
    older = graph.edit_body(CITIZEN, wamid, "My black bag was stolen at Charbagh", 1_763_600_060)
    to_whatsapp(client, newer)  # an edit can overtake its message…
    to_whatsapp(client, message)
    pipeline.drain()
    ref = only_ref(org_engine)
    to_whatsapp(client, older)  # …and an earlier edit can come last: the newest words stay
    page = desk_page(client, ref, "admin", "admin-password")
    assert "Bag stolen at Charbagh, call me on [phone]" in page and "9876543210" not in page
    assert "My black bag" not in page and "My bag was stolen" not in page
    with org_engine.connect() as conn:
        summary = conn.execute(select(t.tickets.c.summary)).scalar_one()
    assert summary == "Bag stolen at Charbagh, call me on [phone]"
    audit = events(org_engine, "message_edited")
    assert len(audit) == 2 and all(a.note == "edited by its author on WhatsApp" for a in audit)
    assert all("Charbagh" not in str(a.after) for a in audit)


def test_the_channels_revision_shapes_are_read_and_an_unsupported_message_is_none() -> None:
    # Meta's shapes, from pywa's test data (../shared/data/whatsapp-cloud-webhooks).
    def delivery(message: dict[str, Any]) -> dict[str, Any]:
        value = {"messaging_product": "whatsapp", "metadata": {}, "messages": [message]}
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
        }

    base = {"from": "972987654321", "timestamp": "1697043223"}
    revoke = {**base, "id": "wamid.R", "type": "revoke", "revoke": {"original_message_id": "A"}}
    edit = {
        **base,
        "id": "wamid.E",
        "type": "edit",
        "edit": {
            "original_message_id": "B",
            "message": {
                "context": {"id": "M0"},
                "type": "image",
                "image": {"caption": "Updated image caption", "id": "1234567890"},
            },
        },
    }
    unsupported = {
        **base,
        "id": "wamid.U",
        "type": "unsupported",
        "errors": [{"code": 131051, "title": "Message type unknown"}],
    }
    read = [split_webhook(delivery(m)) for m in (revoke, edit, unsupported)]
    assert [(r.kind, r.external_id) for b in read for r in b.revisions] == [
        (DELETED, "A"),
        (EDITED, "B"),
    ]
    assert read[1].revisions[0].text == "Updated image caption"
    assert all(len(b.other) == 1 and not b.messages for b in read)  # all kept in the journal
    # X's documented Account Activity example.
    body = {
        "for_user_id": "930524282358325248",
        "tweet_delete_events": [
            {
                "status": {"id": "1045405559317569537", "user_id": "930524282358325248"},
                "timestamp_ms": "1432228155593",
            }
        ],
    }
    events, deletions = tweet_deletions(body)
    assert len(events) == 1 and deletions[0].external_id == "1045405559317569537"
    assert deletions[0].at.year == 2015 and deletions[0].kind == DELETED
