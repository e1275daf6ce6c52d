"""Pages for citizens: the complaint form and a ticket's public status (personal data masked).

The form is protected by a double-submit CSRF token: a random value in a SameSite=Strict
cookie that the form must echo; a post from another site cannot read the cookie to copy it.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from sevadesk.channels.open311.georeport import GeoReportError, request_payload
from sevadesk.reports.figures import Period, public_offices
from sevadesk.tickets.queries import public_tickets
from sevadesk.web.filing import file_request, taxonomy
from sevadesk.web.malformed import plain_fields
from sevadesk.web.ui.i18n import translator
from sevadesk.web.ui.session import language

router = APIRouter(include_in_schema=False)
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "ui" / "templates"))
CSRF_COOKIE = "seva_csrf"


def _form_page(
    request: Request,
    error: str | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    categories = taxonomy(request.app.state.engine).names
    response = TEMPLATES.TemplateResponse(
        request,
        "complaint.html",
        {"csrf": token, "categories": categories, "error": error, "values": values or {}},
        status_code=status,
    )
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
    return response


@router.get("/complaint", response_class=HTMLResponse)
def complaint_form(request: Request) -> Response:
    return _form_page(request)


@router.post("/complaint")
async def file_complaint(request: Request) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    cookie = request.cookies.get(CSRF_COOKIE, "")
    # Bytes: compare_digest refuses str with non-ASCII characters (a forged token may have them).
    sent = form.get("csrf", "").encode("utf-8", "surrogatepass")
    if not cookie or not hmac.compare_digest(cookie.encode("utf-8", "surrogatepass"), sent):
        return await run_in_threadpool(
            _form_page, request, "The form expired; please submit it again.", form, 403
        )
    if problem := plain_fields(form):
        return await run_in_threadpool(_form_page, request, f"Not sent: {problem}.", {}, 400)
    address = ", ".join(
        p for p in (form.get("address", "").strip(), form.get("pin", "").strip()) if p
    )
    fields = {
        "service_code": form.get("category", ""),
        "description": form.get("description", ""),
        "address_string": address,
        "first_name": form.get("name", ""),
        "email": form.get("email", ""),
        "phone": form.get("phone", ""),
    }

    def file() -> str | None:
        payload = request_payload(
            "web-form",
            fields,
            taxonomy(request.app.state.engine),
            "web",
            False,
            request.app.state.clock.now(),
        )
        return file_request(request, payload, "web-form")

    try:
        ref = await run_in_threadpool(file)  # off the event loop: it writes
    except GeoReportError as exc:
        return await run_in_threadpool(_form_page, request, exc.description, form, 400)
    if ref is None:
        return await run_in_threadpool(
            _form_page,
            request,
            "Your message was received but not opened as a complaint.",
            form,
            200,
        )
    return RedirectResponse(f"/status/{ref}", status_code=303)


@router.get("/status/{ref}", response_class=HTMLResponse)
def status_page(request: Request, ref: str) -> Response:
    with request.app.state.engine.connect() as conn:
        rows = public_tickets(conn, refs=[ref], limit=1)
    return TEMPLATES.TemplateResponse(
        request,
        "status.html",
        {"ticket": rows[0] if rows else None, "ref": ref},
        status_code=200 if rows else 404,
    )


@router.get("/public", response_class=HTMLResponse)
def public_page(request: Request) -> Response:
    """The agency's record, office by office; and a status lookup by reference."""
    ref = request.query_params.get("ref", "").strip().upper()
    with request.app.state.engine.connect() as conn:
        today = request.app.state.clock.now().date()
        offices = public_offices(conn, Period.last(30, today))
        found = public_tickets(conn, refs=[ref], limit=1) if ref else []
    return TEMPLATES.TemplateResponse(
        request,
        "public.html",
        {
            "offices": offices,
            "ref": ref,
            "ticket": found[0] if found else None,
            "t": translator(language(request)),
            "lang": language(request),
        },
    )
