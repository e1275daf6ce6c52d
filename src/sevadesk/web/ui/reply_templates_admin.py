"""Admin: the reply templates, as a list with a form for each (add, edit, delete). Each
change is recorded in the configuration history with who made it; templates the
organisation file declares are shown as such (applying the file again replaces them)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from sevadesk.domain.reply_templates import CHANNELS, VARIABLES
from sevadesk.store import tables as t
from sevadesk.store.reply_templates_repo import (
    TemplateInput,
    TemplateProblem,
    delete_template,
    list_templates,
    save_template,
)
from sevadesk.web.malformed import plain_fields
from sevadesk.web.ui.desk import TEMPLATES
from sevadesk.web.ui.session import CurrentDeskUser, DeskUser, check_csrf

router = APIRouter(prefix="/desk/admin/templates", include_in_schema=False)
REFUSED = "Only an administrator of the whole organisation may change it."


def _allowed(user: DeskUser) -> bool:
    # As for the org file: templates serve the whole tree, so the top unit's admin edits them.
    return user.actor.role == "admin" and user.actor.scope_path.count("/") <= 2


def _page(request: Request, user: DeskUser, status: int = 200, **context: Any) -> Response:
    with request.app.state.engine.connect() as conn:
        templates = list_templates(conn)
        units = list(conn.execute(select(t.units.c.code).order_by(t.units.c.path)).scalars())
    return TEMPLATES.TemplateResponse(
        request,
        "reply_templates.html",
        {
            "t": user.t,
            "user": user,
            "lang": user.lang,
            "templates": templates,
            "units": units,
            "channels": CHANNELS,
            "variables": VARIABLES,
            **context,
        },
        status_code=status,
    )


@router.get("", response_class=HTMLResponse)
def templates_page(request: Request, user: CurrentDeskUser) -> Response:
    if not _allowed(user):
        return HTMLResponse(REFUSED, 403)
    return _page(request, user)


def _template_id(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


async def _change(request: Request, user: DeskUser, delete: bool) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    check_csrf(user, form)
    if not _allowed(user):
        return HTMLResponse(REFUSED, 403)

    def run() -> Response:
        t_ = user.t
        if plain_fields(form):
            return _page(request, user, 400, problem=t_("tp_bad_body"), form=form)
        template_id = _template_id(form.get("id", ""))
        now = request.app.state.clock.now()
        try:
            with request.app.state.engine.begin() as conn:
                if delete:
                    if template_id is None:
                        raise TemplateProblem("tp_missing")
                    code = delete_template(conn, user.actor.label, template_id, now)
                    done = str(t_("tp_deleted")).format(code=code)
                else:
                    item = TemplateInput.of(form)
                    code = save_template(conn, user.actor.label, item, template_id, now)
                    done = str(t_("tp_saved")).format(code=code)
        except TemplateProblem as problem:
            text = str(t_(problem.key)).format(**problem.params)
            return _page(request, user, 400, problem=text, form=form)
        return _page(request, user, done=done)

    return await run_in_threadpool(run)


@router.post("/save", response_class=HTMLResponse)
async def save(request: Request, user: CurrentDeskUser) -> Response:
    return await _change(request, user, delete=False)


@router.post("/delete", response_class=HTMLResponse)
async def remove(request: Request, user: CurrentDeskUser) -> Response:
    return await _change(request, user, delete=True)
