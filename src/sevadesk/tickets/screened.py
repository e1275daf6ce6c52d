"""The Screened out queue: posts triage kept from becoming tickets, within an officer's scope,
and the two decisions an officer takes on one (make a ticket of it, or confirm it is noise).

A post's place is the unit routing named for it when it was screened out
(pipeline/screening.py); an officer sees the posts of the units their scope covers, as
with tickets. Each decision is audited (`triage_decisions`, append-only; a ticket made
also has it in its own audit trail) and is a label for the next `seva train`.
"""

from __future__ import annotations

import base64
import math
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Connection, func, select, update

from sevadesk.channels.errors import PayloadError
from sevadesk.domain import post_text
from sevadesk.domain.messages import Entity, InboundMessage, TriageResult
from sevadesk.domain.revisions import DELETED_TEXT
from sevadesk.pipeline.batch import Item
from sevadesk.pipeline.normalise import ADAPTERS
from sevadesk.pipeline.tickets import open_for_stored
from sevadesk.routing.router import Router
from sevadesk.routing.sla import SlaBook
from sevadesk.store import rollups
from sevadesk.store import tables as t
from sevadesk.store.org_repo import triage_config
from sevadesk.store.users_repo import Actor
from sevadesk.tickets.actions import InvalidRequest, ReadOnlyRole
from sevadesk.tickets.queries import BadCursor, BadFilter, TicketNotFound
from sevadesk.triage.base import ACTIONABLE_KINDS
from sevadesk.triage.rules import TriageConfig

ORDERS = ("newest", "closest")
STATUSES = ("open", "promoted", "noise")
REASONS = ("noise", "praise", "spam", "agency", "rule")
# Where the model's actionable line is unless the organisation sets its own
# (`triage.actionable_threshold` in the org file).
DEFAULT_THRESHOLD = 0.5
COUNT_CAP = 1000  # the desk shows "999+" past this: a count never scans a huge backlog

S, M, TR, U = t.screened_posts.c, t.messages.c, t.triage_results.c, t.units.c


class ScreenedNotFound(TicketNotFound):
    """No such screened-out post, or not one the actor may see (the two are not told apart)."""


class AlreadyTicket(InvalidRequest):
    """Confirming as noise a post an officer already made a ticket of."""


def threshold(conn: Connection) -> float:
    value = getattr(triage_config(conn), "actionable_threshold", None)
    return float(value) if value is not None else DEFAULT_THRESHOLD


