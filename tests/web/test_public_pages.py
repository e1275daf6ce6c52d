"""The complaint form (with its CSRF token) and the public status page."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import orjson
import pytest
from sqlalchemy import Engine, select

from sevadesk.channels.whatsapp.payloads import split_webhook
from sevadesk.config import Settings
from sevadesk.domain.clock import FrozenClock
from sevadesk.fakes.graph_api import FakeGraph
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from sevadesk.web.app import create_app
from tests.factories import lines, tweet

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def client(org_engine: Engine, settings: Settings, clock: FrozenClock) -> Iterator[TestClient]:
    # The tests' clock: GeoReport lists the newest 90 days, and the posts are of BASE_TIME.
    with TestClient(create_app(settings, org_engine, clock)) as c:
        yield c


def _csrf(client: TestClient) -> str:
    page = client.get("/complaint")
    assert page.status_code == 200
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match
    return match.group(1)


def test_a_filed_complaint_gets_a_status_page_without_its_words(client: TestClient) -> None:
    token = _csrf(client)
    answer = client.post(
        "/complaint",
        data={
            "csrf": token,
            "category": "theft",
            "agency": "UPP",
            "description": "Purse stolen at Charbagh, call me on 9876543210",
            "address": "Charbagh",
            "pin": "226004",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    status = client.get(answer.headers["location"])
    # The form is written to the office, not published: anyone with the reference sees how
    # the complaint stands, never what it says.
    assert status.status_code == 200 and "Purse stolen" not in status.text
    assert "9876543210" not in status.text and "new" in status.text
    assert "Sent privately" in status.text


def test_a_post_without_the_csrf_token_is_refused(client: TestClient) -> None:
    _csrf(client)
    answer = client.post(
        "/complaint",
        data={"csrf": "forged", "category": "theft", "description": "x"},
        follow_redirects=False,
    )
    assert answer.status_code == 403 and "expired" in answer.text


def test_a_missing_description_is_explained_on_the_form(client: TestClient) -> None:
    token = _csrf(client)
    answer = client.post("/complaint", data={"csrf": token, "category": "theft", "description": ""})
    assert answer.status_code == 400 and "Please describe what happened" in answer.text


def test_an_unknown_reference_is_a_404_page(client: TestClient) -> None:
    answer = client.get("/status/UPP-424242")
    assert answer.status_code == 404 and "No complaint UPP-424242" in answer.text


def test_a_private_channels_words_are_on_no_public_page_or_feed(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    graph = FakeGraph("token", "secret")
    whatsapp = split_webhook(
        graph.message_body("919812345678", "Asha here: my chain was snatched near Hazratganj")
    )
    pipeline.ingest("whatsapp", "wa-webhook", [orjson.dumps(m).decode() for m in whatsapp.messages])
    pipeline.ingest(
        "x", "test", lines(tweet("@Uppolice my bike was stolen in Gomti Nagar, Lucknow 226010"))
    )
    with org_engine.connect() as conn:
        refs = dict(conn.execute(select(t.tickets.c.channel, t.tickets.c.ref)).all())
    private, public = refs["whatsapp"], refs["x"]
    views = {
        "open311 list": client.get("/open311/v2/requests.json").text,
        "open311 xml": client.get("/open311/v2/requests.xml").text,
        "open311 one": client.get(f"/open311/v2/requests/{private}.json").text,
        "status": client.get(f"/status/{private}").text,
        "lookup": client.get("/public", params={"ref": private}).text,
    }
    for name, text in views.items():
        assert private in text, name  # the ticket is there: its status, office, category
        assert "Hazratganj" not in text and "Asha" not in text, name
    assert "Sent privately" in views["status"]
    # A public post's (masked) words stay public, as the GeoReport feed promises.
    assert "Gomti Nagar" in views["open311 list"] and public in views["open311 list"]
    feed = {r["service_request_id"]: r for r in client.get("/open311/v2/requests.json").json()}
    assert feed[private]["description"] is None


def test_personal_data_written_to_slip_past_masking_is_hidden_on_every_public_view(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    """Masking happens once, as a post is triaged (the ticket's summary); every public view
    (status page, public lookup, Open311 in JSON and XML, the live feed) reads that."""
    said = {
        "Devanagari mobile": "९८७६५४३२१०",
        "full-width mobile": "９８７６５４３２１０",
        "dotted mobile": "98765.43210",
        "spaced mobile": "98 76 54 32 10",
        "spelled mobile": "nine eight seven six five four three two one zero",
        "Devanagari Aadhaar": "४४९१ ६७३७ ०८६१",
        "dotted Aadhaar": "4491.6737.0861",
        "e-mail": "ram.kumar [at] gmail [dot] com",
        "FIR": "FIR 0456 of 2023",
        "passport file": "DL1061234567890",
        "passport": "K1234567",
        "PAN": "ABCDE1234F",
        "licence": "UP32 20190012345",
    }
    text = "@Uppolice chain snatched in Gomti Nagar, Lucknow 226010; " + "; ".join(said.values())
    pipeline.ingest("x", "test", lines(tweet(text)))
    with org_engine.connect() as conn:
        ref = conn.execute(select(t.tickets.c.ref)).scalar_one()
    views = {
        "status": client.get(f"/status/{ref}").text,
        "lookup": client.get("/public", params={"ref": ref}).text,
        "open311 list": client.get("/open311/v2/requests.json").text,
        "open311 xml": client.get("/open311/v2/requests.xml").text,
        "open311 one": client.get(f"/open311/v2/requests/{ref}.json").text,
    }
    for view, page in views.items():
        assert "Gomti Nagar" in page, view  # the complaint's words are there
        for what, written in said.items():
            assert written not in page, f"{what} on {view}"
        for digits in ("9876543210", "98765", "449167370861", "0456", "1234567", "1234F"):
            assert digits not in page, f"{digits} on {view}"
    feed = {r["service_request_id"]: r for r in client.get("/open311/v2/requests.json").json()}
    assert "[phone]" in feed[ref]["description"] and "[aadhaar]" in feed[ref]["description"]


PASSPORT_FILE = "DL1061234567890"  # a passport application's file number


def test_a_whatsapp_message_with_a_passport_file_number_is_on_no_public_page(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    """A private channel's words are shown on no page a visitor can open, masked or not;
    the live wallboard is not public at all."""
    graph = FakeGraph("token", "secret")
    said = f"Passport file {PASSPORT_FILE} stuck at Lucknow police verification since May"
    whatsapp = split_webhook(graph.message_body("919812345678", said))
    pipeline.ingest("whatsapp", "wa-webhook", [orjson.dumps(m).decode() for m in whatsapp.messages])
    with org_engine.connect() as conn:
        ref = conn.execute(select(t.tickets.c.ref)).scalar_one()
    pages = {
        "live page": client.get("/", follow_redirects=False),
        "live feed": client.get("/live/tickets.json"),
        "status": client.get(f"/status/{ref}"),
        "status in Tamil": client.get(f"/status/{ref}?lang=ta"),
        "lookup": client.get("/public", params={"ref": ref}),
        "record": client.get("/public"),
        "open311 list": client.get("/open311/v2/requests.json"),
        "open311 xml": client.get("/open311/v2/requests.xml"),
        "open311 one": client.get(f"/open311/v2/requests/{ref}.json"),
        "complaint form": client.get("/complaint"),
    }
    for name, page in pages.items():
        for words in (PASSPORT_FILE, "1234567890", "verification since May", "Passport file"):
            assert words not in page.text, f"{words!r} on the {name}"
    assert pages["live page"].status_code == 303
    assert pages["live page"].headers["location"] == "/desk/login"
    assert pages["live feed"].status_code == 401
    assert ref in pages["status"].text and "Sent privately" in pages["status"].text


def test_the_live_wallboard_is_for_signed_in_staff_and_their_scope_only(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    from sevadesk.store.users_repo import issue_token
    from tests.web.signin import sign_in

    pipeline.ingest(
        "x",
        "test",
        lines(
            tweet("@Uppolice my bike was stolen in Gomti Nagar, Lucknow 226010, call 9876543210"),
            tweet(
                "@RailMinIndia refund for my cancelled ticket 12951 not received", author_id="77"
            ),
        ),
    )
    anonymous = client.get("/live/tickets.json")
    assert anonymous.status_code == 401
    with org_engine.begin() as conn:
        token = issue_token(conn, "rly.agent", "wallboard")
    rly = client.get("/live/tickets.json", headers={"Authorization": f"Bearer {token}"}).json()
    assert [r["summary"] for r in rly] and all("Gomti Nagar" not in r["summary"] for r in rly)
    sign_in(client, "lko.agent", "lko-password")
    assert "live tickets" in client.get("/").text
    lko = client.get("/live/tickets.json").json()
    texts = " ".join(r["summary"] for r in lko)
    assert "Gomti Nagar" in texts and "9876543210" not in texts  # masked, even for staff
    assert "12951" not in texts  # another agency's ticket is not in Lucknow's scope
