"""The inbox at volume: the live stream (one watcher per process), the rows that changed
since a tab's marker, bulk actions, saved views, and who else has a ticket open.

Every change goes through the same domain actions as the ticket page (scope, the status
machine, the audit trail), one ticket at a time in its own transaction, so one refusal
never undoes the rest and each ticket's audit says who did what.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy import Connection, delete, select

from sevadesk.store import tables as t
from sevadesk.store.users_repo import Actor, session_actor
from sevadesk.tickets import actions
from sevadesk.tickets.queries import (
    QUEUE_COUNT_CAP,
    TicketFilter,
    TicketNotFound,
    assignable_users,
    list_tickets,
    queue_counts,
    ticket_row,
)
from sevadesk.web.live_changes import (
    MAX_CHANGED,
    Mark,
    changed_ticket_ids,
    read_mark,
    watcher_for,
)
from sevadesk.web.malformed import plain_fields
from sevadesk.web.ui.deadlines import deadline
from sevadesk.web.ui.desk import _ACTION_ERRORS, FILTERS, TEMPLATES, _filter, _local_path
from sevadesk.web.ui.session import COOKIE, CurrentDeskUser, DeskUser, check_csrf

router = APIRouter(prefix="/desk", include_in_schema=False)
KEEP_ALIVE_SECONDS = 15.0
SESSION_RECHECK = timedelta(seconds=60)
MAX_BULK = 200
MAX_VIEWS = 30
BULK_ACTIONS = ("assign_me", "assign", "status", "label_add", "label_remove", "merge")

TEMPLATES.env.globals["deadline"] = deadline


# What the inbox page adds: marker, counts, views, colleagues --------------------------------


def _counts(
    conn: Connection, actor: Actor, now: datetime, mark: Mark, state: Any
) -> dict[str, int]:
    """Queue counts, computed again only when a ticket moved (or a minute passed: the
    breaching queue fills as the clock runs). Kept on the app: one database per cache."""
    cache: OrderedDict[tuple[int, str], dict[str, int]] | None = getattr(
        state, "queue_counts", None
    )
    if cache is None:
        cache = state.queue_counts = OrderedDict()
    key = (actor.id, f"{mark}@{now:%Y%m%d%H%M}")
    if key not in cache:
        cache[key] = queue_counts(conn, actor, now)
        while len(cache) > 2000:
            cache.popitem(last=False)
    return cache[key]


def saved_views(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    v = t.saved_views.c
    rows = conn.execute(
        select(v.id, v.name, v.query).where(v.user_id == user_id).order_by(v.name)
    ).all()
    return [dict(r._mapping) for r in rows]


def inbox_context(conn: Connection, user: DeskUser, now: datetime, state: Any) -> dict[str, Any]:
    """Read before the page's rows: a change after the marker reaches the tab as a delta."""
    mark = read_mark(conn)
    return {
        "mark": str(mark),
        "counts": _counts(conn, user.actor, now, mark, state),
        "count_cap": QUEUE_COUNT_CAP,
        "views": saved_views(conn, user.actor.id),
        "colleagues": assignable_users(conn, user.actor.scope_path),
    }


def view_query(query: str) -> str:
    """The inbox query string a view keeps: known filters only, no paging."""
    pairs = [(k, v) for k, v in parse_qsl(query) if k in FILTERS and v]
    return urlencode(pairs)


# The live stream and the delta -------------------------------------------------------------


def rows_since(
    conn: Connection, user: DeskUser, flt: TicketFilter, since: Mark, now: datetime
) -> dict[str, Any]:
    """The inbox rows that changed after `since` for the officer's filter: `rows` (ref, id
    and the row's HTML) still match, `changed` names every ticket in scope that moved (one on
    screen but not in `rows` no longer matches), `reload` when too much moved."""
    mark = read_mark(conn)
    ids = list(conn.execute(changed_ticket_ids(conn, since)).scalars())
    if len(ids) > MAX_CHANGED:
        return {"reload": True, "mark": str(mark)}
    rows: list[dict[str, Any]] = []
    changed: list[str] = []
    if ids:
        rows, _ = list_tickets(conn, user.actor, replace(flt, ids=tuple(ids)), len(ids), None)
        c = t.tickets.c
        changed = list(
            conn.execute(
                select(c.ref)
                .join(t.units, t.units.c.id == c.unit_id)
                .where(
                    c.id.in_(ids),
                    t.units.c.path.startswith(user.actor.scope_path, autoescape=True),
                )
            ).scalars()
        )
    template = TEMPLATES.env.get_template("inbox_row.html")
    context = {"t": user.t, "user": user, "now": now}
    return {
        "mark": str(mark),
        "rows": [
            {"ref": tk["ref"], "id": tk["id"], "html": template.render({**context, "tk": tk})}
            for tk in rows
        ],
        "changed": changed,
    }