def _cursor(order: str, key: float | datetime, message_id: int) -> str:
    value = key.isoformat() if isinstance(key, datetime) else repr(float(key))
    raw = f"s:{order}:{value}:{message_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, order: str) -> tuple[str, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, of, rest = raw.split(":", 2)
        value, _, message_id = rest.rpartition(":")
        if kind != "s" or of != order or not value:
            raise ValueError
        return value, int(message_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadCursor("cursor is not one this server issued for this order") from exc


def _in_scope(actor: Actor) -> Any:
    return S.unit_id.in_(select(U.id).where(U.path.startswith(actor.scope_path, autoescape=True)))


def list_screened(
    conn: Connection,
    actor: Actor,
    order: str = "newest",
    limit: int = 50,
    cursor: str | None = None,
    status: str = "open",
    reason: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the actor's screened-out posts and the next page's cursor (None at the
    end): newest first, or `closest` to the decision line first (the likeliest misses)."""
    if order not in ORDERS:
        raise BadFilter(f"unknown order {order!r} (one of {', '.join(ORDERS)})")
    if status not in STATUSES:
        raise BadFilter(f"unknown status {status!r} (one of {', '.join(STATUSES)})")
    if reason is not None and reason not in REASONS:
        raise BadFilter(f"unknown reason {reason!r} (one of {', '.join(REASONS)})")
    line = threshold(conn)
    distance = func.abs(S.score - line).label("distance")
    q = (
        select(
            S.message_id.label("id"),
            S.reason,
            S.score,
            S.status,
            S.posted_at,
            S.screened_at,
            U.code.label("unit"),
            M.channel,
            TR.masked_text,
            TR.language,
            TR.kind,
            t.tickets.c.ref.label("ticket"),
            distance,
        )
        .join(t.units, U.id == S.unit_id)
        .join(t.messages, M.id == S.message_id)
        .join(t.triage_results, TR.message_id == S.message_id)
        .outerjoin(t.tickets, t.tickets.c.id == S.ticket_id)
        .where(_in_scope(actor), S.status == status)
    )
    if status == "open":  # a post its author deleted leaves the queue: nothing to decide
        q = q.where(M.text != DELETED_TEXT)
    if reason is not None:
        q = q.where(S.reason == reason)
    if order == "newest":
        if cursor:
            value, last = _decode(cursor, order)
            try:
                at = datetime.fromisoformat(value)
            except ValueError as exc:
                raise BadCursor("cursor is not one this server issued") from exc
            q = q.where((S.posted_at < at) | ((S.posted_at == at) & (S.message_id < last)))
        q = q.order_by(S.posted_at.desc(), S.message_id.desc())
    else:
        if cursor:
            value, last = _decode(cursor, order)
            try:
                gap = float(value)
            except ValueError as exc:
                raise BadCursor("cursor is not one this server issued") from exc
            if not math.isfinite(gap):
                raise BadCursor("cursor is not one this server issued")
            q = q.where(
                (func.abs(S.score - line) > gap)
                | ((func.abs(S.score - line) == gap) & (S.message_id < last))
            )
        q = q.order_by(func.abs(S.score - line).asc(), S.message_id.desc())
    rows = conn.execute(q.limit(limit + 1)).all()
    page = []
    for row in rows[:limit]:
        item = dict(row._mapping)
        item["distance"] = round(float(item["distance"]), 4)
        page.append(item)
    next_cursor = None
    if len(rows) > limit:
        last_row = rows[limit - 1]
        key = last_row.posted_at if order == "newest" else float(last_row.distance)
        next_cursor = _cursor(order, key, last_row.id)
    return page, next_cursor


def count_open(conn: Connection, actor: Actor) -> int:
    """Open screened-out posts in the actor's scope, counted up to COUNT_CAP."""
    capped = (
        select(S.message_id)
        .join(t.messages, M.id == S.message_id)
        .where(_in_scope(actor), S.status == "open", M.text != DELETED_TEXT)
        .limit(COUNT_CAP)
    )
    return int(conn.execute(select(func.count()).select_from(capped.subquery())).scalar_one())


def _screened_row(conn: Connection, actor: Actor, message_id: int) -> Any:
    row = conn.execute(
        select(
            S.message_id,
            S.unit_id,
            S.reason,
            S.score,
            S.status,
            S.screened_at,
            S.ticket_id,
            U.path,
            M.ticket_id.label("message_ticket"),
        )
        .join(t.units, U.id == S.unit_id)
        .join(t.messages, M.id == S.message_id)
        .where(S.message_id == message_id)
    ).first()
    if row is None or not row.path.startswith(actor.scope_path):
        raise ScreenedNotFound(f"no screened-out post {message_id}")
    return row


def _writable(conn: Connection, actor: Actor, message_id: int) -> Any:
    if not actor.can_write():
        raise ReadOnlyRole(f"role {actor.role} can read screened-out posts but not decide them")
    return _screened_row(conn, actor, message_id)


def _ref(conn: Connection, ticket_id: int | None) -> str | None:
    if ticket_id is None:
        return None
    return conn.execute(select(t.tickets.c.ref).where(t.tickets.c.id == ticket_id)).scalar()


def _decided(
    conn: Connection,
    actor: Actor,
    message_id: int,
    decision: str,
    note: str | None,
    now: datetime,
    ticket_id: int | None = None,
) -> None:
    conn.execute(
        t.triage_decisions.insert().values(
            message_id=message_id,
            decision=decision,
            actor=actor.label,
            at=now,
            note=note,
            ticket_id=ticket_id,
        )
    )


def _clean(note: str | None) -> str | None:
    note = (note or "").replace("\x00", "").strip()
    return note[:2000] or None


def confirm_noise(
    conn: Connection, actor: Actor, message_id: int, note: str | None, now: datetime
) -> dict[str, Any]:
    """The officer agrees with triage: the post leaves the queue, recorded as a label."""
    row = _writable(conn, actor, message_id)
    if row.status == "promoted":
        ref = _ref(conn, row.ticket_id)
        raise AlreadyTicket(f"post {message_id} is already ticket {ref}: work it there")
    if row.status == "noise":
        return {"id": message_id, "status": "noise", "created": False}
    claimed = conn.execute(
        update(t.screened_posts)
        .where(S.message_id == message_id, S.status == "open")
        .values(status="noise")
    ).rowcount
    if claimed:
        _decided(conn, actor, message_id, "noise", _clean(note), now)
    return {"id": message_id, "status": "noise", "created": bool(claimed)}


def promote(
    conn: Connection, actor: Actor, message_id: int, note: str | None, now: datetime
) -> dict[str, Any]:
    """Make a ticket of a screened-out post, through the pipeline's own path (routing with its
    reason, SLA from the post's time, assignment, acknowledgement, rollups). Promoting twice
    makes one ticket: the second call answers with the first one's reference."""
    row = _writable(conn, actor, message_id)
    existing = row.ticket_id or row.message_ticket
    if existing is None:
        # Claim the post first: of two officers promoting at once, one makes the ticket and
        # the other waits for that row, then finds it promoted.
        claimed = conn.execute(
            update(t.screened_posts)
            .where(S.message_id == message_id, S.status.in_(("open", "noise")))
            .values(status="promoted")
        ).rowcount
        if not claimed:
            existing = conn.execute(select(S.ticket_id).where(S.message_id == message_id)).scalar()
    if existing is not None:
        ticket = conn.execute(
            select(t.tickets.c.ref, t.tickets.c.route_reason, U.code)
            .join(t.units, U.id == t.tickets.c.unit_id)
            .where(t.tickets.c.id == existing)
        ).one()
        return {
            "id": message_id,
            "ref": ticket.ref,
            "unit": ticket.code,
            "route_reason": ticket.route_reason,
            "created": False,
        }
    item = _item(conn, message_id)
    router = Router.load(conn)
    _unit, item.route = router.route(item.msg, item.triage)  # type: ignore[arg-type]
    units = {u.code: u for u in router.units.values()}
    ref = open_for_stored(conn, item, units, now, SlaBook.load(conn))
    why = _clean(note)
    conn.execute(
        update(t.screened_posts).where(S.message_id == message_id).values(ticket_id=item.ticket_id)
    )
    _decided(conn, actor, message_id, "ticket", why, now, item.ticket_id)
    conn.execute(
        t.ticket_events.insert().values(
            ticket_id=item.ticket_id,
            at=now,
            actor=actor.label,
            action="promoted",
            before={"screened": row.reason, "score": row.score},
            after={"ticket": ref, "message_id": message_id},
            note=why or "made a ticket of a post triage screened out",
        )
    )
    rollups.bump(conn, [(rollups.Key.of(row.unit_id, None, row.screened_at), {"promoted": 1})])
    assert item.route is not None
    return {
        "id": message_id,
        "ref": ref,
        "unit": item.route.unit_code,
        "route_reason": item.route.reason,
        "route_detail": item.route.detail,
        "created": True,
    }


def _item(conn: Connection, message_id: int) -> Item:
    """The stored post as the pipeline saw it: read again from its journal entry (mentions,
    hashtags, author), with the words as they are now (an edit), and triage's result made
    actionable."""
    m = conn.execute(select(t.messages).where(M.id == message_id)).one()
    if m.text == DELETED_TEXT:
        raise InvalidRequest("the author deleted this post: there is nothing to make a ticket of")
    msg = _message(conn, m)
    msg.text = m.text
    tr = conn.execute(select(t.triage_results).where(TR.message_id == message_id)).one()
    kind = tr.kind if tr.kind in ACTIONABLE_KINDS else "grievance"
    triage = TriageResult(
        language=tr.language,
        actionable=True,
        score=tr.score,
        kind=kind,
        category=tr.category or _category(conn, m.text),
        urgency="normal" if tr.urgency == "low" else tr.urgency,
        entities=[Entity(e["kind"], e["value"], e["start"], e["end"]) for e in tr.entities],
        masked_text=tr.masked_text,
        model_version=tr.model_version,
    )
    return Item(
        journal_id=m.journal_id or 0,
        msg=msg,
        citizen_id=m.citizen_id,
        triage=triage,
        message_id=message_id,
    )


def _message(conn: Connection, m: Any) -> InboundMessage:
    payload = None
    if m.journal_id is not None:
        payload = conn.execute(
            select(t.journal.c.payload).where(t.journal.c.id == m.journal_id)
        ).scalar()
    adapter = ADAPTERS.get(m.channel)
    if payload and adapter is not None:
        try:
            parsed = adapter(orjson.loads(payload))
            if parsed.external_id == m.external_id:
                return parsed
        except (orjson.JSONDecodeError, PayloadError):
            pass
    # No journal copy to read (emptied, or another post's): what the message row holds.
    return InboundMessage(
        channel=m.channel,
        external_id=m.external_id,
        author_id="",
        text=m.text,
        created_at=m.created_at,
        author_handle=m.author_handle,
        conversation_id=m.conversation_id,
        in_reply_to_id=m.in_reply_to_id,
        mentions=post_text.mentions(m.text),
    )


def _category(conn: Connection, text: str) -> str | None:
    """The category triage gives the words once they are actionable (it gives none to a post
    it screens out)."""
    stored = conn.execute(
        select(t.org_settings.c.value).where(t.org_settings.c.key == "triage")
    ).scalar()
    return _categoriser(orjson.dumps(stored or {}, option=orjson.OPT_SORT_KEYS).decode())(text)


@lru_cache(maxsize=2)
def _categoriser(config_json: str) -> Any:
    from sevadesk.triage.model_triager import ModelTriager

    triager = ModelTriager(config=TriageConfig.of(orjson.loads(config_json)))

    def categorise(text: str) -> str | None:
        return triager.categories([text])[0]

    return categorise
