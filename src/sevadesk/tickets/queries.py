"""Read tickets within an actor's scope: filtered lists with keyset pagination, one in full."""

from __future__ import annotations

import base64
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, func, literal_column, select, table, true
from sqlalchemy import column as sql_column

from sevadesk.domain.reply_templates import TemplateRow, suitable
from sevadesk.domain.units import ancestor_paths
from sevadesk.routing.incidents import incident_title
from sevadesk.store import tables as t
from sevadesk.store.users_repo import Actor
from sevadesk.triage.entities import extract
from sevadesk.triage.masking import mask


class TicketNotFound(LookupError):
    """No such ticket, or not one the actor may see (the two are not told apart)."""


class BadCursor(ValueError):
    """A pagination cursor that this server did not issue."""


class BadFilter(ValueError):
    """A filter value the list does not know."""


@dataclass(frozen=True, slots=True)
class TicketFilter:
    unit: str | None = None
    status: str | None = None
    category: str | None = None
    priority: str | None = None
    kind: str | None = None
    language: str | None = None
    since: datetime | None = None
    channel: str | None = None
    urgency: str | None = None
    # mine | unit | unassigned | sos | breaching (needs `now`)
    queue: str | None = None
    search: str | None = None
    now: datetime | None = None
    label: str | None = None
    # newest (default; the breaching queue: due) | oldest | due (next deadline first) | priority
    sort: str | None = None
    # Only these tickets (the live inbox asks for the rows that changed).
    ids: tuple[int, ...] | None = None


_OPEN = ("new", "assigned", "in_progress", "awaiting_citizen")
QUEUES = ("mine", "unit", "unassigned", "sos", "breaching")


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"t:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = raw.partition(":")
        if kind != "t":
            raise ValueError
        return int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadCursor("cursor is not one this server issued") from exc


_COLUMNS = (
    t.tickets.c.id,
    t.tickets.c.ref,
    t.tickets.c.status,
    t.tickets.c.priority,
    t.tickets.c.kind,
    t.tickets.c.category,
    t.tickets.c.urgency,
    t.tickets.c.language,
    t.tickets.c.channel,
    t.tickets.c.summary,
    t.tickets.c.route_reason,
    t.tickets.c.route_detail,
    t.tickets.c.labels,
    t.tickets.c.message_count,
    t.tickets.c.opened_at,
    t.tickets.c.updated_at,
    t.tickets.c.first_response_at,
    t.tickets.c.resolved_at,
    t.tickets.c.closed_at,
    t.tickets.c.first_response_due,
    t.tickets.c.resolution_due,
    t.tickets.c.escalation_level,
    t.units.c.code.label("unit"),
    t.units.c.path.label("unit_path"),
    t.users.c.username.label("assignee"),
)


def next_due() -> Any:
    """The ticket's next SLA deadline: the first response while none was sent, else the
    resolution (the earlier of the two if both are still ahead)."""
    c = t.tickets.c
    return case(
        (
            c.first_response_at.is_(None) & c.first_response_due.is_not(None),
            case(
                (c.resolution_due.is_(None), c.first_response_due),
                (c.first_response_due <= c.resolution_due, c.first_response_due),
                else_=c.resolution_due,
            ),
        ),
        else_=c.resolution_due,
    )


def _base():  # type: ignore[no-untyped-def]
    return (
        select(*_COLUMNS)
        .join(t.units, t.units.c.id == t.tickets.c.unit_id)
        .outerjoin(t.users, t.users.c.id == t.tickets.c.assignee_id)
    )


