"""The desk's doors: the language switch goes back only to this site, and the sign-in form
takes posts only from itself (login CSRF)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from sevadesk.config import Settings
from sevadesk.web.app import create_app
from tests.web.signin import login_csrf, post_login

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def client(org_engine: Engine, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, org_engine)) as c:
        yield c


# The language switch -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers, params",
    [
        ({"referer": "https://evil.example/phish"}, {}),
        ({}, {"next": "https://evil.example/phish"}),
        ({}, {"next": "//evil.example/phish"}),
        ({}, {"next": "/\\evil.example/phish"}),
        ({"referer": "http://testserver.evil.example/desk"}, {}),
    ],
)
def test_the_language_switch_never_redirects_off_the_site(
    client: TestClient, headers: dict[str, str], params: dict[str, str]
) -> None:
    answer = client.get("/desk/lang/hi", headers=headers, params=params, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/desk"


def test_the_language_switch_goes_back_to_the_page_it_was_asked_from(client: TestClient) -> None:
    answer = client.get(
        "/desk/lang/hi",
        headers={"referer": "http://testserver/desk/reports?days=7"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/desk/reports?days=7"
    answer = client.get("/desk/lang/en", params={"next": "/public"}, follow_redirects=False)
    assert answer.headers["location"] == "/public"


# Login CSRF ----------------------------------------------------------------------------------


def test_a_sign_in_posted_from_another_site_is_refused(client: TestClient) -> None:
    # A foreign page can post the form but can neither read the pre-session token nor set it.
    answer = client.post(
        "/desk/login",
        data={"username": "admin", "password": "admin-password"},
        headers={"origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert answer.status_code == 403 and "seva_session" not in answer.cookies
    answer = client.post(
        "/desk/login",
        data={"username": "admin", "password": "admin-password", "csrf": login_csrf(client)},
        headers={"origin": "https://evil.example", "sec-fetch-site": "cross-site"},
        follow_redirects=False,
    )
    assert answer.status_code == 403 and "seva_session" not in answer.cookies


def test_a_sign_in_without_the_form_token_is_refused(client: TestClient) -> None:
    login_csrf(client)  # the cookie is set, but the post does not echo it
    answer = client.post(
        "/desk/login",
        data={"username": "admin", "password": "admin-password", "csrf": "guessed"},
        follow_redirects=False,
    )
    assert answer.status_code == 403 and "seva_session" not in answer.cookies


def test_a_sign_in_from_the_desks_own_form_works(client: TestClient) -> None:
    answer = post_login(
        client,
        "admin",
        "admin-password",
        headers={"origin": "http://testserver", "sec-fetch-site": "same-origin"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/desk"
