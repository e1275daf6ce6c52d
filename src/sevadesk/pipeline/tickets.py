"""Last stage: store messages exactly once and open or update tickets, in one transaction.

Messages go in with INSERT .. ON CONFLICT DO NOTHING on (channel, external_id); a row that
does not come back was stored by another worker first and is counted as a duplicate. Only
the rows that did come back open tickets, so a post can never open two tickets.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, select, update

from sevadesk.domain.messages import Entity, InboundMessage
from sevadesk.domain.reply_templates import TemplateRow, fill, suitable
from sevadesk.domain.status import TicketStatus
from sevadesk.domain.units import UnitRef
from sevadesk.pipeline import screening
from sevadesk.pipeline.batch import BatchSummary, Item
from sevadesk.routing.assignment import Assigner, Post
from sevadesk.routing.incidents import (
    Sketch,
    incident_key,
    link_incidents,
    open_incidents,
    problem_of,
    sketch_words,
)
from sevadesk.routing.sla import SlaBook, resume_values
from sevadesk.store import rollups
from sevadesk.store import tables as t
from sevadesk.store.fast import bulk_insert, bulk_insert_returning
from sevadesk.store.sequences import allocate_refs
from sevadesk.triage.entities import extract
from sevadesk.triage.masking import mask
from sevadesk.triage.rules import Rule

PRIORITY_BY_URGENCY = {"sos": "p1", "high": "p2", "normal": "p3", "low": "p4"}
SYSTEM = "system"


def _entities_json(entities: list[Entity]) -> list[dict[str, Any]]:
    return [{"kind": e.kind, "value": e.value, "start": e.start, "end": e.end} for e in entities]


def _insert_messages(conn: Connection, items: Sequence[Item], now: datetime) -> list[Item]:
    if not items:
        return []
    rows = [
        {
            "channel": i.msg.channel,
            "external_id": i.msg.external_id,
            "direction": "out" if i.from_agency else "in",
            "citizen_id": i.citizen_id,
            "ticket_id": i.ticket_id,
            "journal_id": i.journal_id,
            "conversation_id": i.msg.conversation_id,
            "in_reply_to_id": i.msg.in_reply_to_id,
            "author_handle": i.msg.author_handle,
            "text": i.msg.text,
            "created_at": i.msg.created_at,
            "received_at": now,
        }
        # Sorted by key so concurrent workers take unique-index locks in one order (no deadlock).
        for i in sorted(items, key=lambda i: (i.msg.channel, i.msg.external_id))
    ]
    stored = {
        (channel, external_id): mid
        for mid, channel, external_id in bulk_insert_returning(
            conn,
            t.messages,
            rows,
            ["id", "channel", "external_id"],
            on_conflict=["channel", "external_id"],
        )
    }
    kept = []
    for item in items:
        item.message_id = stored.get((item.msg.channel, item.msg.external_id))
        if item.message_id is None:
            item.duplicate = True  # lost a race with another worker: theirs is the message
        else:
            kept.append(item)
    return kept


def _insert_triage(conn: Connection, items: Sequence[Item]) -> None:
    rows = []
    for i in items:
        tr = i.triage
        assert tr is not None
        rows.append(
            {
                "message_id": i.message_id,
                "model_version": tr.model_version,
                "language": tr.language,
                "actionable": tr.actionable,
                "score": tr.score,
                "kind": tr.kind,
                "category": tr.category,
                "urgency": tr.urgency,
                "entities": _entities_json(tr.entities),
                "masked_text": tr.masked_text,
            }
        )
    bulk_insert(conn, t.triage_results, rows)


def _plan_tickets(
    items: Sequence[Item], summary: BatchSummary
) -> tuple[list[Item], dict[int, Item]]:
    """Which items open a ticket, and which join a ticket another item of the batch opens."""
    opens: list[Item] = []
    opening: set[int] = set()  # id() of the items in `opens`
    owner: dict[int, Item] = {}  # id() of a joiner → the item that opens its ticket
    for item in items:
        if item.ticket_id is not None:
            continue
        anchor = items[item.joins_item] if item.joins_item is not None else None
        if anchor is not None and anchor.ticket_id is not None:
            item.ticket_id = anchor.ticket_id
            continue
        if anchor is not None and id(anchor) in opening:
            owner[id(item)] = anchor
            continue
        if item.from_agency:
            summary.agency_posts += 1
        elif item.route is not None and item.route.ignore:
            summary.ignored += 1  # an organisation rule says this post is not for the desk
        elif item.triage is not None and item.triage.actionable:
            opens.append(item)
            opening.add(id(item))
        else:
            summary.not_actionable += 1
    return opens, owner


def _open_tickets(
    conn: Connection,
    opens: list[Item],
    followers: Counter[int],
    units: dict[str, UnitRef],
    now: datetime,
    sla: SlaBook | None,
) -> dict[int, str]:
    """Insert the tickets `opens` open; returns each opener's reference, keyed by id(item)."""
    by_prefix: dict[str, list[Item]] = {}
    for item in opens:
        assert item.route is not None
        by_prefix.setdefault(units[item.route.unit_code].ticket_prefix, []).append(item)
    refs: dict[int, str] = {}
    for prefix, group in by_prefix.items():
        for item, ref in zip(group, allocate_refs(conn, prefix, len(group)), strict=True):
            refs[id(item)] = ref
    rows = []
    for item in opens:
        tr, route = item.triage, item.route
        assert tr is not None and route is not None
        item.incident_key = incident_key(tr, route.station)
        unit_id = units[route.unit_code].id
        first_due, resolution_due = (
            sla.deadlines(unit_id, tr.category, tr.urgency, item.msg.created_at)
            if sla
            else (None, None)
        )
        rows.append(
            {
                "ref": refs[id(item)],
                "unit_id": units[route.unit_code].id,
                "citizen_id": item.citizen_id,
                "channel": item.msg.channel,
                "status": TicketStatus.NEW.value,
                "priority": route.priority or PRIORITY_BY_URGENCY[tr.urgency],
                "kind": tr.kind,
                "category": tr.category,
                "urgency": tr.urgency,
                "language": tr.language,
                "summary": tr.masked_text[:1000],
                "route_reason": route.reason,
                "route_detail": route.detail[:300],
                "labels": list(route.labels),
                "message_count": 1 + followers[id(item)],
                "opened_at": item.msg.created_at,
                "updated_at": now,
                "last_citizen_at": item.msg.created_at,
                "first_response_due": first_due,
                "resolution_due": resolution_due,
                "incident_key": item.incident_key,
                "sent_privately": item.msg.private,
                **ticket_place(item.msg),
            }
        )
    # Tickets about a problem that already has an open incident join it as they are stored.
    keys = [r["incident_key"] for r in rows if r["incident_key"]]
    joining = open_incidents(conn, keys, max(i.msg.created_at for i in opens)) if keys else {}
    for item, row in zip(opens, rows, strict=True):
        row["incident_id"] = joining.get(row["incident_key"]) if row["incident_key"] else None
        item.incident_id = row["incident_id"]
    assigner = Assigner.load(conn, {r["unit_id"] for r in rows}, now) if rows else None
    posts: dict[int, Post] = {}
    for item, row in zip(opens, rows, strict=True):
        assert item.triage is not None and assigner is not None
        post = assigner.choose(
            row["unit_id"], item.triage.urgency, item.triage.language, item.triage.category, now
        )
        if post is not None:
            row["position_id"], row["status"] = post.id, TicketStatus.ASSIGNED.value
            posts[id(item)] = post
        else:
            row["position_id"] = None
    # Correlate by the unique ref: SQLite only batches a RETURNING insert without ordering.
    by_ref = dict(bulk_insert_returning(conn, t.tickets, rows, ["ref", "id"]))
    for item in opens:
        item.ticket_id = by_ref[refs[id(item)]]
    if assigner is not None and assigner.chosen:
        conn.execute(
            update(t.positions)
            .where(t.positions.c.id == bindparam("pid"))
            .values(last_assigned_at=bindparam("at")),
            [{"pid": pid, "at": at} for pid, at in assigner.chosen.items()],
        )
        _assigned(conn, opens, posts, now)
    _unstaffed_sos(conn, opens, posts, units, now)
    return refs


