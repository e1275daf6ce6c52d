"""Each kind of malformed input the probe found answering 500 is a 4xx with a reason now."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select

from sevadesk.config import Settings
from sevadesk.domain.clock import FrozenClock
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from sevadesk.store.clients_repo import issue_open311_key
from sevadesk.store.users_repo import issue_token
from sevadesk.web.app import create_app
from tests.factories import lines, tweet
from tests.web.signin import sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def client(
    pipeline: Pipeline, org_engine: Engine, settings: Settings, clock: FrozenClock
) -> Iterator[TestClient]:
    pipeline.ingest("x", "t", lines(tweet("@RailMinIndia no water in coach B4 of 12951")))
    with TestClient(create_app(settings, org_engine, clock), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def api(org_engine: Engine) -> dict[str, str]:
    with org_engine.begin() as conn:
        return {"Authorization": f"Bearer {issue_token(conn, 'admin', 'test')}"}


@pytest.fixture
def ref(org_engine: Engine, client: TestClient) -> str:
    with org_engine.connect() as conn:
        return str(conn.execute(select(t.tickets.c.ref)).scalar_one())


def outbox_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.outbox)).scalar_one())


@pytest.mark.parametrize("path", ["/desk/t/a%00b", "/api/v1/tickets/a%00b", "/status/a%00b"])
def test_a_nul_byte_in_the_url_is_400(client: TestClient, api: dict[str, str], path: str) -> None:
    sign_in(client, "admin", "admin-password")
    answer = client.get(path, headers=api)
    assert answer.status_code == 400 and "NUL" in answer.json()["detail"]
    assert client.get("/api/v1/tickets?category=a%00", headers=api).status_code == 400


def test_a_nul_byte_in_an_open311_url_is_georeports_own_error(client: TestClient) -> None:
    answer = client.get("/open311/v2/requests.json?service_code=a%00")
    assert answer.status_code == 400
    assert answer.json() == [{"code": 400, "description": "the URL contains a NUL character"}]
    as_xml = client.get("/open311/v2/requests.xml?service_code=a%00")
    assert as_xml.status_code == 400 and as_xml.headers["content-type"].startswith("text/xml")
    assert "<code>400</code>" in as_xml.text


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v1/auth/token", "DELETE, POST"),
        ("DELETE", "/webhooks/x", "GET, POST"),
        ("PATCH", "/open311/v2/requests.json", "GET, POST"),
    ],
)
def test_a_wrong_method_is_told_every_method_the_path_takes(
    client: TestClient, method: str, path: str, allowed: str
) -> None:
    # Starlette named only the first route matching the path (POST for the sign-in token,
    # although DELETE signs out): a client retrying by the Allow header missed the other.
    answer = client.request(method, path)
    assert answer.status_code == 405
    assert answer.headers["allow"] == allowed


def test_since_is_an_rfc_3339_date_time(client: TestClient, api: dict[str, str]) -> None:
    for moment in ("0.5", "2026-11-20", "2026-11-20 09:00:00+00:00", "2026-11-20T09:00:00"):
        answer = client.get("/api/v1/tickets", params={"since": moment}, headers=api)
        assert answer.status_code == 400, moment
        assert "RFC 3339" in answer.json()["detail"]
    for moment in ("2026-11-20T09:00:00Z", "2026-11-20t09:00:00.123456789+05:30"):
        answer = client.get("/api/v1/tickets", params={"since": moment}, headers=api)
        assert answer.status_code == 200, moment


@pytest.mark.parametrize("text", ['"a\\u0000b"', '"\\ud800"', '"x\\udfff"'])
def test_text_that_cannot_be_stored_is_refused_422(
    client: TestClient, api: dict[str, str], ref: str, org_engine: Engine, text: str
) -> None:
    raw = '{"body": ' + text + ', "idempotency_key": "k1"}'
    answer = client.post(
        f"/api/v1/tickets/{ref}/replies",
        content=raw,
        headers={**api, "content-type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", "body"]
    assert outbox_count(org_engine) == 0


def test_a_body_that_is_not_utf8_is_refused_422(
    client: TestClient, api: dict[str, str], ref: str
) -> None:
    answer = client.post(
        f"/api/v1/tickets/{ref}/identities",
        content=b"U\xa7\xff!%\x8ee",
        headers={**api, "content-type": "text/plain"},
    )
    assert answer.status_code == 422, answer.text


def test_a_validation_error_does_not_echo_the_password(client: TestClient) -> None:
    answer = client.post(
        "/api/v1/auth/token", json={"username": "x", "password": ["hunter2-secret"]}
    )
    assert answer.status_code == 422 and "hunter2-secret" not in answer.text


@pytest.mark.parametrize("outbox_id", [2**63, -(2**63) - 1, 10**30])
def test_an_id_past_64_bits_is_422(client: TestClient, api: dict[str, str], outbox_id: int) -> None:
    assert client.post(f"/api/v1/outbox/{outbox_id}/retry", headers=api).status_code == 422


@pytest.mark.parametrize("limit", [-1, 0, 10**6])
def test_a_limit_out_of_range_is_422(client: TestClient, api: dict[str, str], limit: int) -> None:
    assert client.get(f"/api/v1/outbox?limit={limit}", headers=api).status_code == 422


def test_open311_answers_bad_json_and_nul_with_400(client: TestClient, org_engine: Engine) -> None:
    with org_engine.begin() as conn:
        key = issue_open311_key(conn, "civic", datetime.now(UTC))
    url = f"/open311/v2/requests.json?api_key={key}"
    broken = client.post(
        url, content=b'{"service_code": ', headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400 and "not JSON" in broken.json()[0]["description"]
    nul = client.post(
        url,
        json={"service_code": "theft", "description": "a\x00b", "address_string": "Lucknow"},
    )
    assert nul.status_code == 400 and "NUL" in nul.json()[0]["description"]


def test_the_complaint_form_refuses_a_forged_non_ascii_token(client: TestClient) -> None:
    client.get("/complaint")  # the CSRF cookie
    answer = client.post("/complaint", data={"csrf": "टोकन", "description": "x"})
    assert answer.status_code == 403


def test_the_complaint_form_refuses_a_nul_with_400(client: TestClient) -> None:
    page = client.get("/complaint").text
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    answer = client.post(
        "/complaint",
        data={
            "csrf": csrf,
            "category": "theft",
            "description": "phone\x00 snatched",
            "pin": "226001",
        },
    )
    assert answer.status_code == 400 and "NUL" in answer.text


def test_a_desk_form_with_text_too_long_for_its_column_says_so(
    client: TestClient, ref: str, org_engine: Engine
) -> None:
    csrf = sign_in(client, "admin", "admin-password")
    # The reply form comes back with the draft (what can be stored of it) and why.
    for fields, says, kept in (
        ({"key": "k" * 300}, "Reload the page and send again", "We are looking into it."),
        ({"body": "thanks\x00 a lot"}, "cannot be stored", "thanks a lot"),
    ):
        answer = client.post(
            f"/desk/t/{ref}/reply",
            data={"csrf": csrf, "body": "We are looking into it.", **fields},
            follow_redirects=False,
        )
        assert answer.status_code == 422 and says in answer.text and kept in answer.text
    assert outbox_count(org_engine) == 0
