"""Every request the X client makes, checked against X's own OpenAPI file (v2.167, in
../shared/data/x-api-payloads/v2_examples): the path and method exist, every query parameter
and every value of a fields/expansions list is one the spec names, and a JSON body's keys are
the request schema's.

The spec renames two things on recent search and the user timelines that the live API and
X's documentation still call by their old names (docs/decisions/0004-x-api-field-names.md):
LIVE_NAMES lists them, and only there, where the spec lacks the live name, is the spec's name
accepted in its place; their values are checked against the spec's vocabulary for the live
name (the filtered stream still has it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from sevadesk.channels.x.client import XClient
from sevadesk.config import get_settings

SPEC = get_settings().data_dir / "x-api-payloads" / "v2_examples" / "x_api_v2_openapi.json"
# The live name → the spec's name for it on the endpoints the spec renamed (see the ADR).
LIVE_NAMES = {"tweet.fields": "post.fields"}
LIVE_VALUES = {("expansions", "referenced_tweets.id"): "referenced_posts"}
LIST_PARAMS = ("tweet.fields", "post.fields", "expansions", "user.fields")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC.is_file():
        pytest.skip(f"{SPEC} not found: the spec sits in ../shared beside the checkout (CI has it)")
    loaded: dict[str, Any] = json.loads(SPEC.read_text(encoding="utf-8"))
    assert loaded["info"]["version"] == "2.167"
    return loaded


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        kind, name = node["$ref"].split("/")[-2:]
        node = spec["components"][kind][name]
    return node


def _operation(spec: dict[str, Any], method: str, path: str) -> tuple[str, dict[str, Any]]:
    for template, item in spec["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return template, item[method.lower()]
    raise AssertionError(f"{method} {path} is not in the X API spec")


def _parameters(spec: dict[str, Any], op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    params = (_resolve(spec, p) for p in op.get("parameters", []))
    return {p["name"]: p for p in params if p.get("in") == "query"}


def _enum(spec: dict[str, Any], param: dict[str, Any]) -> set[str]:
    schema = _resolve(spec, param.get("schema", {}))
    items = _resolve(spec, schema.get("items", {}))
    return set(items.get("enum") or [])


def _vocabulary(spec: dict[str, Any], name: str) -> set[str]:
    """Every value the spec allows for a query parameter called `name`, on any endpoint."""
    values: set[str] = set()
    for item in spec["paths"].values():
        for op in item.values():
            if isinstance(op, dict):
                param = _parameters(spec, op).get(name)
                if param is not None:
                    values |= _enum(spec, param)
    return values


def check_request(spec: dict[str, Any], request: httpx.Request) -> list[str]:
    """What in `request` the spec does not know (empty when it conforms)."""
    problems: list[str] = []
    template, op = _operation(spec, request.method, request.url.path)
    known = _parameters(spec, op)
    for name, value in request.url.params.multi_items():
        spec_name = name if name in known else LIVE_NAMES.get(name)
        if spec_name not in known:
            problems.append(f"{request.method} {template}: query parameter {name!r} unknown")
            continue
        if name not in LIST_PARAMS:
            continue
        allowed = _enum(spec, known[spec_name])
        if spec_name != name:
            allowed = _vocabulary(spec, name)  # the live name's values, where the spec has it
        for item in value.split(","):
            renamed = LIVE_VALUES.get((name, item))
            if item not in allowed and renamed not in allowed:
                problems.append(f"{template}: {name}={item!r} not in the spec")
    if request.content:
        body = json.loads(request.content)
        schema = _resolve(spec, op["requestBody"]["content"]["application/json"]["schema"])
        extra = set(body) - set(schema.get("properties", {}))
        if extra:
            problems.append(f"{template}: body keys {sorted(extra)} not in {schema.get('title')}")
    return problems


def _ok(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.endswith("/search/stream"):
        return httpx.Response(200, content=b'{"data": {"id": "1", "text": "x"}}\r\n')
    if request.method == "POST" and path == "/2/tweets":
        return httpx.Response(201, json={"data": {"id": "2", "text": "x"}})
    if "dm_conversations" in path:
        return httpx.Response(201, json={"data": {"dm_event_id": "3"}})
    return httpx.Response(200, json={"data": []})


def _every_request() -> Iterator[httpx.Request]:
    """Drive every call of the client once (with each optional parameter) and yield what it
    sent."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return _ok(request)

    client = XClient("https://api.x.com", "bearer", "user")
    client._http = httpx.Client(
        base_url="https://api.x.com", transport=httpx.MockTransport(handler)
    )
    client.stream_rules()
    client.change_rules([{"value": "@RailMinIndia", "tag": "RLY"}], ["17"])
    with client.stream(stall_seconds=5, backfill_minutes=2) as lines:
        list(lines)
    client.search_recent("@RailMinIndia", start_time=datetime(2026, 12, 7, tzinfo=UTC))
    client.search_recent("@RailMinIndia", since_id="1999", next_token="abc")
    client.me()
    client.user_tweets("1001", since_id="1999")
    client.post_tweet("We are on it.", in_reply_to="1999")
    client.send_dm("1001", "Your reference is RLY-000001")
    client.close()
    yield from sent


def test_every_request_the_x_client_makes_is_in_the_spec(spec: dict[str, Any]) -> None:
    requests = list(_every_request())
    assert len(requests) == 10
    problems = [p for r in requests for p in check_request(spec, r)]
    assert problems == []


def test_the_reads_keep_the_live_names_the_spec_renamed(spec: dict[str, Any]) -> None:
    """The decision in ADR 0004: the client sends tweet.fields and referenced_tweets.id on
    every read, the names the live API takes, even where the spec says post.fields."""
    reads = [r for r in _every_request() if r.method == "GET" and "tweet.fields" in r.url.params]
    assert {r.url.path for r in reads} == {
        "/2/tweets/search/stream",
        "/2/tweets/search/recent",
        "/2/users/1001/tweets",
    }
    for r in reads:
        assert "post.fields" not in r.url.params
        assert "referenced_tweets.id" in r.url.params["expansions"].split(",")


def test_the_contract_check_catches_what_the_spec_does_not_name(spec: dict[str, Any]) -> None:
    bad = httpx.Request(
        "GET",
        "https://api.x.com/2/tweets/search/recent",
        params={"query": "x", "tweet.fields": "created_at,colour", "maxresults": "5"},
    )
    problems = check_request(spec, bad)
    assert any("'maxresults'" in p for p in problems)
    assert any("'colour'" in p for p in problems)
    with pytest.raises(AssertionError, match="not in the X API spec"):
        check_request(spec, httpx.Request("GET", "https://api.x.com/2/tweets/search/everything"))
    body = httpx.Request(
        "POST", "https://api.x.com/2/tweets", json={"text": "x", "in_reply_to": "1"}
    )
    assert any("in_reply_to" in p for p in check_request(spec, body))


def test_the_spec_path_is_beside_the_checkout() -> None:
    shared = Path(__file__).resolve().parents[3] / "shared" / "data"
    if shared.is_dir():
        assert SPEC.is_file()
