"""The complaint form (with its CSRF token) and the public status page."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from sevadesk.config import Settings
from sevadesk.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def client(org_engine: Engine, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, org_engine)) as c:
        yield c


def _csrf(client: TestClient) -> str:
    page = client.get("/complaint")
    assert page.status_code == 200
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match
    return match.group(1)


def test_a_filed_complaint_gets_a_status_page_with_personal_data_masked(client: TestClient) -> None:
    token = _csrf(client)
    answer = client.post(
        "/complaint",
        data={
            "csrf": token,
            "category": "theft",
            "description": "Purse stolen at Charbagh, call me on 9876543210",
            "address": "Charbagh",
            "pin": "226004",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    status = client.get(answer.headers["location"])
    assert status.status_code == 200 and "Purse stolen at Charbagh" in status.text
    assert "9876543210" not in status.text and "new" in status.text


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
    assert answer.status_code == 400 and "description is required" in answer.text


def test_an_unknown_reference_is_a_404_page(client: TestClient) -> None:
    answer = client.get("/status/UPP-424242")
    assert answer.status_code == 404 and "No complaint UPP-424242" in answer.text
