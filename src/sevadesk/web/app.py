"""The FastAPI application: API under /api/v1 (docs at /api/docs), /healthz, /metrics and the
staff's live page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import BaseModel
from sqlalchemy import Engine, text
from starlette.exceptions import HTTPException as StarletteHTTPException

from sevadesk import __version__
from sevadesk.channels.open311.georeport import GeoReportError
from sevadesk.config import Settings
from sevadesk.domain.clock import Clock, SystemClock
from sevadesk.domain.errors import IllegalTransition, MissingReason, OutOfScope, UnknownUnit
from sevadesk.service import Workers
from sevadesk.tickets.actions import InvalidRequest, MustTransfer, ReadOnlyRole
from sevadesk.tickets.queries import BadCursor, BadFilter, TicketNotFound
from sevadesk.web import live, open311, public, webhooks
from sevadesk.web.api import account, screened, tickets
from sevadesk.web.deps import Problem, ReadConn
from sevadesk.web.headers import DOCS_ASSETS, SecurityHeaders
from sevadesk.web.ledger_metrics import LedgerCollector
from sevadesk.web.malformed import RefuseNulInUrl, publish_plain_text
from sevadesk.web.ui import (
    admin,
    admin_users,
    desk,
    inbox_work,
    replies,
    reply_templates_admin,
    reports,
)
from sevadesk.web.ui import alerts as alerts_desk
from sevadesk.web.ui import screened as screened_desk
from sevadesk.web.ui import transfers as transfers_desk
from sevadesk.web.ui.session import BadCsrf, LoginRequired

MAX_BODY = 1024 * 1024  # API bodies and desk forms: a reply is at most a few thousand characters
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "ui" / "templates"))

# Domain errors → HTTP status; the message is the reason shown to the caller.
_ERROR_STATUS: dict[type[Exception], int] = {
    TicketNotFound: 404,
    IllegalTransition: 409,
    MissingReason: 422,
    InvalidRequest: 422,
    MustTransfer: 422,
    UnknownUnit: 422,
    BadCursor: 400,
    BadFilter: 400,
    OutOfScope: 403,
    ReadOnlyRole: 403,
}


def _refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The refusals a group of routes may answer, documented once (every one has a reason)."""
    reasons = {
        400: "A malformed request: the reason says what.",
        401: "No valid token (missing, unknown, revoked or expired), or no valid signature.",
        403: "Out of the caller's scope, a read-only role, or a forged signature.",
        404: "No such ticket, incident or entry in the caller's scope.",
        409: "An illegal status change: the allowed ones are listed.",
        413: "The body is larger than this route takes.",
        415: "The body is not application/json.",
        422: "A field is missing or invalid (each is named), or the domain refuses the change.",
        429: "Too many failed sign-ins: Retry-After says when to try again.",
        503: "The channel's secret is not configured.",
    }
    return {code: {"model": Problem, "description": reasons[code]} for code in codes}


class GeoReportProblem(BaseModel):
    """GeoReport v2's error: a list of these, in JSON or XML."""

    code: int
    description: str


API_REFUSALS = _refusals(400, 401, 403, 404, 409, 413, 422)
WEBHOOK_REFUSALS = _refusals(400, 401, 403, 413, 415, 422, 503)
OPEN311_REFUSALS: dict[int | str, dict[str, Any]] = {
    code: {
        "model": list[GeoReportProblem],
        "description": reason,
        "content": {"text/xml": {"schema": {"type": "string"}}},  # for a `.xml` path
    }
    for code, reason in (
        (400, "A malformed request (GeoReport's error list says why)."),
        (403, "The api_key is missing or not valid."),
        (405, "The method is not allowed on this path."),
        (404, "No such service code or service request."),
        (413, "The body is larger than 256 KiB."),
    )
}


def _error_handler(status: int):  # type: ignore[no-untyped-def]
    async def handle(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "error": type(exc).__name__}, status_code=status)

    return handle


def create_app(settings: Settings, engine: Engine, clock: Clock | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        workers = Workers(engine, settings, app.state.clock).start()
        app.state.workers = workers
        yield
        workers.stop()

    # Swagger UI and ReDoc from the package's own copies of their assets (fastapi-offline),
    # not a CDN: the docs open on a desk with no internet, and the CSP names no other host.
    app = FastAPIOffline(
        lifespan=lifespan,
        title="sevadesk",
        version=__version__,
        description="Grievance desk API: tickets from citizens' posts, routed to the right office.",
        docs_url="/api/docs",
        redoc_url="/api/redoc",
        static_url=DOCS_ASSETS,
        openapi_url="/api/v1/openapi.json",
        # Counted as the body streams in (and refused up front when Content-Length says so);
        # webhooks, Open311 and the admin upload set their own limits.
        max_body_size=MAX_BODY,
    )
    app.add_middleware(RefuseNulInUrl, answer=open311.url_refusal)
    app.add_middleware(SecurityHeaders, hsts_seconds=settings.hsts_seconds)
    # Under /open311 both answer GeoReport's error list; elsewhere the usual shapes.
    app.add_exception_handler(RequestValidationError, open311.invalid_input)
    app.add_exception_handler(StarletteHTTPException, open311.http_error)
    app.add_exception_handler(Exception, open311.server_error)
    app.state.engine = engine
    app.state.clock = clock or SystemClock()
    app.state.settings = settings
    for exc_type, status in _ERROR_STATUS.items():
        app.add_exception_handler(exc_type, _error_handler(status))

    api = APIRouter(prefix="/api/v1", responses=API_REFUSALS)
    api.include_router(tickets.router)
    api.include_router(tickets.incidents)
    api.include_router(tickets.transfers)
    api.include_router(account.router)
    api.include_router(screened.router)
    api.include_router(screened.reports)
    app.include_router(api)
    app.include_router(webhooks.router, responses=WEBHOOK_REFUSALS)
    app.include_router(open311.router, responses=OPEN311_REFUSALS)
    app.include_router(public.router)
    app.include_router(transfers_desk.router)  # before desk's /desk/t/{ref}/{form_name}
    app.include_router(replies.router)  # before the desk's /t/{ref}/{form} catch-all
    app.include_router(desk.router)
    app.include_router(inbox_work.router)
    app.include_router(reply_templates_admin.router)
    app.include_router(screened_desk.router)
    app.include_router(reports.router)
    app.include_router(admin.router)
    app.include_router(alerts_desk.router)
    app.include_router(admin_users.router)
    app.include_router(live.router)
    app.add_exception_handler(LoginRequired, desk.login_redirect)
    app.add_exception_handler(BadCsrf, desk.csrf_refused)
    app.mount(
        "/static",
        StaticFiles(directory=str(Path(__file__).parent / "ui" / "static")),
        name="static",
    )
    app.add_exception_handler(GeoReportError, open311.error_response)  # type: ignore[arg-type]
    publish_plain_text(app)

    @app.get("/healthz", tags=["ops"])
    def healthz(conn: ReadConn) -> dict[str, Any]:
        conn.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__, "database": engine.dialect.name}

    # The process's own counters plus this database's ledger (its own registry, so several
    # apps in one process, as in tests, do not collide).
    ledger_registry = CollectorRegistry(auto_describe=False)
    ledger_registry.register(LedgerCollector(engine, settings, app.state.clock))

    @app.get("/metrics", tags=["ops"], response_class=Response)
    def metrics() -> Response:
        body = generate_latest() + generate_latest(ledger_registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return app
