"""Admin: the organisation (units, users, routing rules, templates, SLA policies) edited as
its YAML file — it opens on the current file, upload or edit, validated with errors that name
the key in plain words, a diff preview, then applied and recorded (who, when, the diff) in the
configuration history. Users are also managed through forms (`admin_users.py`)."""

from __future__ import annotations

import difflib
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, select

from sevadesk.pipeline import journal
from sevadesk.routing.org_secrets import redact_passwords
from sevadesk.routing.orgfile import OrgFileError, parse_org_text
from sevadesk.store import account_events, sign_in_repo
from sevadesk.store import tables as t
from sevadesk.store.org_export import org_as_yaml
from sevadesk.store.org_repo import apply_org, record_config_change
from sevadesk.store.users_repo import UnknownToken, list_tokens, revoke_token
from sevadesk.web.ui.desk import TEMPLATES
from sevadesk.web.ui.org_time import forget_zone
from sevadesk.web.ui.session import CurrentDeskUser, DeskUser, check_csrf

MAX_UPLOAD = 5 * 1024 * 1024
# The upload, the form around it and its multipart framing.
router = APIRouter(
    prefix="/desk/admin", include_in_schema=False, max_body_size=MAX_UPLOAD + 1024 * 1024
)


USER_CHANGES = (
    "user_added",
    "user_changed",
    "password_reset",
    "user_deactivated",
    "user_reactivated",
)


def editor_text(conn: Connection) -> str:
    """What the editor opens on: the file last applied, unless there is none or users were
    changed through the users page since (then applying that file would undo the changes):
    the organisation the database holds, written out as a file."""
    recorded = conn.execute(
        select(t.config_changes.c.at, t.config_changes.c.text)
        .order_by(t.config_changes.c.id.desc())
        .limit(1)
    ).first()
    e = t.account_events.c
    changed = conn.execute(
        select(e.at).where(e.action.in_(USER_CHANGES)).order_by(e.id.desc()).limit(1)
    ).scalar()
    if recorded is not None and recorded.text and (changed is None or changed < recorded.at):
        return str(recorded.text)
    return org_as_yaml(conn)


def _allowed(user: DeskUser) -> bool:
    # The org file describes the whole tree: only an admin of the top unit may change it.
    return user.actor.role == "admin" and user.actor.scope_path.count("/") <= 2


def _page(request: Request, user: DeskUser, status: int = 200, **context: Any) -> Response:
    if not _allowed(user):
        return HTMLResponse("Only an administrator of the whole organisation may change it.", 403)
    now = request.app.state.clock.now()
    with request.app.state.engine.connect() as conn:
        history = conn.execute(
            select(t.config_changes.c.at, t.config_changes.c.actor, t.config_changes.c.summary)
            .order_by(t.config_changes.c.id.desc())
            .limit(10)
        ).all()
        current = editor_text(conn)
        tokens = [k for k in list_tokens(conn) if k["revoked_at"] is None and k["expires_at"] > now]
        locks = sign_in_repo.locks(conn, now)
        events = account_events.recent(conn)
        failed_entries = journal.failed(conn)
    return TEMPLATES.TemplateResponse(
        request,
        "admin.html",
        {
            "t": user.t,
            "user": user,
            "lang": user.lang,
            "history": history,
            "tokens": tokens,
            "locks": locks,
            "account_events": events,
            "failed_entries": failed_entries,
            "text": context.pop("text", current),
            **context,
        },
        status_code=status,
    )


@router.get("", response_class=HTMLResponse)
def admin(request: Request, user: CurrentDeskUser) -> Response:
    if user.actor.role == "admin" and not _allowed(user):
        # An agency's admin manages its users; the org file is the whole deployment's.
        return RedirectResponse("/desk/admin/users", status_code=303)
    return _page(request, user)


async def _text(request: Request, user: DeskUser) -> tuple[str, dict[str, Any]]:
    form = await request.form()
    check_csrf(user, dict(form))
    upload = form.get("file")
    if upload is not None and hasattr(upload, "read") and getattr(upload, "filename", ""):
        raw = await upload.read(MAX_UPLOAD + 1)
        if len(raw) > MAX_UPLOAD:
            return "", {"errors": ["the file is larger than 5 MB"]}
        return raw.decode("utf-8", "replace"), {}
    return str(form.get("text", "")), {}


