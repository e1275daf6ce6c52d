"""Transfers as the offices see them: offers waiting for an office, what became of the offers
it made, a read-only look at an offered ticket, and the offices a ticket may be offered to.

The verbs (offer, accept, return) live in `tickets/actions.py`; this module only reads. An
offered ticket is not in the receiving office's scope until it accepts: the only door to it
is a *pending* offer to a unit inside the officer's scope, and that door shows the post's
masked words, never the citizen's identity or the sender's internal notes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, or_, select

from sevadesk.domain.units import ancestor_paths
from sevadesk.store import tables as t
from sevadesk.store.users_repo import Actor
from sevadesk.tickets.queries import TicketNotFound, organisation_path
from sevadesk.triage.entities import extract
from sevadesk.triage.masking import mask
from sevadesk.triage.places import gazetteer
from sevadesk.triage.text import tokens

OFFER_LIST_LIMIT = 200
SENT_LIST_LIMIT = 50


def _masked(text: str | None) -> str:
    """Words fit to show an office that does not hold the ticket yet: personal data masked."""
    text = text or ""
    return mask(text, extract(text))


def _offers_to(actor: Actor) -> Any:
    o, u = t.transfer_offers.c, t.units.c
    return (
        select(o.id)
        .join(t.units, u.id == o.to_unit_id)
        .where(o.status == "pending", u.path.startswith(actor.scope_path, autoescape=True))
    )


def count_pending(conn: Connection, actor: Actor) -> int:
    """Offers waiting for an answer from a unit in the officer's scope (the nav's count)."""
    return int(
        conn.execute(select(func.count()).select_from(_offers_to(actor).subquery())).scalar_one()
    )


def _pending_offers(actor: Actor, *ticket_columns: Any) -> Any:
    """Pending offers to a unit in the actor's scope, with the offer's own fields, both
    offices and the given ticket columns: the queue and the offered ticket's page read the
    same offer the same way."""
    o, c, u = t.transfer_offers.c, t.tickets.c, t.units.c
    source = t.units.alias("source")
    return (
        select(
            *ticket_columns,
            o.id.label("offer_id"),
            o.reason,
            o.offered_by,
            o.offered_at,
            o.deadline,
            source.c.code.label("from_unit"),
            source.c.name.label("from_unit_name"),
            u.code.label("to_unit"),
            u.name.label("to_unit_name"),
        )
        .join(t.tickets, c.id == o.ticket_id)
        .join(t.units, u.id == o.to_unit_id)
        .join(source, source.c.id == o.from_unit_id)
        .where(o.status == "pending", u.path.startswith(actor.scope_path, autoescape=True))
    )


def incoming_offers(conn: Connection, actor: Actor) -> list[dict[str, Any]]:
    """Each pending offer to a unit in scope, soonest deadline first: the ticket's reference,
    which office offered it, who, when, until when, why, and the post's masked words."""
    o, c = t.transfer_offers.c, t.tickets.c
    rows = conn.execute(
        _pending_offers(actor, c.ref, c.summary, c.priority, c.urgency, c.category, c.channel)
        .order_by(o.deadline, o.id)
        .limit(OFFER_LIST_LIMIT)
    ).all()
    # The summary is the triage's masked text already; masked again in case it predates it.
    return [{**r._mapping, "masked_text": _masked(r.summary)} for r in rows]


def sent_offers(conn: Connection, actor: Actor) -> list[dict[str, Any]]:
    """The latest offers made by units in the officer's scope, with their outcome."""
    o, c, u = t.transfer_offers.c, t.tickets.c, t.units.c
    target, holder = t.units.alias("target"), t.units.alias("holder")
    rows = conn.execute(
        select(
            o.id.label("offer_id"),
            c.ref,
            holder.c.path.label("holder_path"),
            o.status,
            o.reason,
            o.offered_by,
            o.offered_at,
            o.deadline,
            o.decided_by,
            o.decided_at,
            o.note,
            u.code.label("from_unit"),
            target.c.code.label("to_unit"),
            target.c.name.label("to_unit_name"),
        )
        .join(t.tickets, c.id == o.ticket_id)
        .join(t.units, u.id == o.from_unit_id)
        .join(target, target.c.id == o.to_unit_id)
        .join(holder, holder.c.id == c.unit_id)
        # The units first, then their offers newest first by id (the order they were made
        # in): an index walk per unit, not a sort of every offer the scope ever made.
        .where(o.from_unit_id.in_(_units_in(conn, actor)))
        .order_by(o.id.desc())
        .limit(SENT_LIST_LIMIT)
    ).all()
    sent = []
    for r in rows:
        data = dict(r._mapping)
        # Where the ticket is now decides whether the list links to it; the path stays here.
        data["in_scope"] = data.pop("holder_path").startswith(actor.scope_path)
        sent.append(data)
    return sent


