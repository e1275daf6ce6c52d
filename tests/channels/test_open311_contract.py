"""Open311 GeoReport v2 as other people's tools expect it: every answer checked against the
community's JSON schemas and mySociety's endpoint types (tests/channels/georeport_schemas.py
says where each comes from and where the desk departs from mySociety), and every rule of the
spec a civic app leans on.

The spec: open311/open311.github.io, `GeoReport_v2/index.md` (methods, arguments, the
90-day window, "service_request_id … overrides all other arguments", the token method, the
`charset=utf-8` content types, W3C date-times with an offset) and `Service_Discovery.md`
(the discovery document, "must end in /discovery.<format>", XML and JSON).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree as ET

import orjson
import pytest
from sqlalchemy import Engine, select

from sevadesk.channels.whatsapp.payloads import split_webhook
from sevadesk.config import Settings
from sevadesk.domain.clock import FrozenClock
from sevadesk.fakes.graph_api import FakeGraph
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from sevadesk.store.clients_repo import issue_open311_key
from sevadesk.store.users_repo import actor_by_username
from sevadesk.tickets.actions import change_status
from sevadesk.web.app import create_app
from tests.channels.georeport_schemas import (
    MYSOCIETY_POSTED,
    RX_DATETIME,
    SERVICE_DEFINITION,
    problems,
    request_list_problems,
    service_list_problems,
)
from tests.factories import BASE_TIME, lines, tweet

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

V2 = "/open311/v2"
PHOTO = "https://civic.example.org/photos/8812.jpg"
THEFT = {
    "service_code": "theft",
    "description": "My mobile phone was snatched near Hazratganj crossing",
    "lat": "26.8467",
    "long": "80.9462",
    "address_string": "Hazratganj crossing, Lucknow 226001",
    "media_url": PHOTO,
    "email": "asha@example.org",
    "first_name": "Asha",
}


@pytest.fixture
def client(org_engine: Engine, settings: Settings, clock: FrozenClock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, org_engine, clock)) as c:
        yield c


@pytest.fixture
def api_key(org_engine: Engine) -> str:
    with org_engine.begin() as conn:
        return issue_open311_key(conn, "lucknow-civic-app", BASE_TIME)


@dataclass
class Desk:
    """A desk with one of each kind of ticket a GeoReport client may meet."""

    theft: str  # Open311, with a place and a photo; resolved with a note
    photo: str  # Open311, a photo and a position, no words
    public_x: str  # a public X post, no category given
    private: str  # a WhatsApp message: words and place never public
    old: str  # an X post from 100 days before the tests' now
    posted: list[Any]  # the POST answers, as a client saw them


def _ref(engine: Engine, channel: str, since: int = 0) -> str:
    with engine.connect() as conn:
        ref = conn.execute(
            select(t.tickets.c.ref)
            .where(t.tickets.c.channel == channel, t.tickets.c.id > since)
            .order_by(t.tickets.c.id.desc())
        ).scalar()
    assert ref is not None
    return str(ref)


@pytest.fixture
def desk(client: TestClient, api_key: str, pipeline: Pipeline, org_engine: Engine) -> Desk:
    pipeline.ingest(
        "x",
        "test",
        lines(tweet("@Uppolice my scooter was stolen in Aminabad", at=BASE_TIME - timedelta(100))),
    )
    old = _ref(org_engine, "x")
    theft = client.post(f"{V2}/requests.json", data={**THEFT, "api_key": api_key})
    # A photo-only report, the key in the query string, the fields as JSON.
    photo = client.post(
        f"{V2}/requests.json?api_key={api_key}",
        json={"service_code": "other", "lat": "26.85", "long": "80.95", "media_url": PHOTO},
    )
    assert theft.status_code == photo.status_code == 201, (theft.text, photo.text)
    pipeline.ingest(
        "x", "test", lines(tweet("@Uppolice my bike was stolen in Gomti Nagar, Lucknow 226010"))
    )
    graph = FakeGraph("token", "secret")
    whatsapp = split_webhook(
        graph.message_body("919812345678", "Asha here: my chain was snatched near Hazratganj")
    )
    pipeline.ingest("whatsapp", "wa-webhook", [orjson.dumps(m).decode() for m in whatsapp.messages])
    with org_engine.begin() as conn:
        conn.execute(  # the X post waits for triage to choose a category
            t.tickets.update().where(t.tickets.c.channel == "x").values(category=None)
        )
        agent = actor_by_username(conn, "lko.agent")
        assert agent is not None
        change_status(
            conn,
            agent,
            theft.json()[0]["service_request_id"],
            "resolved",
            "Phone recovered; collect it at Hazratganj station, call 9876543210 first",
            BASE_TIME + timedelta(hours=2),
        )
    return Desk(
        theft=theft.json()[0]["service_request_id"],
        photo=photo.json()[0]["service_request_id"],
        public_x=_ref(org_engine, "x", since=0),
        private=_ref(org_engine, "whatsapp"),
        old=old,
        posted=[theft.json(), photo.json()],
    )


def _feed(client: TestClient, **params: str) -> dict[str, dict[str, Any]]:
    answer = client.get(f"{V2}/requests.json", params=params)
    assert answer.status_code == 200, answer.text
    assert request_list_problems(answer.json()) == []
    return {r["service_request_id"]: r for r in answer.json()}


def test_every_services_answer_is_valid_for_both_schemas(client: TestClient) -> None:
    services = client.get(f"{V2}/services.json")
    assert services.headers["content-type"] == "application/json; charset=utf-8"
    assert service_list_problems(services.json()) == []
    codes = [s["service_code"] for s in services.json()]
    assert "theft" in codes and "other" in codes  # the documented catch-all
    for code in codes:
        definition = client.get(f"{V2}/services/{code}.json")
        assert definition.status_code == 200
        assert problems(SERVICE_DEFINITION, definition.json()) == []
    xml = client.get(f"{V2}/services.xml")
    assert xml.headers["content-type"] == "text/xml; charset=utf-8"
    assert [e.text for e in ET.fromstring(xml.content).iter("service_code")] == codes


def test_every_requests_answer_is_valid_and_the_posts_answers_too(
    client: TestClient, desk: Desk
) -> None:
    assert all(problems(MYSOCIETY_POSTED, answer) == [] for answer in desk.posted)
    feeds = [
        {},
        {"status": "open"},
        {"status": "closed"},
        {"service_code": "theft,other"},
        {"service_request_id": ",".join([desk.theft, desk.private, desk.old])},
        {"start_date": (BASE_TIME - timedelta(101)).isoformat()},
        {"end_date": (BASE_TIME + timedelta(1)).isoformat()},
        {"page_size": "2", "page": "2"},
    ]
    for params in feeds:
        _feed(client, **params)
    for ref in (desk.theft, desk.photo, desk.public_x, desk.private, desk.old):
        one = client.get(f"{V2}/requests/{ref}.json")
        assert one.headers["content-type"] == "application/json; charset=utf-8"
        assert request_list_problems(one.json()) == [], ref


def test_a_requests_place_and_photo_are_kept_and_returned(client: TestClient, desk: Desk) -> None:
    theft = client.get(f"{V2}/requests/{desk.theft}.json").json()[0]
    assert (theft["lat"], theft["long"]) == (26.8467, 80.9462)
    assert theft["address"] == "Hazratganj crossing, Lucknow 226001"
    assert theft["zipcode"] == "226001" and theft["media_url"] == PHOTO
    assert "asha@example.org" not in str(theft) and "Asha" not in str(theft)
    xml = ET.fromstring(client.get(f"{V2}/requests/{desk.theft}.xml").content)
    assert xml.findtext("request/lat") == "26.8467" and xml.findtext("request/zipcode") == "226001"
    assert xml.findtext("request/media_url") == PHOTO


def test_a_photo_only_report_is_accepted_and_a_report_of_nothing_is_not(
    client: TestClient, desk: Desk, api_key: str
) -> None:
    photo = client.get(f"{V2}/requests/{desk.photo}.json").json()[0]
    assert photo["media_url"] == PHOTO and (photo["lat"], photo["long"]) == (26.85, 80.95)
    empty = client.post(
        f"{V2}/requests.json",
        data={"api_key": api_key, "service_code": "theft", "lat": "26.8", "long": "80.9"},
    )
    assert empty.status_code == 400
    assert empty.json() == [
        {"code": 400, "description": "a description or a media_url is required"}
    ]


def test_a_private_channel_shows_neither_words_nor_place(client: TestClient, desk: Desk) -> None:
    private = _feed(client)[desk.private]
    assert private["description"] is None and private["status_notes"] is None
    assert all(private[k] is None for k in ("lat", "long", "address", "zipcode", "media_url"))
    feed = ET.fromstring(client.get(f"{V2}/requests.xml").content)
    [element] = [r for r in feed if r.findtext("service_request_id") == desk.private]
    assert "Hazratganj" not in ET.tostring(element, encoding="unicode")
    assert not any(element.findtext(k) for k in ("lat", "address", "media_url"))


def test_the_api_key_may_be_in_the_query_string_and_a_missing_one_is_403(
    client: TestClient, api_key: str
) -> None:
    for where in ("query", "body", "none", "wrong"):
        form = {k: v for k, v in THEFT.items() if k != "media_url"}
        url = f"{V2}/requests.xml"
        if where == "query":
            url += f"?api_key={api_key}"
        elif where == "body":
            form["api_key"] = api_key
        elif where == "wrong":
            url += "?api_key=seva_not-a-key"
        answer = client.post(url, data=form)
        root = ET.fromstring(answer.content)
        if where in ("query", "body"):
            assert answer.status_code == 201 and root.findtext("request/service_request_id")
        else:
            assert answer.status_code == 403 and root.tag == "errors", where
            assert root.findtext("error/code") == "403"


def test_several_service_codes_filter_together_and_other_means_no_category(
    client: TestClient, desk: Desk
) -> None:
    theft = _feed(client, service_code="theft")
    assert desk.theft in theft and desk.public_x not in theft and desk.photo not in theft
    assert {r["service_code"] for r in theft.values()} == {"theft"}
    both = _feed(client, service_code="theft,other")
    assert desk.theft in both and desk.public_x in both
    assert both[desk.public_x]["service_code"] == "other"
    assert both[desk.public_x]["service_name"] == "Other"
    assert desk.theft not in _feed(client, service_code="other")


def test_service_request_id_overrides_every_other_filter(client: TestClient, desk: Desk) -> None:
    found = _feed(
        client,
        service_request_id=f"{desk.theft},{desk.old}",
        status="open",  # the theft is closed
        service_code="robbery",
        start_date=BASE_TIME.isoformat(),  # the old post is 100 days before
    )
    assert set(found) == {desk.theft, desk.old}


def test_the_newest_90_days_by_default_and_never_more_than_90(
    client: TestClient, desk: Desk
) -> None:
    assert desk.old not in _feed(client) and desk.theft in _feed(client)
    since = (BASE_TIME - timedelta(days=101)).isoformat()
    assert desk.old in _feed(client, start_date=since)
    assert desk.theft not in _feed(client, start_date=since)  # 90 days from the start
    wide = client.get(
        f"{V2}/requests.json", params={"start_date": since, "end_date": BASE_TIME.isoformat()}
    )
    assert wide.status_code == 400
    assert wide.json()[0]["description"] == "start_date and end_date may not span more than 90 days"


def test_pages_reach_beyond_the_first(client: TestClient, desk: Desk) -> None:
    first = client.get(f"{V2}/requests.json", params={"page_size": "2"})
    assert 'rel="next"' in first.headers["link"] and "page=2" in first.headers["link"]
    second = _feed(client, page_size="2", page="2")
    everything = _feed(client)
    assert len(everything) == 4  # the old post is outside the window
    assert set(r["service_request_id"] for r in first.json()) | set(second) == set(everything)
    assert not set(r["service_request_id"] for r in first.json()) & set(second)
    bad = client.get(f"{V2}/requests.json", params={"page_size": "5000"})
    assert bad.status_code == 400 and "page_size" in bad.json()[0]["description"]


def test_status_notes_are_the_resolving_note_masked(client: TestClient, desk: Desk) -> None:
    theft = _feed(client)[desk.theft]
    assert theft["status"] == "closed"
    assert theft["status_notes"] == (
        "Phone recovered; collect it at Hazratganj station, call [phone] first"
    )
    assert _feed(client)[desk.photo]["status_notes"] is None


def test_a_token_resolves_to_its_request(
    client: TestClient, desk: Desk, api_key: str, org_engine: Engine
) -> None:
    ignored = client.post(
        f"{V2}/requests.json",
        data={**THEFT, "api_key": api_key, "description": "a movie review of Sholay"},
    )
    assert ignored.status_code == 201 and problems(MYSOCIETY_POSTED, ignored.json()) == []
    token = ignored.json()[0]["token"]
    resolved = client.get(f"{V2}/tokens/{token}.json")
    assert resolved.json() == [{"token": token, "service_request_id": None}]
    with org_engine.connect() as conn:  # a filed request's own token names its ticket
        filed = conn.execute(
            select(t.messages.c.external_id)
            .join(t.tickets, t.tickets.c.id == t.messages.c.ticket_id)
            .where(t.tickets.c.ref == desk.theft)
        ).scalar()
    xml = ET.fromstring(client.get(f"{V2}/tokens/{filed}.xml").content)
    assert xml.findtext("request/service_request_id") == desk.theft
    assert xml.findtext("request/token") == filed
    missing = client.get(f"{V2}/tokens/o311-{'0' * 24}.json")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/open311/v2/nothing.json", 404),
        ("GET", "/open311/v3/services.json", 404),
        ("GET", "/open311/v2/services.csv", 404),
        ("GET", "/open311/v2/services/potholes.json", 404),
        ("DELETE", "/open311/v2/requests.json", 405),
        ("GET", "/open311/v2/requests.json?status=pending", 400),
        ("GET", "/open311/v2/requests.json?start_date=yesterday", 400),
        ("GET", "/open311/v2/requests.json?page=0", 400),
        ("GET", "/open311/v2/requests/UPP-999999.xml", 404),
    ],
)
def test_every_refusal_is_the_specs_error_list(
    client: TestClient, method: str, path: str, status: int
) -> None:
    answer = client.request(method, path)
    assert answer.status_code == status
    if path.split("?")[0].endswith(".xml"):
        root = ET.fromstring(answer.content)
        assert root.tag == "errors" and root.findtext("error/code") == str(status)
        return
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    [error] = answer.json()
    assert error["code"] == status and isinstance(error["description"], str)
    assert error["description"]


def test_every_datetime_is_one_w3_form_with_an_offset_and_whole_seconds(
    client: TestClient, desk: Desk
) -> None:
    stamps = [
        value
        for request in _feed(client).values()
        for key, value in request.items()
        if key.endswith("_datetime") and value is not None
    ]
    assert len(stamps) >= 8
    assert all(RX_DATETIME.match(s) and s.endswith("+00:00") for s in stamps), stamps


def test_the_discovery_document_names_the_endpoint_in_json_and_xml(client: TestClient) -> None:
    document = client.get("/open311/discovery.json")
    assert document.headers["content-type"] == "application/json; charset=utf-8"
    body = document.json()
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(body)
    [endpoint] = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["type"] == "production"
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}
    assert RX_DATETIME.match(body["changeset"])
    # The endpoint it names answers.
    assert client.get(endpoint["url"] + "/services.json").status_code == 200
    xml = ET.fromstring(client.get("/open311/discovery.xml").content)
    assert xml.tag == "discovery"
    assert xml.findtext("endpoints/endpoint/url") == endpoint["url"]
    assert [f.text for f in xml.iterfind("endpoints/endpoint/formats/format")] == endpoint[
        "formats"
    ]
    assert re.match(r"^\d{4}-", xml.findtext("changeset") or "")


def test_an_unexpected_failure_is_still_the_specs_error_list(
    org_engine: Engine, settings: Settings, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sevadesk.web.open311 as open311

    def broken(*_args: Any, **_kwargs: Any) -> list[dict[str, Any]]:
        raise RuntimeError("database went away")

    monkeypatch.setattr(open311, "public_tickets", broken)
    app = create_app(settings, org_engine, clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get(f"{V2}/requests.json")
        assert answer.status_code == 500
        assert answer.json() == [
            {"code": 500, "description": "the desk could not answer; try again later"}
        ]
        assert "database went away" not in answer.text
        xml = ET.fromstring(client.get(f"{V2}/requests.xml").content)
        assert xml.findtext("error/code") == "500"
        # Elsewhere the usual answer.
        assert client.get("/status/UPP-000001").status_code in (200, 404)


def test_an_officer_is_told_the_closing_reason_is_public_and_it_is(
    client: TestClient, desk: Desk
) -> None:
    from tests.web.signin import sign_in

    csrf = sign_in(client, "admin", "admin-password")
    page = client.get(f"/desk/t/{desk.photo}").text
    assert "shown in public" in page
    assert "shown in public" not in client.get(f"/desk/t/{desk.private}").text
    done = client.post(
        f"/desk/t/{desk.photo}/status",
        data={"csrf": csrf, "status": "rejected", "note": "Not a police matter: mail a@b.in"},
        follow_redirects=False,
    )
    assert done.status_code in (200, 303), done.text
    photo = _feed(client)[desk.photo]
    assert photo["status"] == "closed"
    assert photo["status_notes"] == "Not a police matter: mail [email]"
