"""Signing in to the desk as a browser does: read the form (and its pre-session CSRF token),
then post it back with the credentials."""

from __future__ import annotations

import re
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def login_csrf(client: TestClient) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get("/desk/login").text)
    assert match, "the sign-in form carries a CSRF token"
    return match.group(1)


def post_login(client: TestClient, username: str, password: str, **kwargs: object):  # type: ignore[no-untyped-def]
    data = {"username": username, "password": password, "csrf": login_csrf(client)}
    return client.post("/desk/login", data=data, **kwargs)  # type: ignore[arg-type]


def sign_in(client: TestClient, username: str, password: str) -> str:
    """Signs in and returns the session's CSRF token, which every desk form echoes."""
    answer = post_login(client, username, password, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/desk", answer.text
    match = re.search(r'name="csrf" value="([^"]+)"', client.get("/desk").text)
    assert match
    return match.group(1)