TICKET_OFFERS_SHOWN = 20


def _units_in(conn: Connection, actor: Actor) -> list[int]:
    u = t.units.c
    return list(
        conn.execute(
            select(u.id).where(u.path.startswith(actor.scope_path, autoescape=True))
        ).scalars()
    )


def ticket_offers(conn: Connection, ticket_id: int) -> list[dict[str, Any]]:
    """The latest offers of one ticket, oldest first (for the ticket page of the office
    holding it; a ticket bounced more than a few times has already alarmed a supervisor)."""
    o = t.transfer_offers.c
    target, source = t.units.alias("target"), t.units.alias("source")
    rows = conn.execute(
        select(
            o.id.label("offer_id"),
            o.status,
            o.reason,
            o.offered_by,
            o.offered_at,
            o.deadline,
            o.decided_by,
            o.decided_at,
            o.note,
            source.c.code.label("from_unit"),
            target.c.code.label("to_unit"),
            target.c.name.label("to_unit_name"),
        )
        .join(target, target.c.id == o.to_unit_id)
        .join(source, source.c.id == o.from_unit_id)
        .where(o.ticket_id == ticket_id)
        .order_by(o.id.desc())
        .limit(TICKET_OFFERS_SHOWN)
    ).all()
    return [dict(r._mapping) for r in reversed(rows)]


def offered_ticket(conn: Connection, actor: Actor, ref: str) -> dict[str, Any]:
    """An offered ticket as the receiving office may see it before accepting: the offer, the
    ticket's triage, and the conversation with personal data masked and no citizen handle.
    Raises TicketNotFound unless a pending offer goes to a unit in the actor's scope (the
    same answer as for a ticket that does not exist: nothing is said of other offices)."""
    c = t.tickets.c
    holder = t.units.alias("holder")
    row = conn.execute(
        _pending_offers(
            actor,
            c.id,
            c.ref,
            c.status,
            c.priority,
            c.kind,
            c.category,
            c.urgency,
            c.language,
            c.channel,
            c.summary,
            c.route_reason,
            c.route_detail,
            c.opened_at,
            c.resolution_due,
            c.bounce_count,
            holder.c.code.label("unit"),
        )
        .join(holder, holder.c.id == c.unit_id)
        .where(c.ref == ref)
        .limit(1)
    ).first()
    if row is None:
        raise TicketNotFound(f"no ticket {ref}")
    m = t.messages.c
    messages = conn.execute(
        select(m.direction, m.channel, m.text, m.created_at, t.triage_results.c.masked_text)
        .outerjoin(t.triage_results, t.triage_results.c.message_id == m.id)
        .where(m.ticket_id == row.id)
        .order_by(m.created_at, m.id)
    ).all()
    data = dict(row._mapping)
    data.pop("id")
    data["masked_text"] = _masked(row.summary)
    data["messages"] = [
        {
            "direction": r.direction,
            "channel": r.channel,
            "created_at": r.created_at,
            "text": _masked(r.masked_text if r.masked_text is not None else r.text),
        }
        for r in messages
    ]
    return data


def has_pending_offer(conn: Connection, actor: Actor, ref: str) -> bool:
    o, c = t.transfer_offers.c, t.tickets.c
    found = conn.execute(
        _offers_to(actor).join(t.tickets, c.id == o.ticket_id).where(c.ref == ref).limit(1)
    ).first()
    return found is not None


# The transfer picker ------------------------------------------------------------------------


