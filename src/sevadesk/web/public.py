"""Pages for citizens: the complaint form and a ticket's public status (personal data masked),
in the bot's four languages (`web/ui/i18n_citizen.py`).

The form is protected by a double-submit CSRF token: a random value in a SameSite=Strict
cookie that the form must echo; a post from another site cannot read the cookie to copy it.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from sevadesk.channels.open311.georeport import OTHER, GeoReportError, request_payload
from sevadesk.domain.complaints import MIN_CHARACTERS, MIN_WORDS, too_short
from sevadesk.reports.figures import Period, public_offices
from sevadesk.routing.agencies import Agency, agencies, agency_named_in
from sevadesk.routing.router import Router
from sevadesk.store import tables as t
from sevadesk.tickets.queries import public_answers, public_tickets
from sevadesk.web.filing import file_request, taxonomy
from sevadesk.web.malformed import plain_fields
from sevadesk.web.ui.i18n import translator
from sevadesk.web.ui.i18n_citizen import COOKIE as LANG_COOKIE
from sevadesk.web.ui.i18n_citizen import (
    LANGUAGES,
    NAMES,
    bot_text,
    category_name,
    citizen_language,
    citizen_translator,
    status_name,
)
from sevadesk.web.ui.session import language

router = APIRouter(include_in_schema=False)
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "ui" / "templates"))
CSRF_COOKIE = "seva_csrf"


IST = ZoneInfo("Asia/Kolkata")


def _in_india(moment: datetime | None) -> str:
    """A time as the citizen reads it: India's clock, labelled (numbers read in any script)."""
    return moment.astimezone(IST).strftime("%d-%m-%Y %H:%M IST") if moment else ""


def _agencies(request: Request) -> list[Agency]:
    with request.app.state.engine.connect() as conn:
        return agencies(conn)


def _remember(response: Response, lang: str, request: Request) -> Response:
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, samesite="lax", max_age=365 * 24 * 3600)
    return response


def _form_page(
    request: Request,
    error: str | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
    lang: str | None = None,
) -> Response:
    lang = lang or citizen_language(request)
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    categories = taxonomy(request.app.state.engine).names
    values = dict(values or {})
    choices = _agencies(request)
    # A link from an agency's own page (?agency=RLY) chooses it for the citizen.
    linked = request.query_params.get("agency", "")
    if "agency" not in values and linked in {a.code for a in choices}:
        values["agency"] = linked
    response = TEMPLATES.TemplateResponse(
        request,
        "complaint.html",
        {
            "csrf": token,
            "categories": [(c, category_name(lang, c)) for c in categories if c != OTHER]
            + [(OTHER, citizen_translator(lang)("other_category"))],
            "agencies": [(a.code, a.name_in(lang)) for a in choices],
            "error": error,
            "values": values,
            "lang": lang,
            "t": citizen_translator(lang),
            "ask_agency": bot_text(lang, "ask_agency"),
            "ask_category": bot_text(lang, "ask_category"),
            "languages": NAMES,
            "min_chars": MIN_CHARACTERS,
        },
        status_code=status,
    )
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
    return _remember(response, lang, request)


@router.get("/complaint", response_class=HTMLResponse)
def complaint_form(request: Request) -> Response:
    return _form_page(request)


def _chosen_agency(request: Request, form: dict[str, str]) -> str | None:
    """The agency picked from the list, else the one the complaint's handles or hashtags
    name (through the router); None when neither tells."""
    choices = _agencies(request)
    picked = form.get("agency", "")
    if picked in {a.code for a in choices}:
        return picked
    with request.app.state.engine.connect() as conn:
        router_ = Router.load(conn)
    named = agency_named_in(form.get("description", ""), choices, router_)
    return named.code if named else None


@router.post("/complaint")
async def file_complaint(request: Request) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    lang = form.get("lang", "") if form.get("lang") in LANGUAGES else citizen_language(request)
    t_ = citizen_translator(lang)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    # Bytes: compare_digest refuses str with non-ASCII characters (a forged token may have them).
    sent = form.get("csrf", "").encode("utf-8", "surrogatepass")
    if not cookie or not hmac.compare_digest(cookie.encode("utf-8", "surrogatepass"), sent):
        return await run_in_threadpool(_form_page, request, t_("expired"), form, 403, lang)
    if problem := plain_fields(form):
        message = t_("not_sent", problem=problem)
        return await run_in_threadpool(_form_page, request, message, {}, 400, lang)
    description = form.get("description", "").strip()
    if not description:
        return await run_in_threadpool(_form_page, request, t_("no_description"), form, 400, lang)
    if too_short(description):
        message = t_("too_short", words=MIN_WORDS, chars=MIN_CHARACTERS)
        return await run_in_threadpool(_form_page, request, message, form, 400, lang)
    if not form.get("category"):
        return await run_in_threadpool(_form_page, request, t_("need_category"), form, 400, lang)
    agency = await run_in_threadpool(_chosen_agency, request, form)
    if agency is None:  # never silently the deployment's root: the citizen chooses
        return await run_in_threadpool(_form_page, request, t_("need_agency"), form, 400, lang)
    address = ", ".join(
        p for p in (form.get("address", "").strip(), form.get("pin", "").strip()) if p
    )
    fields = {
        "service_code": form.get("category", ""),
        "description": description,
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
        payload["agency"] = agency
        return file_request(request, payload, "web-form")

    try:
        ref = await run_in_threadpool(file)  # off the event loop: it writes
    except GeoReportError as exc:
        return await run_in_threadpool(_form_page, request, exc.description, form, 400, lang)
    if ref is None:
        return await run_in_threadpool(_form_page, request, t_("not_opened"), form, 200, lang)
    return RedirectResponse(f"/status/{ref}?filed=1&lang={lang}", status_code=303)


@router.get("/status/{ref}", response_class=HTMLResponse)
def status_page(request: Request, ref: str) -> Response:
    lang = citizen_language(request)
    answer: tuple[str, datetime] | None = None
    with request.app.state.engine.connect() as conn:
        rows = public_tickets(conn, refs=[ref], limit=1)
        if rows:
            channel, name_hi = conn.execute(
                select(t.tickets.c.channel, t.units.c.name_hi)
                .join(t.units, t.units.c.id == t.tickets.c.unit_id)
                .where(t.tickets.c.id == rows[0]["id"])
            ).one()
            if lang == "hi" and name_hi:
                rows[0]["unit_name"] = name_hi
            # The office's public words: its public replies and closing notes on a public
            # post, its closing notes on a form's complaint (answered on this page). A
            # private channel's replies went to the citizen alone and stay there.
            if rows[0]["masked_text"] is not None or channel == "web":
                answer = public_answers(conn, [rows[0]["id"]]).get(rows[0]["id"])
    ticket = rows[0] if rows else None
    response = TEMPLATES.TemplateResponse(
        request,
        "status.html",
        {
            "ticket": ticket,
            "ref": ref,
            "lang": lang,
            "t": citizen_translator(lang),
            "languages": NAMES,
            "status_name": status_name(lang, ticket["status"]) if ticket else "",
            "category_name": category_name(lang, ticket["category"]) if ticket else "",
            "answer": answer,
            "when": _in_india,
            "filed": request.query_params.get("filed") == "1",
        },
        status_code=200 if rows else 404,
    )
    return _remember(response, lang, request)


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