def _row(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    data.pop("unit_path", None)
    return data


def _words(text: str) -> list[str]:
    """Words as the index cuts them: letters, digits and combining marks (a Devanagari vowel
    sign belongs to its word), everything else a separator."""
    words, current = [], []
    for ch in text:
        if ch.isalnum() or unicodedata.category(ch).startswith("M"):
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


SORTS = ("newest", "oldest", "due", "priority")
SMALL_SCOPE_UNITS = 20  # a scope of this many units or fewer is read through the unit index


def _has_label(conn: Connection, label: str) -> Any:
    c = t.tickets.c
    label = label.replace("\x00", "")
    if conn.dialect.name == "postgresql":
        return c.labels.op("@>")(func.to_jsonb(func.json_build_array(label)))
    each = func.json_each(c.labels).table_valued("value")
    return select(each.c.value).where(each.c.value == label).exists()


def _matches(conn: Connection, text: str) -> Any:
    """Full-text match on the ticket's (masked) text, every word required, the last as a
    prefix; or the exact reference. FTS5 on SQLite, tsvector on PostgreSQL (migration 0011)."""
    c = t.tickets.c
    text = text.replace("\x00", "")  # PostgreSQL refuses NUL in text parameters
    words = _words(text.lower())[:8]
    by_ref = c.ref == text.strip().upper()
    if not words:
        return by_ref
    if conn.dialect.name == "postgresql":
        query = " & ".join([*words[:-1], words[-1] + ":*"])
        return by_ref | func.to_tsvector("simple", c.summary).op("@@")(
            func.to_tsquery("simple", query)
        )
    match = _fts_match(text)
    if match is None:
        return by_ref
    fts = table("tickets_fts", sql_column("rowid"))
    ids = select(fts.c.rowid).where(literal_column("tickets_fts").op("MATCH")(match))
    return by_ref | c.id.in_(ids)


_REF = re.compile(r"^[A-Za-z]{2,6}-\d{1,9}$")


def _fts_match(text: str) -> str | None:
    """The FTS5 query for `text`: each word quoted (nothing in it is FTS syntax), the last a
    prefix; None for a ticket reference or text without words."""
    text = text.replace("\x00", "").strip()
    words = _words(text.lower())[:8]
    if not words or _REF.match(text):
        return None
    return (" ".join(f'"{w}"' for w in words[:-1]) + f' "{words[-1]}"*').strip()


BREACHING_HOURS = 1  # "breaching soon": a deadline passed or within the hour


def _breaching(soon: datetime) -> Any:
    c = t.tickets.c
    return ((c.first_response_at.is_(None)) & (c.first_response_due <= soon)) | (
        c.resolution_due <= soon
    )


def _queue(q: Any, flt: TicketFilter, actor: Actor) -> Any:
    c = t.tickets.c
    if flt.queue is None:
        return q
    if flt.queue == "mine":
        return q.where(c.assignee_id == actor.id, c.status.in_(_OPEN))
    if flt.queue == "unit":
        return q.where(c.unit_id == actor.unit_id, c.status.in_(_OPEN))
    if flt.queue == "unassigned":
        return q.where(c.assignee_id.is_(None), c.position_id.is_(None), c.status.in_(_OPEN))
    if flt.queue == "sos":
        return q.where(c.urgency == "sos", c.status.in_(_OPEN))
    if flt.queue == "breaching":
        from datetime import timedelta

        now = flt.now or datetime.now().astimezone()
        return q.where(c.status.in_(_OPEN), _breaching(now + timedelta(hours=BREACHING_HOURS)))
    raise BadFilter(f"unknown queue {flt.queue!r} (one of {', '.join(QUEUES)})")


def list_tickets(
    conn: Connection, actor: Actor, flt: TicketFilter, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first; returns the page and the cursor of the next page (None at the end)."""
    scope = actor.scope_path
    if flt.unit:
        path = conn.execute(select(t.units.c.path).where(t.units.c.code == flt.unit)).scalar()
        if path is None or not path.startswith(scope):
            return [], None
        scope = path
    q = _base().where(t.units.c.path.startswith(scope, autoescape=True))
    c = t.tickets.c
    # A small scope (a district and its stations) names its units outright, so the database
    # reads them through the (unit, status, id) index instead of walking all tickets by id.
    units = (
        conn.execute(
            select(t.units.c.id)
            .where(t.units.c.path.startswith(scope, autoescape=True))
            .limit(SMALL_SCOPE_UNITS + 1)
        )
        .scalars()
        .all()
    )
    small = len(units) <= SMALL_SCOPE_UNITS
    if small:
        q = q.where(c.unit_id.in_(units))
    for column, value in (
        (c.status, flt.status),
        (c.category, flt.category),
        (c.priority, flt.priority),
        (c.kind, flt.kind),
        (c.language, flt.language),
        (c.channel, flt.channel),
        (c.urgency, flt.urgency),
    ):
        if value is not None:
            q = q.where(column == value)
    sort = flt.sort or ("due" if flt.queue == "breaching" else "newest")
    soon: datetime | None = None
    if flt.queue == "breaching" and sort == "due" and not small:
        # Each deadline's bound goes to its own branch of `_by_deadline` (an OR of the two
        # would make the database collect every match before ordering).
        from datetime import timedelta

        soon = (flt.now or datetime.now().astimezone()) + timedelta(hours=BREACHING_HOURS)
        q = q.where(c.status.in_(_OPEN))
    else:
        q = _queue(q, flt, actor)
    if flt.ids is not None:
        q = q.where(c.id.in_(flt.ids))
    fts_order = None
    if flt.search:
        match = _fts_match(flt.search) if conn.dialect.name == "sqlite" else None
        if match is not None and sort in ("newest", "oldest"):
            # Walk the search index in id order and stop at the page: a common word in a
            # million tickets costs a page, not the whole match list.
            fts = table("tickets_fts", sql_column("rowid"))
            q = q.join(fts, fts.c.rowid == c.id).where(
                literal_column("tickets_fts").op("MATCH")(match)
            )
            fts_order = fts.c.rowid
        else:
            q = q.where(_matches(conn, flt.search))
    if flt.label:
        q = q.where(_has_label(conn, flt.label))
    if flt.since is not None:
        q = q.where(c.opened_at >= flt.since)
    if sort not in SORTS:
        raise BadFilter(f"unknown sort {sort!r} (one of {', '.join(SORTS)})")
    if cursor and sort in ("newest", "oldest"):
        last = decode_cursor(cursor)
        q = q.where(c.id < last if sort == "newest" else c.id > last)
    if sort == "due" and not small:
        return _by_deadline(conn, q, limit, soon), None
    key = fts_order if fts_order is not None else c.id
    order = {
        "newest": [key.desc()],
        "oldest": [key.asc()],
        "priority": [c.priority.asc(), c.id.desc()],
        # a few offices' tickets: sorted by the database (read through the unit index)
        "due": [next_due().is_(None), next_due().asc(), c.id.asc()],
    }[sort]
    rows = conn.execute(q.order_by(*order).limit(limit + 1)).all()
    if sort not in ("newest", "oldest"):
        rows = rows[:limit]  # keyset pages follow the id; other orders show the first page
    page = [_row(r) for r in rows[:limit]]
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return page, next_cursor


def _next_due(row: Any) -> datetime | None:
    first, resolution = row.first_response_due, row.resolution_due
    if row.first_response_at is None and first is not None:
        return first if resolution is None or first <= resolution else resolution
    return resolution  # type: ignore[no-any-return]


def _by_deadline(
    conn: Connection, q: Any, limit: int, soon: datetime | None = None
) -> list[dict[str, Any]]:
    """The first `limit` tickets of `q` by next deadline (`next_due`), soonest first; with
    `soon`, only those breaching by then (the breaching-soon queue).

    Sorting every match by the computed deadline reads them all (a backlog of 250,000 open
    tickets at a million); instead each deadline is read in its own index's order, `limit`
    of each, and the two lists merged. Exact: a ticket among the first `limit` by its next
    deadline is among the first `limit` of the list its deadline comes from, since every
    ticket ahead of it there is also ahead of it overall (a next deadline is never later
    than either deadline)."""
    c = t.tickets.c
    unanswered = q.where(c.first_response_at.is_(None), c.first_response_due.is_not(None))
    resolving = q.where(c.resolution_due.is_not(None))
    if soon is not None:
        unanswered = unanswered.where(c.first_response_due <= soon)
        resolving = resolving.where(c.resolution_due <= soon)
    found: dict[int, Any] = {}
    for branch in (
        unanswered.order_by(c.first_response_due, c.id).limit(limit),
        resolving.order_by(c.resolution_due, c.id).limit(limit),
    ):
        for row in conn.execute(branch):
            found.setdefault(row.id, row)
    rows = sorted(found.values(), key=lambda r: (_next_due(r), r.id))[:limit]
    if len(rows) < limit and soon is None:  # then tickets without a deadline, newest first
        rows += conn.execute(
            q.where(next_due().is_(None)).order_by(c.id.desc()).limit(limit - len(rows))
        ).all()
    return [_row(r) for r in rows]


def _scope_units(conn: Connection, scope: str) -> list[int] | None:
    units = (
        conn.execute(
            select(t.units.c.id).where(t.units.c.path.startswith(scope, autoescape=True)).limit(21)
        )
        .scalars()
        .all()
    )
    return list(units) if len(units) <= 20 else None


QUEUE_COUNT_CAP = 1000  # a queue's count stops here ("1000+"): each count reads at most this


def queue_counts(conn: Connection, actor: Actor, now: datetime) -> dict[str, int]:
    """Open tickets per queue of the inbox's navigation (mine, unit, unassigned, sos,
    breaching, and all open ones), in one statement over the actor's scope. Each count stops
    at QUEUE_COUNT_CAP, so a deployment-wide scope with a big backlog reads a few thousand
    index entries, not every open ticket (indexes of migration 0026)."""
    from datetime import timedelta

    c = t.tickets.c
    soon = now + timedelta(hours=BREACHING_HOURS)
    units = None if actor.covers_deployment else _scope_units(conn, actor.scope_path)

    def ids(*conditions: Any) -> Any:
        inner = select(c.id).select_from(t.tickets).where(c.status.in_(_OPEN), *conditions)
        if units is not None:
            inner = inner.where(c.unit_id.in_(units))
        elif not actor.covers_deployment:
            inner = inner.join(t.units, t.units.c.id == c.unit_id).where(
                t.units.c.path.startswith(actor.scope_path, autoescape=True)
            )
        return inner.limit(QUEUE_COUNT_CAP)

    def counted(inner: Any) -> Any:
        return select(func.count()).select_from(inner.subquery()).scalar_subquery()

    # Breaching soon is two deadlines: each read through its own index and capped, then
    # united (an OR would collect every match of both before the cap applies).
    first = ids(c.first_response_at.is_(None), c.first_response_due <= soon)
    resolution = ids(c.resolution_due <= soon)
    both = select(first.subquery().c.id).union(select(resolution.subquery().c.id))
    counts = {
        "mine": counted(ids(c.assignee_id == actor.id)),
        "unit": counted(ids(c.unit_id == actor.unit_id)),
        "unassigned": counted(ids(c.assignee_id.is_(None), c.position_id.is_(None))),
        "sos": counted(ids(c.urgency == "sos")),
        # (A small scope reads its few units' open tickets through the unit index instead.)
        "breaching": counted(both) if units is None else counted(ids(_breaching(soon))),
        "all": counted(ids()),
    }
    row = conn.execute(select(*(q.label(name) for name, q in counts.items()))).one()
    return {k: min(int(v or 0), QUEUE_COUNT_CAP) for k, v in row._mapping.items()}


def ticket_row(conn: Connection, actor: Actor | None, ref: str) -> dict[str, Any]:
    """The ticket with its unit path; raises TicketNotFound outside the actor's scope."""
    row = conn.execute(
        _base()
        .add_columns(
            t.tickets.c.unit_id,
            t.tickets.c.assignee_id,
            t.tickets.c.citizen_id,
            t.tickets.c.sla_paused_at,
            t.tickets.c.incident_id,
        )
        .where(t.tickets.c.ref == ref)
    ).first()
    if row is None or (actor is not None and not row.unit_path.startswith(actor.scope_path)):
        raise TicketNotFound(f"no ticket {ref}")
    return dict(row._mapping)


def ticket_detail(conn: Connection, actor: Actor, ref: str) -> dict[str, Any]:
    ticket = ticket_row(conn, actor, ref)
    m, tr = t.messages.c, t.triage_results.c
    messages = conn.execute(
        select(
            m.id,
            m.channel,
            m.external_id,
            m.direction,
            m.author_handle,
            m.text,
            m.created_at,
            m.in_reply_to_id,
            tr.masked_text,
            tr.language,
            tr.kind,
            tr.category,
            tr.urgency,
            tr.actionable,
            tr.score,
            tr.entities,
            tr.model_version,
        )
        .outerjoin(t.triage_results, t.triage_results.c.message_id == m.id)
        .where(m.ticket_id == ticket["id"])
        .order_by(m.created_at, m.id)
    ).all()
    e = t.ticket_events.c
    events = conn.execute(
        select(e.id, e.at, e.actor, e.action, e.before, e.after, e.note)
        .where(e.ticket_id == ticket["id"])
        .order_by(e.id)
    ).all()
    o = t.outbox.c
    replies = conn.execute(
        select(
            o.id,
            o.idempotency_key,
            o.body,
            o.status,
            o.created_by,
            o.created_at,
            o.sent_at,
            o.last_error,
            o.channel,
            o.kind,
            o.attempts,
            o.external_id,
            o.delivery_status,
            o.delivery_updated_at,
        )
        .where(o.ticket_id == ticket["id"])
        .order_by(o.id)
    ).all()
    for key in ("unit_path", "unit_id", "assignee_id", "citizen_id", "sla_paused_at"):
        ticket.pop(key, None)
    ticket["messages"] = [dict(r._mapping) for r in messages]
    ticket["events"] = [dict(r._mapping) for r in events]
    ticket["replies"] = [dict(r._mapping) for r in replies]
    return ticket


def _public(row: Any, text: str) -> dict[str, Any]:
    """A row for a public view: the words of a ticket sent privately are left out."""
    data = dict(row._mapping)
    if data.pop("sent_privately"):
        data[text] = None
    return data


def recent_public(
    conn: Connection, limit: int = 50, scope_path: str | None = None
) -> list[dict[str, Any]]:
    """Newest tickets (of the units under `scope_path`) with masked text only, none of a
    private channel's: for the staff's live wallboard, which a passer-by may see too."""
    c = t.tickets.c
    rows = conn.execute(
        select(
            c.sent_privately,
            c.ref,
            c.status,
            c.priority,
            c.kind,
            c.category,
            c.language,
            c.summary,
            c.opened_at,
            c.message_count,
            t.units.c.name.label("unit"),
        )
        .join(t.units, t.units.c.id == c.unit_id)
        .where(
            t.units.c.path.startswith(scope_path, autoescape=True)
            if scope_path is not None
            else true()
        )
        .order_by(c.id.desc())
        .limit(limit)
    ).all()
    return [_public(r, "summary") for r in rows]


def my_queue(
    conn: Connection, actor: Actor, now: datetime, limit: int = 100
) -> list[dict[str, Any]]:
    """Open tickets on the posts the actor holds now, plus tickets given to them by name."""
    from sevadesk.domain.status import OPEN_STATUSES
    from sevadesk.routing.assignment import held_now

    h = t.position_holders.c
    held = select(h.position_id).where(h.user_id == actor.id, held_now(now))
    c = t.tickets.c
    rows = conn.execute(
        _base()
        .where(c.status.in_([s.value for s in OPEN_STATUSES]))
        .where((c.position_id.in_(held)) | (c.assignee_id == actor.id))
        .order_by(c.priority, c.id)
        .limit(limit)
    ).all()
    return [_row(r) for r in rows]


def incident_detail(conn: Connection, actor: Actor, ref: str) -> dict[str, Any]:
    """A mass incident as the actor may see it: only its tickets inside their scope.

    An incident spans whichever offices its citizens' posts were routed to (a train robbed
    between two districts, a campaign copied across the state), and belongs to the unit of
    its first ticket only for the record. Each office sees, counts and answers its own part;
    a supervisor whose scope covers every part sees the whole. Visible when one of its
    tickets is in scope, or the incident's own unit is."""
    i = t.incidents.c
    row = conn.execute(
        select(
            i.id,
            i.ref,
            i.key,
            i.status,
            i.first_seen,
            i.last_seen,
            t.units.c.code.label("unit"),
            t.units.c.path,
        )
        .join(t.units, t.units.c.id == i.unit_id)
        .where(i.ref == ref)
    ).first()
    if row is None:
        raise TicketNotFound(f"no incident {ref}")
    tickets = conn.execute(
        _base()
        .where(
            t.tickets.c.incident_id == row.id,
            t.units.c.path.startswith(actor.scope_path, autoescape=True),
        )
        .order_by(t.tickets.c.id)
    ).all()
    own = row.path.startswith(actor.scope_path)
    if not tickets and not own:
        raise TicketNotFound(f"no incident {ref}")
    opened = [tk.opened_at for tk in tickets]
    return {
        "ref": row.ref,
        "key": row.key,
        "title": incident_title(row.key, len(tickets)),
        "status": row.status,
        "ticket_count": len(tickets),
        "first_seen": min(opened, default=row.first_seen),
        "last_seen": max(opened, default=row.last_seen),
        "unit": row.unit if own else None,
        "tickets": [_row(tk) for tk in tickets],
    }


def organisation_path(conn: Connection, path: str) -> str:
    """The organisation the unit at `path` belongs to: the highest unit above it reached
    without crossing a change of ticket prefix (each agency numbers its own tickets, RLY-…,
    UPP-…; the deployment above them has its own). The top unit's organisation is all."""
    chain = ancestor_paths(path)
    u = t.units.c
    prefixes = dict(conn.execute(select(u.path, u.ticket_prefix).where(u.path.in_(chain))).all())
    own, top = prefixes.get(path), path
    for above in reversed(chain[:-1]):
        if prefixes.get(above) != own:
            break
        top = above
    return top


def assignable_users(conn: Connection, unit_path: str) -> list[str]:
    """Officers who may work a ticket of the unit at `unit_path`: those inside it and those
    whose scope covers it (the rule `actions.assign` checks), never another office's."""
    u, un = t.users.c, t.units.c
    rows = conn.execute(
        select(u.username)
        .join(t.units, un.id == u.unit_id)
        .where(
            u.active.is_(True),
            u.role.in_(["agent", "supervisor"]),
            un.path.in_(ancestor_paths(unit_path)) | un.path.startswith(unit_path, autoescape=True),
        )
        .order_by(u.username)
    )
    return list(rows.scalars())


def reply_templates(
    conn: Connection, unit_path: str, language: str | None, channel: str
) -> list[TemplateRow]:
    """Templates an officer is offered for a ticket of the unit at `unit_path` in `language`
    on `channel`: of the shared ones and those of the unit and the units above it, the ones
    for its language and channel or for any (domain/reply_templates.py chooses)."""
    rt, un = t.reply_templates.c, t.units.c
    mine = select(un.id).where(un.path.in_(ancestor_paths(unit_path)))
    rows = conn.execute(
        select(rt.code, rt.language, rt.channel, rt.body, rt.unit_id)
        .where(
            rt.unit_id.is_(None) | rt.unit_id.in_(mine),
            rt.channel.is_(None) | (rt.channel == channel),
        )
        .order_by(rt.code, rt.id)
    ).all()
    return suitable(
        [TemplateRow(r.code, r.language, r.channel, r.body, r.unit_id is not None) for r in rows],
        language,
        channel,
    )


def accountability(conn: Connection, actor: Actor) -> list[dict[str, Any]]:
    """Per unit in scope: tickets, reopenings, appeals and bounced transfers (for supervisors)."""
    c, u = t.tickets.c, t.units.c
    rows = conn.execute(
        select(
            u.code,
            func.count().label("tickets"),
            func.sum(c.reopen_count).label("reopens"),
            func.sum(c.appeal_count).label("appeals"),
            func.sum(c.bounce_count).label("bounces"),
        )
        .join(t.units, u.id == c.unit_id)
        .where(u.path.startswith(actor.scope_path, autoescape=True))
        .group_by(u.code)
        .order_by(u.code)
    ).all()
    return [
        {
            "unit": r.code,
            "tickets": int(r.tickets),
            "reopens": int(r.reopens or 0),
            "appeals": int(r.appeals or 0),
            "bounces": int(r.bounces or 0),
        }
        for r in rows
    ]


PLACE = ("lat", "long", "address", "zipcode", "media_url")


def public_tickets(
    conn: Connection,
    refs: list[str] | None = None,
    category: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    statuses: list[str] | None = None,
    limit: int = 200,
    categories: list[str | None] | None = None,
    offset: int = 0,
    notes: bool = False,
) -> list[dict[str, Any]]:
    """Tickets as anyone may see them (Open311, status pages): masked text, no citizen, and
    no words nor place at all of a ticket sent privately (WhatsApp, an X DM, the web form).

    `categories` may hold None for tickets not yet categorised; `notes` adds each ticket's
    public `status_notes` (one more query for the page)."""
    c = t.tickets.c
    query = (
        select(
            c.id,
            c.sent_privately,
            c.ref,
            c.status,
            c.category,
            c.summary.label("masked_text"),
            c.opened_at,
            c.updated_at,
            c.resolution_due,
            c.resolved_at,
            *(c[name] for name in PLACE),
            t.units.c.name.label("unit_name"),
        )
        .join(t.units, t.units.c.id == c.unit_id)
        .order_by(c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if refs is not None:
        query = query.where(c.ref.in_(refs))
    if category:
        query = query.where(c.category == category)
    if categories is not None:
        named = [code for code in categories if code is not None]
        wanted = c.category.in_(named)
        query = query.where(wanted | c.category.is_(None) if None in categories else wanted)
    if start is not None:
        query = query.where(c.opened_at >= start)
    if end is not None:
        query = query.where(c.opened_at <= end)
    if statuses:
        query = query.where(c.status.in_(statuses))
    rows = conn.execute(query).all()
    found = []
    for row in rows:
        data = dict(row._mapping)
        if data["sent_privately"]:
            data.update(dict.fromkeys(PLACE))
        found.append(_public(row, "masked_text") | {k: data[k] for k in PLACE})
    if notes:
        said = public_status_notes(conn, [r["id"] for r in found if r["masked_text"] is not None])
        for r in found:
            r["status_notes"] = said.get(r["id"])
    return found


_CLOSING = ("resolved", "closed", "rejected")


def public_status_notes(conn: Connection, ticket_ids: list[int]) -> dict[int, str]:
    """What the office said in public about each ticket (see `public_answers`), masked."""
    return {tid: text for tid, (text, _at) in public_answers(conn, ticket_ids).items()}


def public_answers(conn: Connection, ticket_ids: list[int]) -> dict[int, tuple[str, datetime]]:
    """What the office said in public about each ticket, personal data masked, with when:
    the note it resolved, closed or rejected the ticket with, or its latest public reply,
    whichever came last. A later change to an open status clears a closing note (the ticket
    was reopened); notes on other changes and internal notes are never public."""
    if not ticket_ids:
        return {}
    e = t.ticket_events.c
    said: dict[int, tuple[str, datetime] | None] = {}
    events = conn.execute(
        select(e.ticket_id, e.action, e.after, e.note, e.at)
        .where(e.ticket_id.in_(ticket_ids), e.action.in_(["status_changed", "reply_queued"]))
        .order_by(e.id)
    )
    for ticket_id, action, after, note, at in events:
        if action == "reply_queued":
            if note and note.strip():
                said[ticket_id] = (note.strip(), at)
        elif (after or {}).get("status") in _CLOSING and note and note.strip():
            said[ticket_id] = (note.strip(), at)
        else:
            said[ticket_id] = None
    return {
        tid: (mask(found[0], extract(found[0])), found[1]) for tid, found in said.items() if found
    }


def ticket_of_message(conn: Connection, channel: str, external_id: str) -> str | None:
    """The reference of the ticket a message was filed under, if it opened or joined one."""
    m = t.messages.c
    ref: str | None = conn.execute(
        select(t.tickets.c.ref)
        .join(t.messages, m.ticket_id == t.tickets.c.id)
        .where(m.channel == channel, m.external_id == external_id)
    ).scalar()
    return ref


def outbox_entries(
    conn: Connection, actor: Actor, status: str = "dead", limit: int = 100
) -> list[dict[str, Any]]:
    """Outbox entries of tickets in the actor's scope: dead letters by default, with the error
    the channel gave, so an agent can fix the reply or send it again."""
    o, c = t.outbox.c, t.tickets.c
    rows = conn.execute(
        select(
            o.id,
            c.ref,
            o.channel,
            o.kind,
            o.status,
            o.attempts,
            o.last_error,
            o.body,
            o.created_by,
            o.created_at,
            o.delivery_status,
        )
        .join(t.tickets, c.id == o.ticket_id)
        .join(t.units, t.units.c.id == c.unit_id)
        .where(o.status == status, t.units.c.path.startswith(actor.scope_path, autoescape=True))
        .order_by(o.id.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows]
