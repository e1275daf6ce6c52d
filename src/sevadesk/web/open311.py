"""GeoReport v2 under /open311: the discovery document, then services, requests and tokens
under /open311/v2, in JSON or XML by the path's extension. Every refusal under /open311, an
unknown route included, is the spec's error list."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import WithJsonSchema
from sqlalchemy import select
from starlette.exceptions import HTTPException as StarletteHTTPException

from sevadesk.channels.open311.georeport import (
    OTHER,
    GeoReportError,
    discovery,
    request_payload,
    service_definition,
    service_request,
    services,
    to_xml,
    to_xml_document,
    tokens,
)
from sevadesk.store import tables as t
from sevadesk.store.credentials import token_digest
from sevadesk.tickets.queries import public_tickets, ticket_of_message
from sevadesk.web.filing import file_request, taxonomy
from sevadesk.web.malformed import allowed_methods, plain_fields, rfc3339, validation_failed

# A request is a dozen short fields (description up to 4,000 characters): 256 KiB is ample.
MAX_BODY = 256 * 1024
PREFIX = "/open311"
router = APIRouter(prefix=PREFIX, tags=["open311"], max_body_size=MAX_BODY)
# Every answer is in the format the path names: JSON, or XML for `.xml`.
_XML = {"text/xml": {"schema": {"type": "string", "description": "GeoReport v2's XML"}}}
IN_XML_TOO: dict[int | str, dict[str, Any]] = {200: {"content": _XML}}

_OPEN = ["new", "assigned", "in_progress", "awaiting_citizen"]
_CLOSED = ["resolved", "closed", "rejected", "merged"]
# The spec: "the range defaults to most recent 90 days" and "may not span more than 90 days";
# at most 1,000 requests an answer. `page` and `page_size` reach beyond the newest 1,000.
WINDOW = timedelta(days=90)
MAX_PAGE_SIZE = 1000
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
_TOKEN = re.compile(r"^o311-[0-9a-f]{24}$")
# Documented as the two formats; any other is refused with GeoReport's 404 (no such resource).
Format = Annotated[
    str, Path(description="json or xml", json_schema_extra={"enum": ["json", "xml"]})
]


def _format(fmt: str) -> str:
    if fmt not in ("json", "xml"):
        raise GeoReportError(404, "format must be json or xml")
    return fmt


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type=JSON_TYPE)


def _answer(
    fmt: str,
    root: str,
    item: str,
    rows: list[dict[str, Any]],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    if fmt == "xml":
        return Response(to_xml(root, item, rows), status, headers, media_type=XML_TYPE)
    return _json(rows, status, headers)


def _refusal(request: Request, status: int, description: str) -> Response:
    return _refusal_at(request.url.path, status, description)


def _refusal_at(path: str, status: int, description: str) -> Response:
    fmt = "xml" if path.endswith(".xml") else "json"
    rows = [{"code": status, "description": description}]
    return _answer(fmt, "errors", "error", rows, status)


def url_refusal(path: str, status: int, description: str) -> Response:
    """A URL refused before routing: GeoReport's error list under /open311, else the API's."""
    if path.startswith(PREFIX + "/"):
        return _refusal_at(path, status, description)
    return JSONResponse({"detail": description}, status)


def error_response(request: Request, exc: GeoReportError) -> Response:
    return _refusal(request, exc.status, exc.description)


_HTTP_REASONS = {
    404: "no such GeoReport resource: see /open311/discovery.json",
    405: "this method is not allowed here",
}


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no route, wrong method, body too large): the spec's error
    list under /open311, FastAPI's usual answer elsewhere."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        allow = {"Allow": allowed_methods(request.app.router.routes, request.scope)}
        exc = StarletteHTTPException(405, exc.detail, {**(exc.headers or {}), **allow})
    if not request.url.path.startswith(PREFIX + "/") and request.url.path != PREFIX:
        return await http_exception_handler(request, exc)
    description = _HTTP_REASONS.get(exc.status_code) or str(exc.detail)
    response = _refusal(request, exc.status_code, description)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def server_error(request: Request, exc: Exception) -> Response:
    """An unexpected failure: under /open311 still the spec's error list (the details stay
    in the server's log), elsewhere Starlette's plain answer."""
    if not request.url.path.startswith(PREFIX + "/"):
        return PlainTextResponse("Internal Server Error", 500)
    return _refusal(request, 500, "the desk could not answer; try again later")


async def invalid_input(request: Request, exc: Exception) -> Response:
    """A parameter FastAPI could not read: 400 with the parameter named, under /open311."""
    if not request.url.path.startswith(PREFIX + "/"):
        return await validation_failed(request, exc)
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    names = ", ".join(str(e.get("loc", ("", "?"))[-1]) for e in errors) or "a parameter"
    return _refusal(request, 400, f"{names} is not valid")


@router.get("/discovery.{fmt}", responses=IN_XML_TOO)
def get_discovery(request: Request, fmt: Format) -> Response:
    """Service Discovery: where the GeoReport v2 endpoint is and in which formats."""
    settings = request.app.state.settings
    document = discovery(
        str(request.base_url),
        settings.open311_contact,
        "An administrator of the desk issues a key: seva open311 key NAME",
    )
    if _format(fmt) == "xml":
        return Response(to_xml_document("discovery", document), media_type=XML_TYPE)
    return _json(document)


@router.get("/v2/services.{fmt}", responses=IN_XML_TOO)
def get_services(request: Request, fmt: Format) -> Response:
    return _answer(
        _format(fmt), "services", "service", services(taxonomy(request.app.state.engine))
    )


@router.get("/v2/services/{code}.{fmt}", responses=IN_XML_TOO)
def get_service_definition(request: Request, code: str, fmt: Format) -> Response:
    definition = service_definition(taxonomy(request.app.state.engine), code)
    if _format(fmt) == "xml":
        return Response(to_xml_document("service_definition", definition), media_type=XML_TYPE)
    return _json(definition)


@router.post("/v2/requests.{fmt}", status_code=201, responses={201: {"content": _XML}})
async def post_request(request: Request, fmt: Format) -> Response:
    _format(fmt)
    # A key in the query string is checked before a byte of the body is read; one in the body
    # is checked as soon as the (size-limited) body is parsed, before anything else is done.
    key = request.query_params.get("api_key")
    client = await run_in_threadpool(_client, request, key) if key else None
    form = await _fields(request)
    if client is None:
        client = await run_in_threadpool(_client, request, _text(form.get("api_key")))

    def file() -> tuple[str | None, dict[str, Any]]:
        payload = request_payload(
            client,
            form,
            taxonomy(request.app.state.engine),
            received_at=request.app.state.clock.now(),
        )
        return file_request(request, payload, f"open311:{client}"), payload

    ref, payload = await run_in_threadpool(file)  # off the event loop: it writes
    row: dict[str, Any] = {"service_request_id": ref}
    if ref is None:
        # Journaled, but an organisation rule kept it off the desk: the token says so later.
        row = {"token": payload["id"], "service_notice": "received; not opened as a ticket"}
    return _answer(fmt, "service_requests", "request", [row], 201)


async def _fields(request: Request) -> dict[str, Any]:
    """The request's fields, from a JSON object or a form."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            form = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise GeoReportError(400, f"body is not JSON: {exc}") from exc
        if not isinstance(form, dict):
            raise GeoReportError(400, "body must be an object of GeoReport fields")
    else:
        form = dict(await request.form())
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if problem := plain_fields(fields):
        raise GeoReportError(400, problem)
    return form


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _client(request: Request, api_key: str) -> str:
    # The spec answers 403 for a missing key as for a wrong one: "API key is invalid".
    if not api_key:
        raise GeoReportError(403, "api_key is required (in the query string or the body)")
    c = t.open311_clients.c
    with request.app.state.engine.connect() as conn:
        name = conn.execute(
            select(c.name).where(c.key_digest == token_digest(api_key), c.revoked_at.is_(None))
        ).scalar()
    if name is None:
        raise GeoReportError(403, "api_key is not valid")
    return str(name)


