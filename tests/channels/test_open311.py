"""Open311 GeoReport v2: a civic app files a request, it is routed, and its status is
readable by id, in JSON and in XML."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import Engine, select

from sevadesk.config import Settings
from sevadesk.store import tables as t
from sevadesk.store.clients_repo import issue_open311_key
from sevadesk.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def client(org_engine: Engine, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, org_engine)) as c:
        yield c


@pytest.fixture
def api_key(org_engine: Engine) -> str:
    with org_engine.begin() as conn:
        return issue_open311_key(conn, "lucknow-civic-app", datetime.now(UTC))


THEFT = {
    "service_code": "theft",
    "description": "My mobile phone was snatched near Hazratganj crossing, Lucknow 226001",
    "address_string": "Hazratganj crossing, Lucknow 226001",
    "email": "asha@example.org",
}


def test_services_list_the_taxonomy_in_json_and_xml(client: TestClient) -> None:
    services = client.get("/open311/v2/services.json").json()
    theft = next(s for s in services if s["service_code"] == "theft")
    assert theft["type"] == "realtime" and theft["metadata"] is False and "police" in theft["group"]
    xml = ET.fromstring(client.get("/open311/v2/services.xml").content)
    assert xml.tag == "services" and xml.find("service/service_code") is not None


def test_a_posted_request_is_routed_and_readable_by_id(
    client: TestClient, api_key: str, org_engine: Engine
) -> None:
    answer = client.post("/open311/v2/requests.json", data={**THEFT, "api_key": api_key})
    assert answer.status_code == 201, answer.text
    ref = answer.json()[0]["service_request_id"]
    with org_engine.connect() as conn:
        unit, category = conn.execute(
            select(t.units.c.code, t.tickets.c.category)
            .join(t.units, t.units.c.id == t.tickets.c.unit_id)
            .where(t.tickets.c.ref == ref)
        ).one()
    assert unit == "UPP-LUCKNOW" and category == "theft"
    request = client.get(f"/open311/v2/requests/{ref}.json").json()[0]
    assert request["service_request_id"] == ref and request["status"] == "open"
    assert request["service_code"] == "theft" and request["agency_responsible"]
    assert "asha@example.org" not in str(request)  # no personal data in the public view
    xml = ET.fromstring(client.get(f"/open311/v2/requests/{ref}.xml").content)
    assert xml.findtext("request/service_request_id") == ref
    listed = client.get(
        "/open311/v2/requests.json", params={"service_code": "theft", "status": "open"}
    )
    assert [r["service_request_id"] for r in listed.json()] == [ref]


def test_a_retried_post_files_one_request(
    client: TestClient, api_key: str, org_engine: Engine
) -> None:
    first = client.post("/open311/v2/requests.json", data={**THEFT, "api_key": api_key}).json()
    again = client.post("/open311/v2/requests.json", data={**THEFT, "api_key": api_key}).json()
    assert first[0]["service_request_id"] == again[0]["service_request_id"]
    with org_engine.connect() as conn:
        assert len(conn.execute(select(t.tickets.c.id)).all()) == 1


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ({"api_key": None}, 403, "api_key is required"),
        ({"api_key": "seva_not-a-key"}, 403, "api_key is not valid"),
        ({"service_code": None}, 400, "service_code is required"),
        ({"service_code": "potholes"}, 404, "not found"),
        ({"address_string": None}, 400, "a location is required"),
        ({"address_string": None, "lat": "26.85"}, 400, "lat and long go together"),
        ({"lat": "126.85", "long": "80.9"}, 400, "lat is out of range"),
        ({"description": None}, 400, "a description or a media_url is required"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url must be an http or https URL"),
    ],
)
def test_bad_requests_get_the_specs_error_shape(
    client: TestClient, api_key: str, change: dict, status: int, reason: str
) -> None:
    form = {**THEFT, "api_key": api_key, **change}
    form = {k: v for k, v in form.items() if v is not None}
    answer = client.post("/open311/v2/requests.json", data=form)
    assert answer.status_code == status
    assert reason in answer.json()[0]["description"] and answer.json()[0]["code"] == status
    xml = client.post("/open311/v2/requests.xml", data=form)
    assert ET.fromstring(xml.content).findtext("error/code") == str(status)


def test_an_unknown_request_id_is_a_404(client: TestClient) -> None:
    answer = client.get("/open311/v2/requests/RLY-999999.json")
    assert answer.status_code == 404 and "no service request" in answer.json()[0]["description"]
