"""Input that no handler can store, refused at the edge with a 4xx and a reason.

PostgreSQL refuses a NUL character in text, and neither database can store a lone surrogate
(half of a UTF-16 pair, which JSON's \\udXXX escapes can carry): either would fail deep in a
transaction as a 500. A URL with a NUL is refused by the middleware here; request bodies by
`TextBody` (the API's models), `plain_fields` (forms) and the validation-error handler, which
answers 422 without echoing the input back (it may be a password, or not encodable at all).
The published OpenAPI says so (`document_plain_text`), so that a client, or a fuzzer, knows
such a text is refused before sending it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, field_validator
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# The NUL half of that rule as a JSON Schema pattern. (A lone surrogate is no Unicode text at
# all, so a schema validator's regex cannot name one: Rust's, for one, refuses the range.)
PLAIN_TEXT = "^[^\\u0000]*$"


# RFC 3339's date-time, what an OpenAPI `format: date-time` means. (Python's fromisoformat
# reads more: a space for the T, no seconds, the basic format; a schema promises none of them.)
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


def rfc3339(value: str) -> datetime | None:
    """The moment an RFC 3339 date-time names, or None for anything else (a day that does
    not exist, a leap second, which Python cannot hold, or no date-time at all)."""
    if not _RFC3339.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return None


def unstorable(value: str) -> str | None:
    """What makes `value` impossible to store, or None."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    return "a NUL character" if found.group() == "\x00" else "a lone surrogate (broken UTF-16)"


def _check(value: Any) -> Any:
    if isinstance(value, str) and (problem := unstorable(value)):
        raise ValueError(f"text may not contain {problem}")
    if isinstance(value, list | tuple | set):
        for item in value:
            _check(item)
    if isinstance(value, dict):
        for key, item in value.items():
            _check(key)
            _check(item)
    return value


class TextBody(BaseModel):
    """A request body whose every text is storable (else 422, naming the field)."""

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return _check(value)


def plain_fields(form: dict[str, str]) -> str | None:
    """The first problem with a form's fields, or None when every field is storable."""
    for name, value in form.items():
        problem = unstorable(name) or unstorable(value)
        if problem:
            return f"the field {name[:40]!r} contains {problem}"
    return None


async def validation_failed(_request: Request, exc: Exception) -> Response:
    """422 with each problem's place, message and type; the input is not echoed."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [
        {
            "loc": [str(part) for part in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]
    # ensure_ascii: a message quoting a lone surrogate still encodes.
    body = json.dumps({"detail": detail}, ensure_ascii=True)
    return Response(body, status_code=422, media_type="application/json")


def _json_refusal(_path: str, status: int, reason: str) -> Response:
    return JSONResponse({"detail": reason}, status)


class RefuseNulInUrl:
    """400 for a path or query string with a NUL byte (%00): no route takes one.

    `answer` shapes the refusal for the path (Open311 answers GeoReport's error list)."""

    def __init__(
        self, app: ASGIApp, answer: Callable[[str, int, str], Response] = _json_refusal
    ) -> None:
        self.app = app
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope["path"]
            or b"%00" in scope.get("query_string", b"")
            or b"\x00" in scope.get("query_string", b"")
        ):
            response = self.answer(scope["path"], 400, "the URL contains a NUL character")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def allowed_methods(routes: list[BaseRoute], scope: Scope) -> str:
    """Every method some route takes at this path, for a 405's Allow header. (Starlette names
    only the first route that matches the path: GET for a path whose POST is another route.)"""
    methods: set[str] = set()
    for route in _flat(routes):
        match, _ = route.matches({**scope, "method": ""})
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods - {"HEAD"}))


def _flat(routes: list[BaseRoute]) -> Iterator[Any]:
    for route in routes:
        if hasattr(route, "effective_route_contexts"):  # an included router (FastAPI >= 0.16x)
            yield from route.effective_route_contexts()
        else:
            yield route


def publish_plain_text(app: FastAPI) -> None:
    """The app's OpenAPI, built once, with `document_plain_text` applied."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_plain_text(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document_plain_text(openapi: dict[str, Any]) -> dict[str, Any]:
    """Say in the OpenAPI what `TextBody` and `RefuseNulInUrl` enforce: every free text the
    API reads (parameters, and the fields of request bodies) is refused with a NUL character.
    Texts with a pattern, a format or a list of values are left alone."""
    components = openapi.get("components", {}).get("schemas", {})
    bodies: set[str] = set()
    for operation in _operations(openapi):
        for parameter in operation.get("parameters", []):
            _plain(parameter.get("schema", {}))
        pending = list(_refs(operation.get("requestBody", {})))
        while pending:  # the body's model, and the models its fields hold
            named = pending.pop()
            if named not in bodies:
                bodies.add(named)
                pending.extend(_refs(components.get(named, {})))
    for named in bodies:
        for field in components.get(named, {}).get("properties", {}).values():
            _plain(field)
    return openapi


def _operations(openapi: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for item in openapi.get("paths", {}).values():
        yield from (op for method, op in item.items() if method != "parameters")


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            yield ref.rsplit("/", 1)[1]
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def _plain(schema: dict[str, Any]) -> None:
    for choice in schema.get("anyOf", []):  # an optional text: anyOf string, null
        _plain(choice)
    if schema.get("type") == "string" and not {"pattern", "format", "enum", "const"} & set(schema):
        schema["pattern"] = PLAIN_TEXT