def _date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    parsed = rfc3339(value)
    if parsed is None:
        raise GeoReportError(400, f"{name} is not a w3 date-time with a time zone")
    return parsed


def _window(
    now: datetime, start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime | None]:
    """The requested_datetime range: the newest 90 days unless told; never more than 90.
    (Without dates there is no upper bound: nothing is filed after now.)"""
    if start is None and end is None:
        return now - WINDOW, None
    if start is None:
        assert end is not None
        return end - WINDOW, end
    if end is None:
        return start, start + WINDOW
    if end < start:
        raise GeoReportError(400, "end_date is before start_date")
    if end - start > WINDOW:
        raise GeoReportError(400, "start_date and end_date may not span more than 90 days")
    return start, end


def _whole(value: str | None, name: str, default: int, top: int) -> int:
    if value is None or value == "":
        return default
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= top:
        raise GeoReportError(400, f"{name} is a whole number from 1 to {top}")
    return int(value)


def _codes(value: str) -> list[str | None]:
    """`service_code=a,b`: each code; the catch-all service stands for no category."""
    return [None if c == OTHER else c for c in (p.strip() for p in value.split(",")) if c]


# The filters as the schema documents them: each may also be sent empty, meaning "not given".
_EMPTY = {"const": ""}
Moment = Annotated[
    str | None,
    Query(description="A w3 date-time (RFC 3339) with a time zone"),
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date-time"}, _EMPTY]}),
]
Statuses = Annotated[
    str | None,
    Query(description="open and/or closed, comma-separated"),
    WithJsonSchema({"type": "string", "pattern": "^( *(open|closed) *(, *(open|closed) *)*)?$"}),
]
# Whole numbers from 1 (leading zeros read as written), as patterns: a JSON Schema integer
# would let 15.0 through, which no GeoReport client sends.
PageSize = Annotated[
    str | None,
    Query(description="How many per page: 1 to 1000 (the default)"),
    WithJsonSchema({"type": "string", "pattern": "^(0*(1000|[1-9][0-9]{0,2}))?$"}),
]
Page = Annotated[
    str | None,
    Query(description="Which page, from 1"),
    WithJsonSchema({"type": "string", "pattern": "^(0*(1000000|[1-9][0-9]{0,5}))?$"}),
]