def _unstaffed_sos(
    conn: Connection,
    opens: list[Item],
    posts: dict[int, Post],
    units: dict[str, UnitRef],
    now: datetime,
) -> None:
    """Alerts: an SOS that reached no officer on duty (no post held now) is alerted to its unit,
    so everyone covering the unit sees it in the desk's bell at once."""
    alerts = [
        {
            "user_id": None,
            "unit_id": units[item.route.unit_code].id,
            "ticket_id": item.ticket_id,
            "kind": "sos",
            "created_at": now,
            "message": "SOS with no officer on duty: needs immediate attention",
        }
        for item in opens
        if item.triage is not None
        and item.triage.urgency == "sos"
        and item.route is not None
        and not (id(item) in posts and posts[id(item)].holders)
    ]
    if alerts:
        conn.execute(t.notifications.insert(), alerts)


def ticket_place(msg: InboundMessage) -> dict[str, Any]:
    """Where the problem is, for the ticket's columns: the coordinates the message gave, its
    address masked like any public text, the PIN code written in that address, a photo's URL."""
    lat, lon = msg.location if msg.location else (None, None)
    address = zipcode = None
    if msg.address:
        entities = extract(msg.address)
        address = mask(msg.address, entities)[:500]
        zipcode = next((e.value for e in entities if e.kind == "pin"), None)
    return {
        "lat": lat,
        "long": lon,
        "address": address,
        "zipcode": zipcode,
        "media_url": msg.media_url[:1000] if msg.media_url else None,
    }


