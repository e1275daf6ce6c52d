"""The officers' web desk: sign-in, the live inbox, the ticket workspace.

Server-rendered Jinja2 with a little JavaScript (live updates over server-sent events,
keyboard shortcuts, the reply's weighted character count); no build step. Every handler
goes through the same domain functions as the API, so scope checks and the audit trail are
the same whichever door an officer uses.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from fastapi.templating import Jinja2Templates
from sqlalchemy import Connection, select

from sevadesk.domain.errors import IllegalTransition, MissingReason, OutOfScope, UnknownUnit
from sevadesk.domain.local_time import local_time
from sevadesk.domain.reply_limits import reply_limit
from sevadesk.store import tables as t
from sevadesk.store.org_repo import triage_config
from sevadesk.store.users_repo import Actor, close_session, open_session
from sevadesk.tickets import actions, offers
from sevadesk.tickets.queries import (
    QUEUES,
    SORTS,
    TicketFilter,
    TicketNotFound,
    assignable_users,
    incident_detail,
    list_tickets,
    reply_templates,
    ticket_detail,
)
from sevadesk.web.malformed import plain_fields
from sevadesk.web.sign_in import SignInFailed, SignInLocked, sign_in
from sevadesk.web.ui.i18n import translator
from sevadesk.web.ui.org_time import desk_zone, when
from sevadesk.web.ui.reply_variables import filled_templates
from sevadesk.web.ui.session import (
    COOKIE,
    LANG_COOKIE,
    SESSION_TTL,
    CurrentDeskUser,
    DeskUser,
    check_csrf,
    language,
)

router = APIRouter(prefix="/desk", include_in_schema=False)
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
FILTERS = ("queue", "status", "category", "urgency", "language", "channel", "label", "q", "sort")
# As the API's incident replies allow: each citizen's entry adds to the key, and the outbox
# keeps 100 characters of it.
MAX_KEY = 60
_ACTION_ERRORS = (
    actions.InvalidRequest,
    IllegalTransition,
    MissingReason,
    UnknownUnit,
    OutOfScope,
    actions.ReadOnlyRole,
)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


# Sign-in -----------------------------------------------------------------------------------


# The sign-in form carries a token of its own (there is no session yet to hold one): a random
# value in a SameSite=Strict cookie that the form echoes. A page of another site can post the
# form but cannot read the cookie, so it cannot sign a victim's browser in to an account of
# its choosing; browsers that say where a post came from (Origin, Sec-Fetch-Site) are also
# held to this site.
LOGIN_COOKIE = "seva_login"


def _login_page(
    request: Request, message: str | None = None, status: int = 200, username: str = ""
) -> Response:
    t_ = translator(language(request))
    token = secrets.token_urlsafe(24)
    response = TEMPLATES.TemplateResponse(
        request,
        "login.html",
        {"t": t_, "error": message, "lang": language(request), "csrf": token, "username": username},
        status_code=status,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        max_age=3600,
        path="/desk/login",
    )
    return response


def _from_this_site(request: Request, form_token: str) -> bool:
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        return False
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), form_token.encode())


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, error: str | None = None) -> Response:
    return _login_page(request, translator(language(request))("bad_login") if error else None)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    t_ = translator(language(request))
    if not _from_this_site(request, str(form.get("csrf", ""))):
        return await run_in_threadpool(_login_page, request, t_("login_refused"), 403, username)

    def open_desk_session(conn: Connection, actor: Actor) -> tuple[str, str]:
        return open_session(conn, actor.id, request.app.state.clock.now(), SESSION_TTL)

    try:
        opened = await sign_in(request, username, password, open_desk_session)
    except SignInFailed:
        return RedirectResponse("/desk/login?error=1", status_code=303)
    except SignInLocked as lock:
        now = request.app.state.clock.now()
        wait = lock.retry_after(now)
        zone = desk_zone(request.app.state.engine)
        until = local_time(lock.until, zone, "%H:%M")
        message = t_("login_locked").format(time=until, minutes=-(-wait // 60))
        response = await run_in_threadpool(_login_page, request, message, 429, username)
        response.headers["retry-after"] = str(wait)
        return response
    response = RedirectResponse("/desk", status_code=303)
    response.set_cookie(
        COOKIE,
        opened[0],
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        max_age=int(SESSION_TTL.total_seconds()),
    )
    response.delete_cookie(LOGIN_COOKIE, path="/desk/login")
    return response


@router.post("/logout")
async def logout(request: Request, user: CurrentDeskUser) -> Response:
    check_csrf(user, dict(await request.form()))
    token = request.cookies.get(COOKIE, "")

    def close() -> None:
        with request.app.state.engine.begin() as conn:
            close_session(conn, token, request.app.state.clock.now())

    await run_in_threadpool(close)
    response = RedirectResponse("/desk/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


def _local_path(target: str | None, request: Request) -> str | None:
    """`target` as a path on this site, or None: a relative path (not `//host` or `/\\host`,
    which browsers read as another site), or a URL of this very origin."""
    if not target:
        return None
    url = urlsplit(target)
    if url.scheme or url.netloc:
        here = request.url
        if (url.scheme, url.netloc) != (here.scheme, here.netloc):
            return None
    path = url.path or "/"
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):  # browsers drop some of these
        return None
    return path + (f"?{url.query}" if url.query else "")


@router.get("/lang/{lang}")
def switch_language(
    lang: str, request: Request, next_page: Annotated[str | None, Query(alias="next")] = None
) -> Response:
    """Back to the page the switch was clicked on (`next`, else the Referer), on this site only."""
    back = (
        _local_path(next_page, request)
        or _local_path(request.headers.get("referer"), request)
        or "/desk"
    )
    response = RedirectResponse(back, status_code=303)
    response.set_cookie(LANG_COOKIE, lang if lang in ("en", "hi") else "en", samesite="lax")
    return response


# Inbox --------------------------------------------------------------------------------------


def _categories(request: Request) -> list[str]:
    # The organisation's taxonomy, not a DISTINCT over tickets: cheap at any size.
    from sevadesk.web.filing import taxonomy

    return list(taxonomy(request.app.state.engine).names)


def _filter(request: Request, now: datetime) -> TicketFilter:
    p = request.query_params

    def get(name: str) -> str | None:
        value = (p.get(name) or "").replace("\x00", "")
        return value if value else None

    queue = get("queue")
    return TicketFilter(
        status=get("status"),
        category=get("category"),
        urgency=get("urgency"),
        language=get("language"),
        channel=get("channel"),
        queue=queue if queue in QUEUES else None,
        search=get("q"),
        now=now,
        label=get("label"),
        sort=get("sort") if get("sort") in SORTS else None,
    )


@router.get("", response_class=HTMLResponse)
def inbox(request: Request, user: CurrentDeskUser) -> Response:
    now = request.app.state.clock.now()
    categories = sorted(_categories(request))  # before the connection below: never two at once
    from sevadesk.web.ui.inbox_work import inbox_context

    with request.app.state.engine.connect() as conn:
        live = inbox_context(conn, user, now, request.app.state)  # marker first: then deltas
        tickets, cursor = list_tickets(
            conn, user.actor, _filter(request, now), 50, request.query_params.get("cursor")
        )
    current = {k: request.query_params.get(k, "") for k in FILTERS}
    context = {
        "t": user.t,
        "user": user,
        "tickets": tickets,
        "current": current,
        "queues": QUEUES,
        "categories": categories,
        "next_url": f"/desk?{urlencode({**current, 'cursor': cursor})}" if cursor else None,
        "sorts": SORTS,
        "now": now,
        "lang": user.lang,
        "bulk": request.query_params.get("bulk"),
        **live,
    }
    name = "inbox_rows.html" if request.query_params.get("fragment") else "inbox.html"
    return TEMPLATES.TemplateResponse(request, name, context)


# Workspace ---------------------------------------------------------------------------------


def _not_found(request: Request, user: DeskUser, ref: str, draft: str | None = None) -> Response:
    return TEMPLATES.TemplateResponse(
        request,
        "not_found.html",
        {"t": user.t, "user": user, "ref": ref, "lang": user.lang, "draft": draft},
        status_code=404,
    )


@router.get("/t/{ref}", response_class=HTMLResponse)
def workspace(ref: str, request: Request, user: CurrentDeskUser) -> Response:
    return render_workspace(request, user, ref)


def render_workspace(
    request: Request,
    user: DeskUser,
    ref: str,
    status_code: int = 200,
    extra: dict[str, Any] | None = None,
) -> Response:
    """The ticket page; `extra` adds to its context (a refused reply's draft and error)."""
    with request.app.state.engine.connect() as conn:
        try:
            ticket = ticket_detail(conn, user.actor, ref)
        except TicketNotFound:
            # Offered to the officer's unit but not theirs yet: the offer's read-only page
            # (on opening it; a form posted to it is refused as out of scope).
            offered = request.method == "GET" and offers.has_pending_offer(conn, user.actor, ref)
            ticket = None
    if ticket is None:
        # Rendered after the connection is closed: the page's header (the bell, the offers'
        # count) reads the database too, and on SQLite this connection holds the lock.
        if offered:
            return RedirectResponse(f"/desk/offers/{ref}", status_code=303)
        return _not_found(request, user, ref, (extra or {}).get("draft"))
    with request.app.state.engine.connect() as conn:
        c = t.tickets.c
        citizen = conn.execute(select(c.citizen_id).where(c.ref == ref)).scalar()
        earlier = (
            conn.execute(
                select(c.ref, c.status, c.summary, c.opened_at)
                .join(t.units, t.units.c.id == c.unit_id)
                .where(
                    c.citizen_id == citizen,
                    c.ref != ref,
                    t.units.c.path.startswith(user.actor.scope_path, autoescape=True),
                )
                .order_by(c.id.desc())
                .limit(10)
            ).all()
            if citizen is not None
            else []
        )
        incident_ref = (
            conn.execute(
                select(t.incidents.c.ref).where(t.incidents.c.id == ticket.get("incident_id"))
            ).scalar()
            if ticket.get("incident_id")
            else None
        )
        unit = conn.execute(
            select(t.units.c.id, t.units.c.path, t.units.c.name).where(
                t.units.c.code == ticket["unit"]
            )
        ).one()
        templates = reply_templates(conn, unit.path, ticket["language"], ticket["channel"])
        picker = offers.transfer_choices(conn, user.actor, ticket["id"], unit.id, unit.path)
        offer_history = offers.ticket_offers(conn, ticket["id"])
        users = assignable_users(conn, unit.path)
        categories = triage_config(conn).category_names()
    return TEMPLATES.TemplateResponse(
        request,
        "ticket.html",
        {
            "t": user.t,
            "user": user,
            "ticket": ticket,
            "earlier": earlier,
            "incident_ref": incident_ref,
            "templates": filled_templates(templates, ticket, unit.name),
            "reply_limit": reply_limit(ticket["channel"]),
            "picker": picker,
            "offer_history": offer_history,
            "categories": categories,
            "users": users,
            "statuses": ["in_progress", "awaiting_citizen", "resolved", "closed", "rejected"],
            "flash": request.query_params.get("flash"),
            "error": request.query_params.get("error"),
            "lang": user.lang,
            "reply_key": f"desk-{uuid.uuid4()}",
            "now": request.app.state.clock.now(),
            **(extra or {}),
        },
        status_code=status_code,
    )


async def _act(
    request: Request, user: DeskUser, ref: str, do: Any, back: str | None = None
) -> Response:
    """Run one form's action in a transaction (off the event loop) and go back to the page,
    with the domain's refusal shown there; TicketNotFound becomes the app's 404."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    check_csrf(user, form)

    def run() -> str | None:
        if problem := plain_fields(form):
            return problem
        if len(form.get("key", "")) > MAX_KEY:
            return f"the idempotency key is longer than {MAX_KEY} characters"
        try:
            with request.app.state.engine.begin() as conn:
                do(conn, form, request.app.state.clock.now())
        except _ACTION_ERRORS as exc:
            return str(exc)
        return None

    error = await run_in_threadpool(run)
    query = urlencode({"error": error} if error else {"flash": "1"})
    return RedirectResponse(f"{back or f'/desk/t/{ref}'}?{query}", status_code=303)


# The ticket page's forms: each posts to /desk/t/{ref}/<name> and runs one domain action on the
# form's fields (a missing text field is "", a missing optional one None).
_Form = dict[str, str]
_TICKET_FORMS: dict[str, Callable[[Connection, Actor, str, _Form, datetime], Any]] = {
    # "reply" is web/ui/replies.py's: a refused reply keeps its draft.
    "status": lambda conn, actor, ref, f, now: actions.change_status(
        conn, actor, ref, f.get("status", ""), f.get("note") or None, now
    ),
    "category": lambda conn, actor, ref, f, now: actions.change_category(
        conn, actor, ref, f.get("category", ""), now
    ),
    "assign": lambda conn, actor, ref, f, now: actions.assign(
        conn, actor, ref, f.get("username") or None, now
    ),
    "transfer": lambda conn, actor, ref, f, now: actions.transfer(
        conn, actor, ref, f.get("unit", ""), f.get("reason", ""), now
    ),
    "note": lambda conn, actor, ref, f, now: actions.add_note(
        conn, actor, ref, f.get("note", ""), now
    ),
    "detach": lambda conn, actor, ref, f, now: actions.detach_from_incident(
        conn, actor, ref, f.get("reason", ""), now
    ),
    "merge": lambda conn, actor, ref, f, now: actions.merge(
        conn, actor, ref, f.get("into", ""), now
    ),
}


@router.post("/t/{ref}/{form_name}")
async def ticket_form(
    ref: str, form_name: str, request: Request, user: CurrentDeskUser
) -> Response:
    do = _TICKET_FORMS.get(form_name)
    if do is None:
        return _not_found(request, user, f"{ref}/{form_name}")
    return await _act(
        request, user, ref, lambda conn, form, now: do(conn, user.actor, ref, form, now)
    )


@router.get("/incidents/{incident_ref}", response_class=HTMLResponse)
def incident(incident_ref: str, request: Request, user: CurrentDeskUser) -> Response:
    """A mass incident: every linked ticket, and one reply that reaches all their citizens
    (after the officer has seen how many: web/ui/replies.py)."""
    return render_incident(request, user, incident_ref)


def _sent(request: Request, user: DeskUser) -> str | None:
    """ "Reply queued for N tickets (M citizens)" after an incident reply was sent."""
    tickets, _, citizens = (request.query_params.get("sent") or "").partition(":")
    if not (tickets.isdigit() and citizens.isdigit()):
        return None
    return str(user.t("i_sent")).format(tickets=int(tickets), citizens=int(citizens))


def render_incident(
    request: Request,
    user: DeskUser,
    incident_ref: str,
    status_code: int = 200,
    extra: dict[str, Any] | None = None,
) -> Response:
    with request.app.state.engine.connect() as conn:
        try:
            data = incident_detail(conn, user.actor, incident_ref)
        except TicketNotFound:
            data = None
    if data is None:  # rendered with the connection closed (see render_workspace)
        return _not_found(request, user, incident_ref, (extra or {}).get("draft"))
    return TEMPLATES.TemplateResponse(
        request,
        "incident.html",
        {
            "t": user.t,
            "user": user,
            "lang": user.lang,
            "reply_key": f"desk-{uuid.uuid4()}",
            "incident": data,
            "flash": request.query_params.get("flash"),
            "error": request.query_params.get("error"),
            "sent": _sent(request, user),
            **(extra or {}),
        },
        status_code=status_code,
    )


@router.get("/count")
def count(text: str = "", channel: str = "x") -> JSONResponse:
    """The length of `text` as `channel` counts it, and the channel's limit, for the reply
    box: X's weighted length (twitter-text rules), WhatsApp's characters. The server's check
    of a sent reply uses the same numbers (domain/reply_limits.py)."""
    limit = reply_limit(channel) or reply_limit("x")
    assert limit is not None
    # As sent: the reply is stripped of leading and trailing space first.
    return JSONResponse({"weighted": limit.length(text.strip()), "limit": limit.limit})


def login_redirect(_request: Request, _exc: Exception) -> Response:
    return RedirectResponse("/desk/login", status_code=303)


def csrf_refused(_request: Request, _exc: Exception) -> Response:
    return HTMLResponse("The form expired or did not come from this desk. Go back and reload.", 403)


# Every time on a desk page: in the organisation's time zone, with the zone named.
TEMPLATES.env.filters["when"] = when
