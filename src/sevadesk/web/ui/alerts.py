"""The desk's alerts: the bell on every desk page, the alerts page, mark read, the SOS sound.

Notifications (SOS, SLA breaches, escalated SOS, transfer offers and their outcomes) are
written by the pipeline and the periodic job; this module shows the ones addressed to the
officer or to a unit in their scope (store/alerts_repo.py). Tabs learn of new alerts by
polling `/desk/alerts/count`, which costs the database nothing while nothing changes: each
process asks for the newest notification id at most once a second whatever the number of
open tabs, and counts a user's alerts again only when that id moved (or the user read some).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import Engine

from sevadesk.store import alerts_repo
from sevadesk.store.alerts_repo import AlertCount
from sevadesk.store.users_repo import Actor
from sevadesk.web.ui.desk import TEMPLATES, _local_path, _not_found
from sevadesk.web.ui.session import COOKIE, CurrentDeskUser, DeskUser, check_csrf, desk_user

router = APIRouter(prefix="/desk", include_in_schema=False)
PAGE = 50
PANEL = 8  # alerts in the bell's panel; the rest on /desk/alerts


class AlertCounts:
    """A process's cache of alert counts, keyed by the newest notification id."""

    def __init__(
        self,
        engine: Engine,
        newest_every: float = 1.0,
        recount_every: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.newest_every = newest_every
        # Read state changed by another process (another worker) shows after this at most.
        self.recount_every = recount_every
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._newest = (-1.0, 0)  # (asked at, newest id)
        self._counts: dict[int, tuple[int, float, AlertCount]] = {}
        self.queries = 0  # how often the database was asked (for tests and the bench)

    def newest(self) -> int:
        with self._lock:
            asked, value = self._newest
            now = self.monotonic()
            if now - asked < self.newest_every:
                return value
            with self.engine.connect() as conn:
                value = alerts_repo.newest_notification_id(conn)
            self.queries += 1
            self._newest = (now, value)
            return value

    def count(self, actor: Actor) -> AlertCount:
        newest = self.newest()
        cached = self._counts.get(actor.id)
        now = self.monotonic()
        if cached and cached[0] == newest and now - cached[1] < self.recount_every:
            return cached[2]
        with self.engine.connect() as conn:
            value = alerts_repo.alert_count(conn, actor)
        self.queries += 1
        self._counts[actor.id] = (newest, now, value)
        return value

    def forget(self, user_id: int) -> None:
        """The user read alerts or changed the sound here: count again on their next ask."""
        self._counts.pop(user_id, None)


class PollSessions:
    """Who is polling: a session looked up once per `every` seconds per process, not once per
    poll, so open tabs cost no database query while nothing changes. A session ended
    elsewhere still reads its own counts (nothing else) for at most that long."""

    def __init__(self, every: float = 15.0, most: int = 20_000) -> None:
        self.every, self.most = every, most
        self._seen: dict[str, tuple[float, DeskUser]] = {}

    def user(self, request: Request) -> DeskUser:
        token = request.cookies.get(COOKIE, "")
        now = time.monotonic()
        seen = self._seen.get(token)
        if token and seen and now - seen[0] < self.every:
            return seen[1]
        user = desk_user(request)  # LoginRequired when the session is gone
        if len(self._seen) >= self.most:
            self._seen.clear()
        self._seen[token] = (now, user)
        return user


def poll_sessions(request: Request) -> PollSessions:
    found: PollSessions | None = getattr(request.app.state, "alert_poll_sessions", None)
    if found is None:
        found = request.app.state.alert_poll_sessions = PollSessions()
    return found


def counts(request: Request) -> AlertCounts:
    state = request.app.state
    found: AlertCounts | None = getattr(state, "alert_counts", None)
    if found is None or found.engine is not state.engine:
        found = state.alert_counts = AlertCounts(state.engine)
    return found


def kind_label(kind: str, t_: Callable[[str], str]) -> str:
    """A notification's kind in the officer's words; a kind this desk does not know yet (a
    colleague's `offer_*`, say) is still shown readably."""
    from sevadesk.web.ui.i18n import TEXTS

    key = f"al_kind_{kind}"
    if key in TEXTS["en"]:
        return t_(key)
    if kind.startswith("offer_"):
        return f"{t_('al_kind_offer')} · {kind.removeprefix('offer_').replace('_', ' ')}"
    return kind.replace("_", " ").capitalize()


def bell(request: Request, user: DeskUser | None) -> dict[str, Any] | None:
    """For the desk's header: the unread counts and the sound setting (from the cache). The
    panel's alerts are fetched when the officer opens it, not with every page."""
    if user is None:
        return None
    try:
        return {"count": counts(request).count(user.actor)}
    except Exception:  # the header must not take a page down with it
        return None


TEMPLATES.env.globals["alerts_bell"] = bell
TEMPLATES.env.globals["alert_kind"] = kind_label


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, user: CurrentDeskUser) -> Response:
    raw = request.query_params.get("before", "")
    before = int(raw) if raw.isdigit() else None
    panel = request.query_params.get("fragment") == "panel"
    with request.app.state.engine.connect() as conn:
        items = alerts_repo.list_alerts(conn, user.actor, PANEL if panel else PAGE, before)
        muted = alerts_repo.sound_muted(conn, user.actor.id)
    older = f"/desk/alerts?{urlencode({'before': items[-1].id})}" if len(items) == PAGE else None
    context = {
        "t": user.t,
        "user": user,
        "lang": user.lang,
        "items": items,
        "older": older,
        "muted": muted,
        "full_page": not panel,
    }
    if panel:
        # The bell's panel on another page: its forms go back to that page.
        context["older"] = None
        context["next_path"] = _local_path(request.query_params.get("next"), request)
        return TEMPLATES.TemplateResponse(request, "alerts_panel.html", context)
    return TEMPLATES.TemplateResponse(request, "alerts.html", context)


