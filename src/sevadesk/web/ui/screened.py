"""The desk's Screened out queue: posts triage kept from becoming tickets, in the officer's
scope, each made a ticket or confirmed as noise with one key or one click (and an optional
why). The handlers call the same domain functions as the API (tickets/screened.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sevadesk.tickets import screened
from sevadesk.tickets.queries import BadCursor, TicketNotFound
from sevadesk.web.malformed import plain_fields
from sevadesk.web.ui.desk import _ACTION_ERRORS, TEMPLATES, _not_found
from sevadesk.web.ui.session import CurrentDeskUser, DeskUser, check_csrf

router = APIRouter(prefix="/desk", include_in_schema=False)
PAGE = 50


def screened_count(request: Request, user: DeskUser | None) -> int | None:
    """For the desk's navigation: the officer's open screened-out posts (capped)."""
    if user is None:
        return None
    try:
        with request.app.state.engine.connect() as conn:
            return screened.count_open(conn, user.actor)
    except Exception:
        return None


TEMPLATES.env.globals["screened_count"] = screened_count


def _order(request: Request) -> str:
    order = request.query_params.get("order", "newest")
    return order if order in screened.ORDERS else "newest"


@router.get("/screened", response_class=HTMLResponse)
def queue(request: Request, user: CurrentDeskUser) -> Response:
    order = _order(request)
    cursor = (request.query_params.get("cursor") or "").replace("\x00", "") or None
    with request.app.state.engine.connect() as conn:
        try:
            posts, next_cursor = screened.list_screened(conn, user.actor, order, PAGE, cursor)
        except BadCursor:
            posts, next_cursor = screened.list_screened(conn, user.actor, order, PAGE, None)
        count = screened.count_open(conn, user.actor)
        line = screened.threshold(conn)
    return TEMPLATES.TemplateResponse(
        request,
        "screened.html",
        {
            "t": user.t,
            "user": user,
            "lang": user.lang,
            "posts": posts,
            "count": count,
            "cap": screened.COUNT_CAP,
            "order": order,
            "threshold": line,
            "next_url": f"/desk/screened?{urlencode({'order': order, 'cursor': next_cursor})}"
            if next_cursor
            else None,
            "flash": request.query_params.get("flash"),
            "made": request.query_params.get("made"),
            "error": request.query_params.get("error"),
        },
    )


async def _decide(request: Request, user: DeskUser, post_id: str, decision: str) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    check_csrf(user, form)
    order = form.get("order") if form.get("order") in screened.ORDERS else "newest"

    def run() -> dict[str, str] | None:
        if problem := plain_fields(form):
            return {"error": problem}
        if not post_id.isdigit() or not 0 < int(post_id) < 2**63:
            raise TicketNotFound(f"no screened-out post {post_id[:20]}")
        note = form.get("note") or None
        try:
            with request.app.state.engine.begin() as conn:
                now = request.app.state.clock.now()
                if decision == "ticket":
                    made: dict[str, Any] = screened.promote(
                        conn, user.actor, int(post_id), note, now
                    )
                    return {"made": made["ref"]}
                screened.confirm_noise(conn, user.actor, int(post_id), note, now)
                return {"flash": "noise"}
        except _ACTION_ERRORS as exc:
            return {"error": str(exc)}

    try:
        outcome = await run_in_threadpool(run)
    except TicketNotFound:
        return _not_found(request, user, f"screened/{post_id[:20]}")
    query = urlencode({"order": order, **(outcome or {})})
    return RedirectResponse(f"/desk/screened?{query}", status_code=303)


@router.post("/screened/{post_id}/ticket")
async def make_ticket(post_id: str, request: Request, user: CurrentDeskUser) -> Response:
    return await _decide(request, user, post_id, "ticket")


@router.post("/screened/{post_id}/noise")
async def confirm_noise(post_id: str, request: Request, user: CurrentDeskUser) -> Response:
    return await _decide(request, user, post_id, "noise")