@router.get("/v2/requests.{fmt}", responses=IN_XML_TOO)
def get_requests(
    request: Request,
    fmt: Format,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: Moment = None,
    end_date: Moment = None,
    status: Statuses = None,
    page: Page = None,
    page_size: PageSize = None,
) -> Response:
    """Service requests, newest first. `service_request_id=a,b` overrides every other
    filter; otherwise the newest 90 days (or `start_date`/`end_date`, at most 90 days apart),
    `page_size` (at most 1,000, the default) a page, `page` from 1 (extensions to the spec).
    Every filter is checked, an overridden one too: a malformed one is a 400 either way."""
    _format(fmt)
    size = _whole(page_size, "page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    number = _whole(page, "page", 1, 1_000_000)
    start, end = _date(start_date, "start_date"), _date(end_date, "end_date")
    wanted = {s.strip(" ") for s in status.split(",")} if status else set()
    if not wanted <= {"open", "closed"}:
        raise GeoReportError(400, "status is open and/or closed")
    query: dict[str, Any] = {"limit": size, "offset": (number - 1) * size, "notes": True}
    if service_request_id:
        refs = [r.strip() for r in service_request_id.split(",") if r.strip()]
        if len(refs) > MAX_PAGE_SIZE:
            raise GeoReportError(400, f"at most {MAX_PAGE_SIZE} service_request_id at once")
        query["refs"] = refs
    else:
        if wanted:
            query["statuses"] = (_OPEN if "open" in wanted else []) + (
                _CLOSED if "closed" in wanted else []
            )
        if service_code:
            query["categories"] = _codes(service_code)
        start, end = _window(request.app.state.clock.now(), start, end)
        query.update(start=start, end=end)
    with request.app.state.engine.connect() as conn:
        rows = public_tickets(conn, **query)
    headers = {}
    if len(rows) == size and not service_request_id:
        following = request.url.include_query_params(page=number + 1, page_size=size)
        headers["Link"] = f'<{following}>; rel="next"'
    return _answer(
        fmt, "service_requests", "request", [service_request(r) for r in rows], 200, headers
    )


@router.get("/v2/requests/{request_id}.{fmt}", responses=IN_XML_TOO)
def get_request(request: Request, request_id: str, fmt: Format) -> Response:
    _format(fmt)
    with request.app.state.engine.connect() as conn:
        rows = public_tickets(conn, refs=[request_id], limit=1, notes=True)
    if not rows:
        raise GeoReportError(404, f"no service request {request_id}")
    return _answer(fmt, "service_requests", "request", [service_request(rows[0])])


@router.get("/v2/tokens/{token}.{fmt}", responses=IN_XML_TOO)
def get_token(request: Request, token: str, fmt: Format) -> Response:
    """The service request a POST's token stands for; null when none was opened."""
    _format(fmt)
    if not _TOKEN.match(token):
        raise GeoReportError(404, f"no request with token {token[:40]}")
    m = t.messages.c
    with request.app.state.engine.connect() as conn:
        known = conn.execute(
            select(m.id).where(m.channel == "open311", m.external_id == token)
        ).first()
        if known is None:
            raise GeoReportError(404, f"no request with token {token}")
        ref = ticket_of_message(conn, "open311", token)
    return _answer(fmt, "service_requests", "request", tokens(token, ref))