@router.post("/preview", response_class=HTMLResponse)
async def preview(request: Request, user: CurrentDeskUser) -> Response:
    text, problems = await _text(request, user)
    if problems:
        return await run_in_threadpool(lambda: _page(request, user, 400, text=text, **problems))
    try:
        parse_org_text(text)
    except OrgFileError as exc:
        errors = exc.problems
        return await run_in_threadpool(lambda: _page(request, user, 400, text=text, errors=errors))

    def diff() -> Response:
        with request.app.state.engine.connect() as conn:
            current = editor_text(conn)
        # A password typed into the file is shown as what the history will keep instead.
        shown = redact_passwords(text, lambda _user, _password: "<hashed when applied>")
        lines = list(
            difflib.unified_diff(
                current.splitlines(), shown.splitlines(), "current", "new", lineterm=""
            )
        )
        return _page(request, user, text=text, diff=lines, ready=True)

    return await run_in_threadpool(diff)


@router.post("/apply", response_class=HTMLResponse)
async def apply(request: Request, user: CurrentDeskUser) -> Response:
    text, problems = await _text(request, user)
    if problems:
        return await run_in_threadpool(lambda: _page(request, user, 400, text=text, **problems))
    if not _allowed(user):
        return HTMLResponse("Only an administrator of the whole organisation may change it.", 403)
    try:
        spec = parse_org_text(text)
    except OrgFileError as exc:
        errors = exc.problems
        return await run_in_threadpool(lambda: _page(request, user, 400, text=text, errors=errors))

    def run() -> Response:
        with request.app.state.engine.begin() as conn:
            summary = apply_org(conn, spec)
            record_config_change(conn, user.actor.label, text, request.app.state.clock.now())
        forget_zone(request.app.state.engine)  # the file may name another time zone
        done = (
            f"Applied: {summary.units} units, {summary.users} users, {summary.sla_policies} SLA "
            f"policies, {summary.templates} templates."
        )
        return _page(request, user, applied=done)  # the text as stored: passwords hashed

    return await run_in_threadpool(run)


async def _account_action(
    request: Request, user: DeskUser, do: Any, done_key: str = "account_done"
) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    check_csrf(user, form)
    if not _allowed(user):
        return HTMLResponse("Only an administrator of the whole organisation may change it.", 403)

    def run() -> Response:
        try:
            with request.app.state.engine.begin() as conn:
                done = do(conn, form, request.app.state.clock.now())
        except (UnknownToken, journal.NotSetAside) as exc:
            return _page(request, user, 404, **{done_key: str(exc)})
        return _page(request, user, **{done_key: done})

    return await run_in_threadpool(run)


@router.post("/tokens/revoke", response_class=HTMLResponse)
async def revoke(request: Request, user: CurrentDeskUser) -> Response:
    """Revoke an API token by its listed id (audited)."""

    def do(conn: Connection, form: dict[str, str], now: datetime) -> str:
        owner = revoke_token(conn, form.get("token", "").lower(), now, user.actor.label)
        return f"Revoked {owner}'s token {form.get('token', '')}."

    return await _account_action(request, user, do)


@router.post("/unlock", response_class=HTMLResponse)
async def unlock(request: Request, user: CurrentDeskUser) -> Response:
    """Lift a sign-in lock of an account or an address (audited)."""

    def do(conn: Connection, form: dict[str, str], now: datetime) -> str:
        scope = form.get("scope", "")
        key = form.get("key", "")
        if scope not in (sign_in_repo.ACCOUNT, sign_in_repo.ADDRESS):
            return "Nothing to unlock."
        lifted = sign_in_repo.unlock(conn, scope, key, user.actor.label, now)
        return f"Unlocked {key}." if lifted else f"{key} was not locked."

    return await _account_action(request, user, do)


@router.post("/journal/retry", response_class=HTMLResponse)
async def retry_entry(request: Request, user: CurrentDeskUser) -> Response:
    """Put a set-aside journal entry (or all of them) back for the drain (audited)."""

    def do(conn: Connection, form: dict[str, str], now: datetime) -> str:
        entry = form.get("entry", "")
        if entry == "all":
            ids = journal.retry_audited(conn, None, user.actor.label, now)
        elif entry.isascii() and entry.isdigit() and len(entry) < 19:
            ids = journal.retry_audited(conn, [int(entry)], user.actor.label, now)
        else:
            return "Nothing to retry: no entry was given."
        return f"Back to the drain: {len(ids)} entries ({', '.join(map(str, ids[:20]))})."

    return await _account_action(request, user, do, "journal_done")