def _root(units: dict[str, UnitRef]) -> int | None:
    return min(units.values(), key=lambda u: len(u.path)).id if units else None


def _count(
    conn: Connection,
    kept: list[Item],
    opens: list[Item],
    units: dict[str, UnitRef],
    now: datetime,
    screened: Sequence[dict[str, Any]] = (),
) -> None:
    """Report rollups for this batch: messages received and actionable, tickets opened,
    posts screened out (at the unit whose queue they wait in)."""
    root = _root(units)
    increments = []
    for item in kept:
        if item.from_agency or item.triage is None:
            continue
        unit = screening.unit_of(item, units, root)
        if unit is None:
            continue
        key = rollups.Key.of(unit, item.triage.category if item.triage.actionable else None, now)
        increments.append((key, {"received": 1, "actionable": int(item.triage.actionable)}))
    for row in screened:
        increments.append((rollups.Key.of(row["unit_id"], None, now), {"screened": 1}))
    for item in opens:
        assert item.route is not None and item.triage is not None
        key = rollups.Key.of(units[item.route.unit_code].id, item.triage.category, now)
        increments.append((key, {"opened": 1}))
    rollups.bump(conn, increments)


def _incident_candidates(
    opens: list[Item], units: dict[str, UnitRef]
) -> tuple[list[str], list[Sketch]]:
    """New tickets that may belong to a mass incident: by an entity key (train, station, PNR)
    or, naming none, by their words."""
    keys: list[str] = []
    sketches: list[Sketch] = []
    for item in opens:
        tr, route = item.triage, item.route
        assert tr is not None and route is not None and item.ticket_id is not None
        if item.incident_key:
            keys.append(item.incident_key)
        elif (problem := problem_of(tr)) and (words := sketch_words(tr)):
            unit_id = units[route.unit_code].id
            sketches.append(Sketch(item.ticket_id, unit_id, item.msg.created_at, problem, words))
    return keys, sketches


def write_batch(
    conn: Connection,
    items: Sequence[Item],
    units: dict[str, UnitRef],
    now: datetime,
    sla: SlaBook | None = None,
    triage_rules: Sequence[Rule] = (),
) -> BatchSummary:
    """Tickets are inserted before their messages so each message is written once, with its
    ticket id; a ticket whose opening message lost a race to another worker is removed again."""
    summary = BatchSummary()
    opens, owner = _plan_tickets(items, summary)
    followers: Counter[int] = Counter(id(anchor) for anchor in owner.values())
    ticket_refs = _open_tickets(conn, opens, followers, units, now, sla) if opens else {}
    for item in items:
        if id(item) in owner:
            item.ticket_id = owner[id(item)].ticket_id
    kept = _insert_messages(conn, items, now)
    summary.duplicates += len(items) - len(kept)
    summary.new += len(kept)
    if len(kept) < len(items):
        used = {i.ticket_id for i in kept}
        orphans = [i.ticket_id for i in opens if i.duplicate and i.ticket_id not in used]
        if orphans:
            conn.execute(delete(t.tickets).where(t.tickets.c.id.in_(orphans)))
        opens = [i for i in opens if not i.duplicate]
    summary.tickets_opened += len(opens)
    _insert_triage(conn, kept)
    screened = screening.screened_rows(kept, units, now, _root(units), triage_rules)
    bulk_insert(conn, t.screened_posts, screened)
    _count(conn, kept, opens, units, now, screened)

    events = _opened_events(opens, now)
    opening = {id(i) for i in opens}
    updates: dict[int, dict[str, Any]] = {}
    for item in kept:
        if item.ticket_id is None or id(item) in opening:
            continue
        summary.threaded += 1
        action = "agency_reply" if item.from_agency else "citizen_message"
        if item.reopens:
            action = "reopened"
            summary.reopened += 1
        events.append(
            {
                "ticket_id": item.ticket_id,
                "at": now,
                "actor": SYSTEM,
                "action": action,
                "before": {"status": "resolved"} if item.reopens else None,
                "after": {
                    "message_id": item.message_id,
                    **({"status": "in_progress"} if item.reopens else {}),
                },
                "note": None,
            }
        )
        if id(item) in owner:
            continue  # counted in the new ticket's message_count already
        u = updates.setdefault(
            item.ticket_id,
            {
                "tid": item.ticket_id,
                "n": 0,
                "last_citizen": None,
                "reopen": False,
                "first_response": None,
            },
        )
        u["n"] += 1
        if item.from_agency:
            if u["first_response"] is None:
                u["first_response"] = item.msg.created_at
        else:
            last = u["last_citizen"]
            u["last_citizen"] = (
                item.msg.created_at if last is None else max(last, item.msg.created_at)
            )
        u["reopen"] = u["reopen"] or item.reopens
    bulk_insert(conn, t.ticket_events, events)
    summary.incident_links += _after_opening(conn, opens, units, ticket_refs, now)
    if updates:
        _update_tickets(conn, list(updates.values()), now)
        _citizen_answered(
            conn, [u["tid"] for u in updates.values() if u["last_citizen"] is not None], now, sla
        )
    return summary


