"""Malformed input never answers 5xx: hypothesis sends every route of the app (webhooks
signed, so their bodies are read; the API and the desk signed in; Open311 with a key) odd
paths, query strings and bodies: NUL bytes, lone surrogates, numbers past 64 bits, bytes that
are not UTF-8, JSON of any shape, wrong content types. Each must be a 4xx with a reason."""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from sevadesk.channels.signatures import meta_signature, x_signature
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

WA_SECRET, X_SECRET = "wa-app-secret", "x-consumer-secret"
# Streams that never end, and pages that are not the app's own.
SKIP = {
    "/desk/events",
    "/api/docs",
    "/api/redoc",
    "/docs/oauth2-redirect",
    "/api/v1/openapi.json",
}
MAX_EXAMPLES = int(os.environ.get("SEVA_FUZZ_EXAMPLES", "400"))  # per database
REPORT = os.environ.get("SEVA_FUZZ_REPORT")  # a file: note the 5xx instead of failing


@dataclass
class Desk:
    client: TestClient
    api: dict[str, str]
    csrf: str
    open311_key: str
    refs: list[str]
    routes: list[tuple[str, str]] = field(default_factory=list)


def app_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every route, those of included routers too."""
    found: set[tuple[str, str]] = set()
    pending = list(app.routes)
    while pending:
        route = pending.pop()
        if hasattr(route, "effective_route_contexts"):  # an included router (FastAPI ≥ 0.16x)
            pending.extend(route.effective_route_contexts())
            continue
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if path is None or not methods or path in SKIP:
            continue
        found |= {(method, path) for method in methods - {"HEAD"}}
    return sorted(found)


# Values ------------------------------------------------------------------------------------

odd_text = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=40),
    st.sampled_from(["\x00", "a\x00b", "\ud800", "x" * 5000, "९८७६५४३२१०", "-1", "0.5", "", " "]),
)
big_numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**63, 2**63 - 1, -(2**63) - 1, 2**31, -1, 0, 10**30]),
)
json_values = st.recursive(
    st.none() | st.booleans() | big_numbers | st.floats(allow_nan=False) | odd_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(odd_text, inner, max_size=4),
    max_leaves=12,
)
FIELD_NAMES = [
    "body",
    "idempotency_key",
    "private_body",
    "status",
    "note",
    "category",
    "username",
    "password",
    "position",
    "unit",
    "reason",
    "channel",
    "external_user_id",
    "service_code",
    "description",
    "address_string",
    "lat",
    "long",
    "email",
    "phone",
    "name",
    "pin",
    "text",
    "key",
    "scope",
    "token",
    "target",
    "object",
    "entry",
    "for_user_id",
    "tweet_create_events",
]
QUERY_NAMES = [
    "limit",
    "since",
    "cursor",
    "status",
    "unit",
    "priority",
    "category",
    "q",
    "queue",
    "sort",
    "fragment",
    "text",
    "ref",
    "days",
    "next",
    "error",
    "service_request_id",
    "start_date",
    "end_date",
    "crc_token",
    "hub.mode",
    "hub.verify_token",
    "hub.challenge",
]
shaped = st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=6)


def segment(refs: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(odd_text, big_numbers.map(str), st.sampled_from(refs or ["UPP-000001"]))


def encode(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


@st.composite
def requests(draw: st.DrawFn, desk: Desk) -> dict[str, Any]:
    method, template = draw(st.sampled_from(desk.routes))
    path = re.sub(r"\{[^}]+\}", lambda _m: encode(draw(segment(desk.refs))) or "x", template)
    query = draw(
        st.dictionaries(
            st.sampled_from(QUERY_NAMES), st.one_of(odd_text, big_numbers.map(str)), max_size=3
        )
    )
    headers: dict[str, str] = {}
    body = b""
    if method in ("POST", "DELETE", "PUT", "PATCH"):
        kind = draw(st.sampled_from(["json-shaped", "json-any", "form", "bytes", "none"]))
        fields: Any = draw(shaped)
        if kind == "json-any":
            fields = draw(json_values)
        if template.startswith("/desk") and isinstance(fields, dict) and draw(st.booleans()):
            fields["csrf"] = desk.csrf
        if template.startswith("/open311") and isinstance(fields, dict) and draw(st.booleans()):
            fields["api_key"] = desk.open311_key
        if kind.startswith("json"):
            # The standard library escapes a lone surrogate as \\udXXX: valid JSON text.
            body = json.dumps(fields).encode()
            headers["content-type"] = "application/json"
        elif kind == "form" and isinstance(fields, dict):
            body = "&".join(
                f"{encode(str(k))}={encode(str(v))}" for k, v in fields.items()
            ).encode()
            headers["content-type"] = "application/x-www-form-urlencoded"
        elif kind == "bytes":
            body = draw(st.binary(max_size=200))
            headers["content-type"] = draw(
                st.sampled_from(
                    ["application/json", "multipart/form-data; boundary=x", "text/plain"]
                )
            )
    if template == "/webhooks/whatsapp":
        headers["x-hub-signature-256"] = meta_signature(WA_SECRET, body)
    if template == "/webhooks/x":
        headers["x-twitter-webhooks-signature"] = x_signature(X_SECRET, body)
    if template.startswith("/api/") and draw(st.booleans()):
        headers.update(desk.api)
    if template.startswith("/open311") and draw(st.booleans()):
        query["api_key"] = desk.open311_key
    qs = "&".join(f"{encode(k)}={encode(v)}" for k, v in query.items())
    return {
        "method": method,
        "url": path + (f"?{qs}" if qs else ""),
        "content": body,
        "headers": headers,
    }


# The desk under test -----------------------------------------------------------------------


@pytest.fixture
def desk(
    pipeline: Pipeline, org_engine: Engine, settings: Settings, clock: FrozenClock
) -> Iterator[Desk]:
    pipeline.ingest(
        "x",
        "fuzz",
        lines(
            tweet("@Uppolice chain snatching near Hazratganj, Lucknow PIN 226001", author_id="1"),
            tweet("@RailMinIndia no water in coach B4 of 12951 PNR 4512345678", author_id="3"),
        ),
    )
    with org_engine.begin() as conn:
        token = issue_token(conn, "admin", "fuzz")
        key = issue_open311_key(conn, "fuzz-app", datetime.now(UTC))
        refs = list(conn.execute(select(t.tickets.c.ref)).scalars())
    live = settings.model_copy(
        update={"whatsapp_app_secrets": WA_SECRET, "x_consumer_secrets": X_SECRET}
    )
    app = create_app(live, org_engine, clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        csrf = sign_in(client, "admin", "admin-password")
        desk = Desk(client, {"Authorization": f"Bearer {token}"}, csrf, key, refs)
        desk.routes = app_routes(app)
        yield desk


def test_the_fuzz_covers_every_kind_of_edge(desk: Desk) -> None:
    paths = {path for _, path in desk.routes}
    for expected in (
        "/webhooks/whatsapp",
        "/webhooks/x",
        "/open311/v2/requests.{fmt}",
        "/complaint",
        "/desk/login",
        "/desk/t/{ref}/{form_name}",
        "/desk/admin/apply",
        "/api/v1/tickets/{ref}/replies",
        "/api/v1/outbox/{outbox_id}/retry",
    ):
        assert expected in paths


def test_no_malformed_request_answers_5xx(desk: Desk) -> None:
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=False,
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        request = data.draw(requests(desk))
        answer = desk.client.request(**request)
        if REPORT:  # exploring: note every 5xx and go on
            if answer.status_code >= 500:
                with open(REPORT, "a", encoding="utf-8") as out:
                    out.write(repr((answer.status_code, request, answer.text[:200])) + "\n")
            return
        assert answer.status_code < 500, (request, answer.status_code, answer.text[:300])

    check()
