"""Admin: the users of the admin's offices, managed through forms — add, change role or
unit, reset the password, deactivate and reactivate.

Any admin may manage the users of the units under their own (an admin of one agency never
sees nor touches another agency's users); every change is checked by `users_repo`, hashed
with argon2 as the sign-in checks it, and written to the accounts' audit trail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection, select

from sevadesk.domain.passwords import MIN_LENGTH
from sevadesk.store import account_events
from sevadesk.store import tables as t
from sevadesk.store.users_repo import (
    ROLES,
    UserRefused,
    change_user,
    create_user,
    list_users,
    reset_password,
    set_active,
)
from sevadesk.web.ui.desk import TEMPLATES
from sevadesk.web.ui.session import CurrentDeskUser, DeskUser, check_csrf

router = APIRouter(prefix="/desk/admin/users", include_in_schema=False)


def _refused(user: DeskUser) -> Response | None:
    if user.actor.role != "admin":
        return HTMLResponse(user.t("u_admins_only"), 403)
    return None


def _page(
    request: Request,
    user: DeskUser,
    status: int = 200,
    done: str | None = None,
    error: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    with request.app.state.engine.connect() as conn:
        users = list_users(conn, user.actor.scope_path)
        un = t.units.c
        units = conn.execute(
            select(un.code, un.name)
            .where(un.path.startswith(user.actor.scope_path, autoescape=True))
            .order_by(un.path)
        ).all()
        events = account_events.recent(conn, 30, [u["username"] for u in users])
    return TEMPLATES.TemplateResponse(
        request,
        "admin_users.html",
        {
            "t": user.t,
            "user": user,
            "lang": user.lang,
            "users": users,
            "units": units,
            "roles": ROLES,
            "events": events,
            "done": done,
            "error": error,
            "values": values or {},
            "min_length": MIN_LENGTH,
        },
        status_code=status,
    )


@router.get("", response_class=HTMLResponse)
def users_page(request: Request, user: CurrentDeskUser) -> Response:
    return _refused(user) or _page(request, user)


async def _change(
    request: Request,
    user: DeskUser,
    do: Callable[[Connection, dict[str, str], datetime], str],
    keep: tuple[str, ...] = (),
) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    check_csrf(user, form)
    if (refused := _refused(user)) is not None:
        return refused

    def run() -> Response:
        try:
            with request.app.state.engine.begin() as conn:
                done = do(conn, form, request.app.state.clock.now())
        except UserRefused as exc:
            # What the admin typed stays in the form (never a password).
            values = {k: form.get(k, "") for k in keep}
            return _page(request, user, 400, error=str(exc), values=values)
        return _page(request, user, done=done)

    return await run_in_threadpool(run)


@router.post("/add", response_class=HTMLResponse)
async def add_user(request: Request, user: CurrentDeskUser) -> Response:
    def do(conn: Connection, form: dict[str, str], now: datetime) -> str:
        username = form.get("username", "").strip()
        create_user(
            conn,
            user.actor,
            username,
            form.get("display_name", ""),
            form.get("role", ""),
            form.get("unit", ""),
            form.get("password", ""),
            now,
        )
        return user.t("u_added").format(username=username)

    return await _change(request, user, do, ("username", "display_name", "role", "unit"))


@router.post("/{username}/change", response_class=HTMLResponse)
async def change(username: str, request: Request, user: CurrentDeskUser) -> Response:
    def do(conn: Connection, form: dict[str, str], now: datetime) -> str:
        what = change_user(
            conn, user.actor, username, form.get("role", ""), form.get("unit", ""), now
        )
        return f"{username}: {what}."

    return await _change(request, user, do)


@router.post("/{username}/password", response_class=HTMLResponse)
async def password(username: str, request: Request, user: CurrentDeskUser) -> Response:
    def do(conn: Connection, form: dict[str, str], now: datetime) -> str:
        reset_password(conn, user.actor, username, form.get("password", ""), now)
        return user.t("u_reset").format(username=username)

    return await _change(request, user, do)


@router.post("/{username}/active", response_class=HTMLResponse)
async def active(username: str, request: Request, user: CurrentDeskUser) -> Response:
    def do(conn: Connection, form: dict[str, str], now: datetime) -> str:
        on = form.get("active") == "1"
        set_active(conn, user.actor, username, on, now)
        return user.t("u_reactivated" if on else "u_deactivated").format(username=username)

    return await _change(request, user, do)