# Tabs that would get the same rows share one computation per change (kept on the watcher,
# one per app): the same scope, role and filter (and, for the queues that name them, the same
# officer or unit), the same language.
def _group(user: DeskUser, flt: TicketFilter, query: str) -> tuple[Any, ...]:
    a = user.actor
    return (
        a.scope_path,
        a.role,
        a.id if flt.queue == "mine" else None,
        a.unit_id if flt.queue == "unit" else None,
        query,
        user.lang,
    )


async def _shared_rows(
    shared: OrderedDict[Any, asyncio.Future[dict[str, Any]]],
    key: tuple[Any, ...],
    compute: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    future = shared.get(key)
    if future is None:
        future = asyncio.get_running_loop().create_future()
        shared[key] = future
        while len(shared) > 1000:
            shared.popitem(last=False)
        try:
            future.set_result(await asyncio.to_thread(compute))
        except Exception as exc:
            shared.pop(key, None)
            future.set_exception(exc)
            raise
    return await asyncio.shield(future)


def _sse(event: str, data: dict[str, Any], mark: str | None = None) -> str:
    head = f"id: {mark}\n" if mark else ""
    return f"{head}event: {event}\ndata: {orjson.dumps(data).decode()}\n\n"


@router.get("/events")
async def events(request: Request, user: CurrentDeskUser) -> Response:
    """Server-sent events: the inbox rows that changed, pushed when a ticket in the
    officer's scope moved. The process's one watcher says when; tabs with the same scope and
    filter share one query for the rows; a tab queries alone only to catch up (after a
    reconnect, from Last-Event-ID). The session is checked again every minute."""
    engine, clock = request.app.state.engine, request.app.state.clock
    watcher = watcher_for(request.app.state, engine)
    sub = watcher.subscribe(user.actor.scope_path)
    query = view_query(str(request.url.query))
    token = request.cookies.get(COOKIE, "")
    last = Mark.parse(request.headers.get("last-event-id") or request.query_params.get("since"))

    def compute(since: Mark) -> dict[str, Any]:
        now = clock.now()
        with engine.connect() as conn:
            return rows_since(conn, user, _filter(request, now), since, now)

    def still_signed_in() -> bool:
        with engine.connect() as conn:
            return session_actor(conn, token, clock.now()) is not None

    async def stream() -> Any:
        nonlocal last
        checked = clock.now()
        try:
            yield "retry: 2000\n\n"
            await watcher.ready.wait()
            if last is None:  # no marker given: from now on
                last = watcher.mark
            elif last != watcher.mark:
                # what this tab missed since its page was read (or since its last event)
                caught_up = await asyncio.to_thread(compute, last or Mark())
                last = Mark.parse(caught_up.get("mark")) or last
                yield _sse("rows", caught_up, str(last))
            while True:
                try:
                    change = await asyncio.wait_for(sub.queue.get(), KEEP_ALIVE_SECONDS)
                except TimeoutError:
                    if await request.is_disconnected():
                        break
                    yield ": keep-alive\n\n"
                    change = None
                if clock.now() - checked > SESSION_RECHECK:
                    checked = clock.now()
                    if not await asyncio.to_thread(still_signed_in):
                        yield _sse("signed_out", {})
                        break
                if change is None:
                    continue
                # Every change in its scope reached this tab (none was dropped from a full
                # queue): its rows are the group's rows since the change's own start.
                if not sub.missed:
                    key = (*_group(user, _filter(request, clock.now()), query), str(change.mark))
                    since = change.since
                    data = await _shared_rows(
                        watcher.shared, key, lambda since=since: compute(since)
                    )
                else:  # a change was dropped for this tab: its own catch-up
                    sub.missed = False
                    data = await asyncio.to_thread(compute, last or Mark())
                last = change.mark
                yield _sse("rows", data, str(change.mark))
        finally:
            watcher.unsubscribe(sub)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


@router.get("/changes")
def changes(request: Request, user: CurrentDeskUser) -> Response:
    """The rows that changed since the marker `since` (as the stream pushes them), for a
    client that polls or catches up by itself."""
    now = request.app.state.clock.now()
    since = Mark.parse(request.query_params.get("since"))
    if since is None:
        return JSONResponse({"reload": True})
    with request.app.state.engine.connect() as conn:
        data = rows_since(conn, user, _filter(request, now), since, now)
    return JSONResponse(data, headers={"Cache-Control": "no-store"})


# Bulk actions -------------------------------------------------------------------------------


def _bulk_do(
    action: str, actor: Actor, form: dict[str, str], into: str | None
) -> Callable[[Connection, str, datetime], Any]:
    if action == "assign_me":
        return lambda conn, ref, now: actions.assign(conn, actor, ref, actor.username, now)
    if action == "assign":
        username = form.get("username") or None
        return lambda conn, ref, now: actions.assign(conn, actor, ref, username, now)
    if action == "status":
        target, note = form.get("status", ""), form.get("note") or None
        return lambda conn, ref, now: actions.change_status(conn, actor, ref, target, note, now)
    if action in ("label_add", "label_remove"):
        label = form.get("label", "").strip()
        if not label:
            raise actions.InvalidRequest("name the label")
        add, remove = (label, None) if action == "label_add" else (None, label)
        return lambda conn, ref, now: actions.change_labels(conn, actor, ref, add, remove, now)
    if action == "merge":
        return lambda conn, ref, now: actions.merge(conn, actor, ref, into or "", now)
    raise actions.InvalidRequest(f"unknown action {action!r}")


@dataclass
class BulkOutcome:
    changed: list[str]
    refused: dict[str, list[str]]  # reason -> refs

    def summary(self, t: Callable[[str], str]) -> str:
        text = t("bulk_done").format(changed=len(self.changed), refused=self.refused_count)
        reasons = "; ".join(
            f"{reason} ({', '.join(refs[:5])}{' …' if len(refs) > 5 else ''})"
            for reason, refs in list(self.refused.items())[:4]
        )
        return f"{text}: {reasons}" if reasons else text

    @property
    def refused_count(self) -> int:
        return sum(len(refs) for refs in self.refused.values())


def run_bulk(
    engine: Any, actor: Actor, action: str, refs: list[str], form: dict[str, str], now: datetime
) -> BulkOutcome:
    """Each ticket in a transaction of its own; a refusal (out of scope, a transition the
    status machine forbids, a closed ticket) is reported with its reason."""
    outcome = BulkOutcome([], {})
    if action not in BULK_ACTIONS:
        outcome.refused[f"unknown action {action!r}"] = refs
        return outcome
    into = refs[0] if action == "merge" and refs else None
    if action == "merge":
        if len(refs) < 2:
            outcome.refused[str(actions.InvalidRequest("select two tickets or more"))] = refs
            return outcome
        refs = refs[1:]
    try:
        do = _bulk_do(action, actor, form, into)
    except actions.InvalidRequest as exc:
        outcome.refused[str(exc)] = refs
        return outcome
    for ref in refs:
        try:
            with engine.begin() as conn:
                do(conn, ref, now)
        except TicketNotFound:
            outcome.refused.setdefault("not in your scope", []).append(ref)
        except _ACTION_ERRORS as exc:
            outcome.refused.setdefault(str(exc), []).append(ref)
        else:
            outcome.changed.append(ref)
    return outcome


def _back(request: Request, target: str | None, **params: str) -> str:
    back = _local_path(target, request) or "/desk"
    url = urlsplit(back)
    if not url.path.startswith("/desk"):
        url = urlsplit("/desk")
    query = [(k, v) for k, v in parse_qsl(url.query) if k not in params and k != "fragment"]
    query += list(params.items())
    return f"{url.path}?{urlencode(query)}" if query else url.path


async def _form(request: Request, user: DeskUser) -> tuple[dict[str, str], list[str]]:
    raw = await request.form()
    form = {k: str(v) for k, v in raw.items()}
    check_csrf(user, form)
    refs = list(dict.fromkeys(str(v).strip().upper() for v in raw.getlist("ref") if str(v)))
    return form, refs


@router.post("/bulk")
async def bulk(request: Request, user: CurrentDeskUser) -> Response:
    """The inbox's bulk bar (and each row's "assign to me", which names one ticket)."""
    form, refs = await _form(request, user)
    action = form.get("action", "")
    if form.get("one"):
        refs, action = [form["one"].strip().upper()], "assign_me"
    if problem := plain_fields(form) or plain_fields({r: "" for r in refs}):
        message = problem
    elif not refs:
        message = user.t("bulk_none")
    elif len(refs) > MAX_BULK:
        message = user.t("bulk_too_many").format(n=MAX_BULK)
    else:
        now = request.app.state.clock.now()
        engine = request.app.state.engine
        outcome = await run_in_threadpool(run_bulk, engine, user.actor, action, refs, form, now)
        message = outcome.summary(user.t)
    return RedirectResponse(_back(request, form.get("back"), bulk=message), status_code=303)


# Saved views --------------------------------------------------------------------------------


@router.post("/views")
async def save_view(request: Request, user: CurrentDeskUser) -> Response:
    form, _ = await _form(request, user)
    name = " ".join(form.get("name", "").split())[:60]
    query = view_query(form.get("query", ""))
    if not name or plain_fields({"name": name, "query": query}):
        return RedirectResponse(
            _back(request, f"/desk?{query}", bulk=user.t("view_name")), status_code=303
        )

    def save() -> str | None:
        v = t.saved_views.c
        with request.app.state.engine.begin() as conn:
            count = len(saved_views(conn, user.actor.id))
            conn.execute(delete(t.saved_views).where(v.user_id == user.actor.id, v.name == name))
            if count >= MAX_VIEWS:
                return user.t("view_too_many").format(n=MAX_VIEWS)
            conn.execute(
                t.saved_views.insert().values(
                    user_id=user.actor.id,
                    name=name,
                    query=query,
                    created_at=request.app.state.clock.now(),
                )
            )
        return None

    problem = await run_in_threadpool(save)
    extra = {"bulk": problem} if problem else {}
    return RedirectResponse(_back(request, f"/desk?{query}", **extra), status_code=303)


@router.post("/views/{view_id}/delete")
async def delete_view(view_id: int, request: Request, user: CurrentDeskUser) -> Response:
    form, _ = await _form(request, user)

    def drop() -> None:
        v = t.saved_views.c
        with request.app.state.engine.begin() as conn:
            conn.execute(delete(t.saved_views).where(v.id == view_id, v.user_id == user.actor.id))

    await run_in_threadpool(drop)
    return RedirectResponse(_back(request, form.get("back")), status_code=303)


# Presence: who else has the ticket open -----------------------------------------------------

PRESENCE_TTL = timedelta(seconds=25)  # the page beats every 10 s
STATES = ("viewing", "replying")


@dataclass(frozen=True, slots=True)
class Seen:
    name: str
    unit: str
    state: str
    until: datetime


class Presence:
    """Who has which ticket open, in this process's memory, forgotten after PRESENCE_TTL.
    (Several replicas would share it through Redis; one process needs nothing more.)"""

    def __init__(self) -> None:
        self._by_ticket: dict[str, dict[str, Seen]] = {}

    def beat(self, ref: str, username: str, seen: Seen | None, now: datetime) -> list[Seen]:
        here = self._by_ticket.setdefault(ref, {})
        for name, entry in list(here.items()):
            if entry.until <= now:
                del here[name]
        if seen is None:
            here.pop(username, None)
        else:
            here[username] = seen
        if not here:
            self._by_ticket.pop(ref, None)
        return [s for name, s in sorted(here.items()) if name != username]


def _presence(request: Request) -> Presence:
    found = getattr(request.app.state, "presence", None)
    if found is None:
        found = request.app.state.presence = Presence()
    return found  # type: ignore[no-any-return]


@router.post("/presence/{ref}")
async def presence(ref: str, request: Request, user: CurrentDeskUser) -> Response:
    """The ticket page's heartbeat: `state` viewing | replying | left; answers with the
    others who have the ticket open."""
    form, _ = await _form(request, user)
    state = form.get("state", "viewing")

    def who() -> tuple[str, str] | None:
        with request.app.state.engine.connect() as conn:
            try:
                ticket_row(conn, user.actor, ref)
            except TicketNotFound:
                return None
            name = conn.execute(
                select(t.users.c.display_name).where(t.users.c.id == user.actor.id)
            ).scalar()
        return str(name or user.actor.username), user.actor.unit_code

    found = await run_in_threadpool(who)
    if found is None:
        return JSONResponse({"others": []}, status_code=404)
    now = request.app.state.clock.now()
    seen = Seen(found[0], found[1], state, now + PRESENCE_TTL) if state in STATES else None
    others = _presence(request).beat(ref, user.actor.username, seen, now)
    return JSONResponse(
        {"others": [{"name": s.name, "unit": s.unit, "state": s.state} for s in others]},
        headers={"Cache-Control": "no-store"},
    )