def _named_units(conn: Connection, texts: list[str]) -> list[tuple[int, str]]:
    """(unit id, the words of the post that name it) for each unit whose jurisdiction the
    posts name: stations and PINs, then districts, then railway zones, as routing reads
    them (routing/router.py)."""
    wanted: list[tuple[str, str, str]] = []
    for text in texts:
        location = gazetteer().resolve(text, extract(text))
        for place in location.places:
            if place.kind in ("station", "pin"):
                wanted.append((place.kind, place.value, place.evidence or place.value))
        for district in location.districts:
            evidence = next(p.evidence for p in location.places if p.district == district)
            wanted.append(("district", " ".join(tokens(district)), evidence or district))
        for place in location.places:
            if place.zone:
                wanted.append(("zone", place.zone.upper(), place.evidence or place.zone))
    if not wanted:
        return []
    j = t.unit_jurisdictions.c
    found: dict[tuple[str, str], list[int]] = {}
    for r in conn.execute(
        select(j.kind, j.value, j.unit_id).where(
            or_(*((j.kind == kind) & (j.value == value) for kind, value, _ in wanted))
        )
    ):
        found.setdefault((r.kind, r.value), []).append(r.unit_id)
    named: list[tuple[int, str]] = []
    for kind, value, evidence in wanted:
        for unit_id in found.get((kind, value), []):
            if unit_id not in {n for n, _ in named}:
                named.append((unit_id, evidence))
    return named


def transfer_choices(
    conn: Connection, actor: Actor, ticket_id: int, unit_id: int, unit_path: str
) -> dict[str, Any]:
    """The offices the actor may offer the ticket to, the likely ones first.

    `suggested`: the units whose jurisdiction the post names, then the office above the
    ticket's unit, the offices beside it and those below it; `all`: every other unit of the
    actor's organisation (every unit for an administrator of the whole deployment), the
    ticket's organisation first. Neither holds the ticket's own unit, and the form has no
    default: an officer who does not choose cannot send a ticket to the top of the tree."""
    u = t.units.c
    org = organisation_path(conn, actor.scope_path)
    units = {
        r.id: r
        for r in conn.execute(
            select(u.id, u.code, u.name, u.path, u.parent_id, u.kind).where(
                u.path.startswith(org, autoescape=True)
            )
        )
    }
    units.pop(unit_id, None)
    ticket_org = organisation_path(conn, unit_path)
    m = t.messages.c
    texts = list(
        conn.execute(
            select(m.text)
            .where(m.ticket_id == ticket_id, m.direction == "in")
            .order_by(m.created_at, m.id)
            .limit(5)
        ).scalars()
    )
    c = t.tickets.c
    place = conn.execute(select(c.address, c.zipcode).where(c.id == ticket_id)).first()
    if place is not None:  # a civic app's request says where in fields of its own (Open311)
        texts += [x for x in (place.address, place.zipcode and f"PIN {place.zipcode}") if x]
    suggested: list[dict[str, Any]] = []

    def suggest(uid: int, why: str, evidence: str = "") -> None:
        if uid in units and all(s["id"] != uid for s in suggested):
            r = units[uid]
            suggested.append(
                {"id": uid, "code": r.code, "name": r.name, "why": why, "evidence": evidence}
            )

    for uid, evidence in _named_units(conn, texts):
        # A place named in a railway post is not a police station's business (as routing).
        if uid in units and units[uid].path.startswith(ticket_org):
            suggest(uid, "named", evidence)
    above = ancestor_paths(unit_path)[:-1]
    parent_path = above[-1] if above else None
    holder_parent = next((r.id for r in units.values() if r.path == parent_path), None)
    if holder_parent is not None and units[holder_parent].path != org:
        suggest(holder_parent, "parent")
    for r in sorted(units.values(), key=lambda r: r.path):
        if (
            parent_path
            and r.path.startswith(parent_path)
            and r.path.count("/") == unit_path.count("/")
        ):
            suggest(r.id, "sibling")
    for r in sorted(units.values(), key=lambda r: r.path):
        if r.path.startswith(unit_path):
            suggest(r.id, "below")
    everyone = sorted(units.values(), key=lambda r: (not r.path.startswith(ticket_org), r.path))
    return {
        "suggested": [{k: v for k, v in s.items() if k != "id"} for s in suggested[:8]],
        "all": [
            {
                "code": r.code,
                "name": r.name,
                "depth": r.path.count("/") - org.count("/"),
                "other_org": not r.path.startswith(ticket_org),
            }
            for r in everyone
        ],
    }