def _opened_events(opens: Sequence[Item], now: datetime) -> list[dict[str, Any]]:
    """The audit's first event of each new ticket: where it went and why."""
    events = []
    for item in opens:
        tr, route = item.triage, item.route
        assert tr is not None and route is not None
        events.append(
            {
                "ticket_id": item.ticket_id,
                "at": now,
                "actor": SYSTEM,
                "action": "opened",
                "before": None,
                "after": {
                    "status": "new",
                    "unit": route.unit_code,
                    "priority": route.priority or PRIORITY_BY_URGENCY[tr.urgency],
                    "rules": list(route.rules),
                    "category": tr.category,
                    "kind": tr.kind,
                    "message_id": item.message_id,
                },
                "note": f"routed by {route.reason}: {route.detail}",
            }
        )
    return events


def _after_opening(
    conn: Connection,
    opens: list[Item],
    units: dict[str, UnitRef],
    refs: dict[int, str],
    now: datetime,
) -> int:
    """Mass incidents and acknowledgements for new tickets; returns the incident links."""
    links = 0
    keys, sketches = _incident_candidates(opens, units)
    if keys or sketches:
        latest = max(i.msg.created_at for i in opens)
        joined = [(i.ticket_id, i.incident_id) for i in opens if i.incident_id is not None]
        links = link_incidents(conn, keys, latest, joined, sketches)
    _acknowledge(conn, [i for i in opens if i.route is not None and i.route.acknowledge], refs, now)
    return links


def open_for_stored(
    conn: Connection,
    item: Item,
    units: dict[str, UnitRef],
    now: datetime,
    sla: SlaBook | None,
) -> str:
    """Open a ticket for a message already stored (a screened-out post an officer takes up)
    as the pipeline opens one for a new post: the same reference, SLA from the post's own
    time, assignment, audit, incidents, acknowledgement and rollups. Returns its reference;
    `item` needs `message_id`, `triage` (actionable) and `route`."""
    assert item.message_id is not None and item.route is not None
    refs = _open_tickets(conn, [item], Counter(), units, now, sla)
    conn.execute(
        update(t.messages)
        .where(t.messages.c.id == item.message_id)
        .values(ticket_id=item.ticket_id)
    )
    _count(conn, [], [item], units, now)
    bulk_insert(conn, t.ticket_events, _opened_events([item], now))
    _after_opening(conn, [item], units, refs, now)
    return refs[id(item)]


def _citizen_answered(
    conn: Connection, ticket_ids: list[int], now: datetime, sla: SlaBook | None
) -> None:
    """A citizen's message on a ticket awaiting them puts it back in progress and restarts
    its SLA clock (the pause is not counted against the office)."""
    if not ticket_ids:
        return
    c = t.tickets.c
    waiting = (
        conn.execute(
            select(
                c.id,
                c.unit_id,
                c.category,
                c.urgency,
                c.sla_paused_at,
                c.first_response_due,
                c.resolution_due,
            ).where(c.id.in_(ticket_ids), c.status == TicketStatus.AWAITING_CITIZEN.value)
        )
        .mappings()
        .all()
    )
    for ticket in waiting:
        values = resume_values(dict(ticket), now, sla) if sla else {"sla_paused_at": None}
        conn.execute(
            update(t.tickets)
            .where(c.id == ticket["id"])
            .values(status=TicketStatus.IN_PROGRESS.value, **values)
        )
        conn.execute(
            t.ticket_events.insert().values(
                ticket_id=ticket["id"],
                at=now,
                actor=SYSTEM,
                action="status_changed",
                before={"status": "awaiting_citizen"},
                after={"status": "in_progress"},
                note="the citizen answered",
            )
        )


