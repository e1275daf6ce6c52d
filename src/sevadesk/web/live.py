"""The live wallboard: the newest tickets of the viewer's offices, for signed-in staff only.

It is not a public page: a wallboard in a cell shows what arrives as it arrives, and even
masked, a stream of complaints is the agency's working material. A browser signs in to the
desk; a script (the demo's check, a monitoring probe) sends an API token instead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from sevadesk import __version__
from sevadesk.store.users_repo import Actor, actor_for_token, session_actor
from sevadesk.tickets.queries import recent_public
from sevadesk.web.ui.session import COOKIE

router = APIRouter(include_in_schema=False)
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "ui" / "templates"))


def _viewer(request: Request) -> Actor | None:
    """The signed-in user (desk session) or the API token's user; None for a visitor."""
    now = request.app.state.clock.now()
    token = request.cookies.get(COOKIE)
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    with request.app.state.engine.connect() as conn:
        if token and (found := session_actor(conn, token, now)) is not None:
            return found[0]
        if scheme.lower() == "bearer" and bearer.strip():
            return actor_for_token(conn, bearer.strip(), now)
    return None


@router.get("/live/tickets.json", tags=["live"])
def live_tickets(request: Request) -> list[dict[str, Any]]:
    """Newest tickets of the viewer's scope, personal data masked; feeds the live page."""
    viewer = _viewer(request)
    if viewer is None:
        raise HTTPException(
            401,
            "sign in to the desk or send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    with request.app.state.engine.connect() as conn:
        return recent_public(conn, scope_path=viewer.scope_path)


@router.get("/", response_class=HTMLResponse)
def live_page(request: Request) -> Response:
    viewer = _viewer(request)
    if viewer is None:
        return RedirectResponse("/desk/login", status_code=303)
    return TEMPLATES.TemplateResponse(
        request, "live.html", {"version": __version__, "viewer": viewer}
    )
