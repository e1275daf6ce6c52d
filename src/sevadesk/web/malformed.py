"""Input that no handler can store, refused at the edge with a 4xx and a reason.

PostgreSQL refuses a NUL character in text, and neither database can store a lone surrogate
(half of a UTF-16 pair, which JSON's \\udXXX escapes can carry): either would fail deep in a
transaction as a 500. A URL with a NUL is refused by the middleware here; request bodies by
`TextBody` (the API's models), `plain_fields` (forms) and the validation-error handler, which
answers 422 without echoing the input back (it may be a password, or not encodable at all).
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, field_validator
from starlette.types import ASGIApp, Receive, Scope, Send

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


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


class RefuseNulInUrl:
    """400 for a path or query string with a NUL byte (%00): no route takes one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope["path"]
            or b"%00" in scope.get("query_string", b"")
            or b"\x00" in scope.get("query_string", b"")
        ):
            response = JSONResponse({"detail": "the URL contains a NUL character"}, 400)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