@router.get("/alerts/count")
def alerts_count(request: Request) -> JSONResponse:
    """What a tab polls: unread alerts, unread SOS, the newest unread SOS id, muted or not."""
    user = poll_sessions(request).user(request)
    return JSONResponse(
        asdict(counts(request).count(user.actor)), headers={"Cache-Control": "no-store"}
    )


async def _own_change(
    request: Request, user: DeskUser, change: Callable[[Any, dict[str, str]], None]
) -> Response:
    """Change the user's own alert state (no audit: nobody else sees it) and go back."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    check_csrf(user, form)

    def run() -> bool:
        try:
            with request.app.state.engine.begin() as conn:
                change(conn, form)
        except alerts_repo.UnknownAlert:
            return False
        counts(request).forget(user.actor.id)
        return True

    if not await run_in_threadpool(run):
        return _not_found(request, user, "alert")
    back = _local_path(form.get("next"), request) or "/desk/alerts"
    return RedirectResponse(back, status_code=303)


@router.post("/alerts/read-all")
async def read_all(request: Request, user: CurrentDeskUser) -> Response:
    now = request.app.state.clock.now()
    return await _own_change(
        request, user, lambda conn, _form: alerts_repo.mark_all_read(conn, user.actor, now)
    )


@router.post("/alerts/sound")
async def sound(request: Request, user: CurrentDeskUser) -> Response:
    now = request.app.state.clock.now()
    return await _own_change(
        request,
        user,
        lambda conn, form: alerts_repo.set_sound_muted(
            conn, user.actor.id, form.get("muted") == "1", now
        ),
    )


@router.post("/alerts/{alert_id}/read")
async def read_one(alert_id: int, request: Request, user: CurrentDeskUser) -> Response:
    now = request.app.state.clock.now()
    return await _own_change(
        request, user, lambda conn, _form: alerts_repo.mark_read(conn, user.actor, alert_id, now)
    )