def _update_tickets(conn: Connection, rows: list[dict[str, Any]], now: datetime) -> None:
    c = t.tickets.c
    conn.execute(
        update(t.tickets)
        .where(c.id == bindparam("tid"))
        .values(
            message_count=c.message_count + bindparam("n"),
            updated_at=now,
            last_citizen_at=func.coalesce(
                bindparam("last_citizen", type_=c.last_citizen_at.type), c.last_citizen_at
            ),
            first_response_at=func.coalesce(
                c.first_response_at, bindparam("first_response", type_=c.first_response_at.type)
            ),
        ),
        rows,
    )
    reopened = [{"tid": r["tid"]} for r in rows if r["reopen"]]
    if reopened:
        conn.execute(
            update(t.tickets)
            .where(c.id == bindparam("tid"), c.status == TicketStatus.RESOLVED.value)
            .values(
                status=TicketStatus.IN_PROGRESS.value,
                resolved_at=None,
                reopen_count=c.reopen_count + 1,
            ),
            reopened,
        )


def _acknowledge(conn: Connection, items: list[Item], refs: dict[int, str], now: datetime) -> None:
    """Auto-acknowledgements that routing rules ask for, queued in the outbox once per ticket
    (the idempotency key is the ticket's), in the post's language when a template exists."""
    if not items:
        return
    codes = {i.route.acknowledge for i in items if i.route}
    rt = t.reply_templates.c
    query = select(rt.code, rt.language, rt.channel, rt.body).where(
        rt.code.in_(codes), rt.unit_id.is_(None)
    )
    templates = [TemplateRow(r.code, r.language, r.channel, r.body) for r in conn.execute(query)]
    chosen: dict[tuple[str, str], dict[str, str]] = {}
    rows = []
    for item in items:
        assert item.route is not None and item.triage is not None
        if item.msg.filed or item.msg.channel not in ("x", "whatsapp"):
            continue  # a form, Open311 or the bot already gave the reference
        code = item.route.acknowledge
        # In the post's language (romanised Hindi writers read English), for its channel.
        which = (item.triage.language, item.msg.channel)
        if which not in chosen:
            chosen[which] = {r.code: r.body for r in suitable(templates, *which)}
        body = chosen[which].get(code or "")
        if body is None:
            continue
        ref = refs[id(item)]
        rows.append(
            {
                "idempotency_key": f"ack:{ref}",
                "channel": item.msg.channel,
                "ticket_id": item.ticket_id,
                "in_reply_to_id": item.msg.external_id,
                "recipient": item.msg.author_id,  # X user id, or WhatsApp number
                "body": fill(body, {"ref": ref}),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_by": SYSTEM,
                "created_at": now,
            }
        )
    bulk_insert(conn, t.outbox, rows, on_conflict=["idempotency_key"])


def _assigned(conn: Connection, opens: list[Item], posts: dict[int, Post], now: datetime) -> None:
    """Audit automatic assignments; an SOS also notifies the officers on the post at once."""
    events, alerts = [], []
    for item in opens:
        post = posts.get(id(item))
        if post is None:
            continue
        sos = item.triage is not None and item.triage.urgency == "sos"
        events.append(
            {
                "ticket_id": item.ticket_id,
                "at": now,
                "actor": SYSTEM,
                "action": "assigned",
                "before": {"status": "new"},
                "after": {"status": "assigned", "position": post.code},
                "note": "SOS: straight to the on-duty post" if sos else "automatic assignment",
            }
        )
        if sos:
            alerts += [
                {
                    "user_id": uid,
                    "ticket_id": item.ticket_id,
                    "kind": "sos",
                    "created_at": now,
                    "message": f"SOS assigned to {post.code}: needs immediate attention",
                }
                for uid in post.holders
            ]
    if events:
        conn.execute(t.ticket_events.insert(), events)
    if alerts:
        conn.execute(t.notifications.insert(), alerts)
