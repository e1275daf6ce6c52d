"""The desk's transfers: the "Offered to us" queue, a read-only look at an offered ticket with
Accept and Return, what became of the offers an office made, and the two ways a resolved
ticket goes back into work (an officer's reopen, a citizen's appeal one level up).

Every handler calls the domain's verbs (`tickets/actions.py`), so scope, the status machine
and the audit trail are the API's. The router is included before the desk's own, so its
`/desk/t/{ref}/reopen` and `/desk/t/{ref}/appeal` come before the ticket page's other forms.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from sevadesk.store.users_repo import Actor
from sevadesk.tickets import actions, offers
from sevadesk.tickets.queries import TicketNotFound, ticket_row
from sevadesk.web.malformed import plain_fields
from sevadesk.web.ui.desk import _ACTION_ERRORS, TEMPLATES, _not_found
from sevadesk.web.ui.session import CurrentDeskUser, DeskUser, check_csrf

router = APIRouter(prefix="/desk", include_in_schema=False)
MAX_REASON = 2000


def offers_count(request: Request, user: DeskUser | None) -> int | None:
    """For the desk's navigation: offers waiting for the officer's units."""
    if user is None:
        return None
    try:
        with request.app.state.engine.connect() as conn:
            return offers.count_pending(conn, user.actor)
    except Exception:
        return None


TEMPLATES.env.globals["offers_count"] = offers_count


def _in_scope(conn: Connection, actor: Actor, ref: str) -> bool:
    try:
        ticket_row(conn, actor, ref)
    except TicketNotFound:
        return False
    return True


@router.get("/offers", response_class=HTMLResponse)
def offered_to_us(request: Request, user: CurrentDeskUser) -> Response:
    now = request.app.state.clock.now()
    with request.app.state.engine.connect() as conn:
        incoming = offers.incoming_offers(conn, user.actor)
        sent = offers.sent_offers(conn, user.actor)
    q = request.query_params
    return TEMPLATES.TemplateResponse(
        request,
        "offers.html",
        {
            "t": user.t,
            "user": user,
            "lang": user.lang,
            "now": now,
            "incoming": incoming,
            "sent": sent,
            "returned": q.get("returned"),
            "moved": q.get("moved"),
            "moved_to": q.get("to"),
            "error": q.get("error"),
        },
    )


@router.get("/offers/{ref}", response_class=HTMLResponse)
def offered_ticket(ref: str, request: Request, user: CurrentDeskUser) -> Response:
    """The offered ticket, read-only, with the offer's Accept and Return."""
    # The 404 page is drawn after the connection closes: its header reads the database, and
    # on SQLite an open connection holds the write lock (store/db.py).
    ticket = None
    with request.app.state.engine.connect() as conn, contextlib.suppress(TicketNotFound):
        ticket = offers.offered_ticket(conn, user.actor, ref)
    if ticket is None:
        return _not_found(request, user, ref)
    return TEMPLATES.TemplateResponse(
        request,
        "offer.html",
        {
            "t": user.t,
            "user": user,
            "lang": user.lang,
            "ticket": ticket,
            "now": request.app.state.clock.now(),
            "error": request.query_params.get("error"),
        },
    )


Outcome = Callable[[Connection, dict[str, str], Any], str]


async def _answer(request: Request, user: DeskUser, ref: str, do: Outcome, back: str) -> Response:
    """Run one decision in a transaction; `do` returns where to go after it. A refusal goes
    back to `back` with the domain's reason; TicketNotFound is the desk's 404."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    check_csrf(user, form)

    def run() -> str:
        if problem := plain_fields(form):
            return f"{back}?{urlencode({'error': problem})}"
        if len(form.get("reason", "")) > MAX_REASON:
            return f"{back}?{urlencode({'error': f'the reason is longer than {MAX_REASON} characters'})}"
        try:
            with request.app.state.engine.begin() as conn:
                return do(conn, form, request.app.state.clock.now())
        except _ACTION_ERRORS as exc:
            return f"{back}?{urlencode({'error': str(exc)})}"

    try:
        target = await run_in_threadpool(run)
    except TicketNotFound:
        return _not_found(request, user, ref)
    return RedirectResponse(target, status_code=303)


@router.post("/offers/{ref}/accept")
async def accept(ref: str, request: Request, user: CurrentDeskUser) -> Response:
    def do(conn: Connection, _form: dict[str, str], now: Any) -> str:
        actions.accept_transfer(conn, user.actor, ref, now)
        return f"/desk/t/{ref}?flash=1"

    return await _answer(request, user, ref, do, f"/desk/offers/{ref}")


@router.post("/offers/{ref}/return")
async def return_offer(ref: str, request: Request, user: CurrentDeskUser) -> Response:
    def do(conn: Connection, form: dict[str, str], now: Any) -> str:
        actions.return_transfer(conn, user.actor, ref, form.get("reason", "").strip(), now)
        return f"/desk/offers?{urlencode({'returned': ref})}"

    return await _answer(request, user, ref, do, f"/desk/offers/{ref}")


@router.post("/t/{ref}/reopen")
async def reopen(ref: str, request: Request, user: CurrentDeskUser) -> Response:
    def do(conn: Connection, form: dict[str, str], now: Any) -> str:
        actions.reopen(conn, user.actor, ref, form.get("reason", ""), now)
        return f"/desk/t/{ref}?flash=1"

    return await _answer(request, user, ref, do, f"/desk/t/{ref}")


@router.post("/t/{ref}/appeal")
async def appeal(ref: str, request: Request, user: CurrentDeskUser) -> Response:
    """The citizen's appeal, recorded by an officer: the ticket goes one level up; if that
    is outside the officer's scope, the transfers page says where it went."""

    def do(conn: Connection, form: dict[str, str], now: Any) -> str:
        done = actions.appeal(conn, user.actor, ref, form.get("reason", "").strip(), now)
        if _in_scope(conn, user.actor, ref):
            return f"/desk/t/{ref}?flash=1"
        return f"/desk/offers?{urlencode({'moved': ref, 'to': done['unit']})}"

    return await _answer(request, user, ref, do, f"/desk/t/{ref}")
