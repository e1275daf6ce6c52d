"""GeoReport v2 endpoints under /open311/v2, in JSON or XML by the path's extension."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from sevadesk.channels.open311.georeport import (
    GeoReportError,
    request_payload,
    service_request,
    services,
    to_xml,
)
from sevadesk.store import tables as t
from sevadesk.store.credentials import token_digest
from sevadesk.tickets.queries import public_tickets
from sevadesk.web.filing import file_request, taxonomy
from sevadesk.web.malformed import plain_fields

# A request is a dozen short fields (description up to 4,000 characters): 256 KiB is ample.
MAX_BODY = 256 * 1024
router = APIRouter(prefix="/open311/v2", tags=["open311"], max_body_size=MAX_BODY)

_OPEN = ["new", "assigned", "in_progress", "awaiting_citizen"]
_CLOSED = ["resolved", "closed", "rejected", "merged"]


def _format(fmt: str) -> str:
    if fmt not in ("json", "xml"):
        raise GeoReportError(404, "format must be json or xml")
    return fmt


def _answer(
    fmt: str, root: str, item: str, rows: list[dict[str, Any]], status: int = 200
) -> Response:
    if fmt == "xml":
        return Response(to_xml(root, item, rows), status, media_type="text/xml")
    return JSONResponse(rows, status)


def error_response(request: Request, exc: GeoReportError) -> Response:
    fmt = "xml" if request.url.path.endswith(".xml") else "json"
    rows = [{"code": exc.status, "description": exc.description}]
    return _answer(fmt, "errors", "error", rows, exc.status)


@router.get("/services.{fmt}")
def get_services(request: Request, fmt: str) -> Response:
    return _answer(
        _format(fmt), "services", "service", services(taxonomy(request.app.state.engine))
    )


@router.post("/requests.{fmt}")
async def post_request(request: Request, fmt: str) -> Response:
    _format(fmt)
    # A key in the query string is checked before a byte of the body is read; one in the body
    # is checked as soon as the (size-limited) body is parsed, before anything else is done.
    key = request.query_params.get("api_key")
    client = await run_in_threadpool(_client, request, key) if key else None
    form = await _fields(request)
    if client is None:
        client = await run_in_threadpool(_client, request, _text(form.get("api_key")))

    def file() -> tuple[str | None, dict[str, Any]]:
        payload = request_payload(client, form, taxonomy(request.app.state.engine))
        return file_request(request, payload, f"open311:{client}"), payload

    ref, payload = await run_in_threadpool(file)  # off the event loop: it writes
    row: dict[str, Any] = {"service_request_id": ref, "service_notice": None, "account_id": None}
    if ref is None:
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
    if not api_key:
        raise GeoReportError(400, "api_key is required")
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
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise GeoReportError(400, f"{name} is not a w3 date-time") from exc
    if parsed.tzinfo is None:
        raise GeoReportError(400, f"{name} needs a time zone")
    return parsed


@router.get("/requests.{fmt}")
def get_requests(
    request: Request,
    fmt: str,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> Response:
    _format(fmt)
    statuses: list[str] | None = None
    if status:
        wanted = {s.strip() for s in status.split(",")}
        if not wanted <= {"open", "closed"}:
            raise GeoReportError(400, "status is open and/or closed")
        statuses = (_OPEN if "open" in wanted else []) + (_CLOSED if "closed" in wanted else [])
    refs = [r.strip() for r in service_request_id.split(",")] if service_request_id else None
    with request.app.state.engine.connect() as conn:
        rows = public_tickets(
            conn,
            refs=refs,
            category=service_code,
            start=_date(start_date, "start_date"),
            end=_date(end_date, "end_date"),
            statuses=statuses,
            limit=1000,
        )
    return _answer(fmt, "service_requests", "request", [service_request(r) for r in rows])


@router.get("/requests/{request_id}.{fmt}")
def get_request(request: Request, request_id: str, fmt: str) -> Response:
    _format(fmt)
    with request.app.state.engine.connect() as conn:
        rows = public_tickets(conn, refs=[request_id], limit=1)
    if not rows:
        raise GeoReportError(404, f"no service request {request_id}")
    return _answer(fmt, "service_requests", "request", [service_request(rows[0])])
