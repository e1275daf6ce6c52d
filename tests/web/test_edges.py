"""The web edge: security headers on every answer, bodies refused while they stream in, and
webhooks only in JSON; Open311 checks its key before it reads a body."""

from __future__ import annotations

import asyncio
import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine

from sevadesk.channels.signatures import meta_signature
from sevadesk.config import Settings
from sevadesk.store import tables as t
from sevadesk.store.clients_repo import issue_open311_key
from sevadesk.web.app import create_app
from tests.channels.conftest import count

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SECRET = "app-secret-2026"


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"whatsapp_app_secrets": SECRET})


@pytest.fixture
def client(org_engine: Engine, app_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings, org_engine)) as c:
        yield c


# Security headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/desk/login", "/complaint", "/public", "/healthz", "/api/v1/me", "/nowhere"]
)
def test_every_answer_carries_the_security_headers(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in headers  # plain HTTP: HSTS would be ignored


def test_hsts_is_sent_when_the_desk_is_served_over_https(
    org_engine: Engine, app_settings: Settings
) -> None:
    with TestClient(create_app(app_settings, org_engine), base_url="https://desk.example") as c:
        assert c.get("/desk/login").headers["strict-transport-security"].startswith("max-age=")


def test_no_page_runs_inline_script(client: TestClient) -> None:
    # The policy forbids inline scripts, so none may be left in a page (they would not run).
    for path in ("/", "/desk/login", "/complaint", "/public"):
        page = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), path
        assert not re.search(r"\son[a-z]+=", page), path


# Webhooks take JSON only ---------------------------------------------------------------------


def _signed(body: bytes) -> dict[str, str]:
    return {"x-hub-signature-256": meta_signature(SECRET, body)}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_a_signed_webhook_that_is_not_json_is_refused_415(
    client: TestClient, org_engine: Engine, content_type: str
) -> None:
    body = orjson.dumps({"object": "whatsapp_business_account", "entry": []})
    headers = {**_signed(body), "content-type": content_type}
    answer = client.post("/webhooks/whatsapp", content=body, headers=headers)
    assert answer.status_code == 415 and "application/json" in answer.json()["detail"]
    assert count(org_engine, t.journal) == 0


def test_a_signed_json_webhook_is_taken(client: TestClient) -> None:
    body = orjson.dumps({"object": "whatsapp_business_account", "entry": []})
    headers = {**_signed(body), "content-type": "application/json; charset=utf-8"}
    assert client.post("/webhooks/whatsapp", content=body, headers=headers).status_code == 200


# Bodies are limited while they stream in ------------------------------------------------------


class Upload:
    """An ASGI request fed in 1 MiB chunks, counting how many the application asked for."""

    def __init__(self, chunks: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.chunks, self.headers, self.read = chunks, headers, 0
        self.status: int | None = None

    async def receive(self) -> dict[str, Any]:
        self.read += 1
        if self.read > self.chunks:
            return {"type": "http.disconnect"}
        return {
            "type": "http.request",
            "body": b"x" * (1 << 20),
            "more_body": self.read < self.chunks,
        }

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]

    def scope(self, path: str, query: bytes = b"") -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query,
            "root_path": "",
            "headers": [(b"host", b"testserver"), *self.headers],
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
        }


def _post(app: Any, upload: Upload, path: str, query: bytes = b"") -> None:
    asyncio.run(app(upload.scope(path, query), upload.receive, upload.send))


@pytest.mark.parametrize("path", ["/webhooks/whatsapp", "/open311/v2/requests.json", "/complaint"])
def test_a_body_announced_too_large_is_refused_before_it_is_read(
    org_engine: Engine, app_settings: Settings, path: str
) -> None:
    app = create_app(app_settings, org_engine)
    upload = Upload(
        256, [(b"content-type", b"application/json"), (b"content-length", b"268435456")]
    )
    _post(app, upload, path)
    assert upload.status == 413 and upload.read <= 1


@pytest.mark.parametrize(
    "path, allowed_mib",
    [("/webhooks/whatsapp", 3), ("/open311/v2/requests.json", 1), ("/api/v1/auth/token", 1)],
)
def test_a_streamed_body_is_cut_off_at_the_limit(
    org_engine: Engine, app_settings: Settings, path: str, allowed_mib: int
) -> None:
    # No Content-Length (chunked): the limit is counted as the chunks arrive.
    app = create_app(app_settings, org_engine)
    upload = Upload(256, [(b"content-type", b"application/json")])
    _post(app, upload, path)
    assert upload.status == 413 and upload.read <= allowed_mib + 1


def test_open311_checks_the_api_key_before_it_reads_the_body(
    org_engine: Engine, app_settings: Settings
) -> None:
    app = create_app(app_settings, org_engine)
    upload = Upload(1, [(b"content-type", b"application/json")])
    _post(app, upload, "/open311/v2/requests.json", b"api_key=not-a-key")
    assert upload.status == 403 and upload.read == 0


def test_open311_takes_the_api_key_from_the_query_string(
    client: TestClient, org_engine: Engine
) -> None:
    with org_engine.begin() as conn:
        key = issue_open311_key(conn, "civic-app", datetime.now(UTC))
    answer = client.post(
        f"/open311/v2/requests.json?api_key={key}",
        json={
            "service_code": "theft",
            "description": "My phone was snatched near Hazratganj, Lucknow 226001",
            "address_string": "Hazratganj, Lucknow 226001",
        },
    )
    assert answer.status_code == 201, answer.text
