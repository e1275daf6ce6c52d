"""Stage 4: decide which posts continue an existing ticket instead of opening a new one.

A post joins a ticket when it replies to a message of that ticket, when it is the same
citizen writing again in the ticket's conversation, or when the same citizen writes again
within the follow-up window while the ticket is open. A citizen writing on a resolved ticket
within the reopen window reopens it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from sevadesk.domain.status import OPEN_STATUSES, TicketStatus
from sevadesk.pipeline.batch import Item
from sevadesk.store import tables as t


@dataclass(frozen=True, slots=True)
class ThreadPolicy:
    follow_up_window: timedelta
    reopen_window: timedelta


@dataclass(slots=True)
class _Ticket:
    id: int
    citizen_id: int | None
    status: str
    last_citizen_at: datetime
    resolved_at: datetime | None


def mark_agency_posts(items: Sequence[Item], agency_handles: frozenset[str]) -> None:
    for item in items:
        handle = (item.msg.author_handle or "").lower()
        item.from_agency = bool(handle) and handle in agency_handles


def _load_tickets(conn: Connection, ids: set[int]) -> dict[int, _Ticket]:
    if not ids:
        return {}
    c = t.tickets.c
    rows = conn.execute(
        select(c.id, c.citizen_id, c.status, c.last_citizen_at, c.resolved_at).where(c.id.in_(ids))
    )
    return {
        r.id: _Ticket(r.id, r.citizen_id, r.status, r.last_citizen_at, r.resolved_at) for r in rows
    }


def thread(conn: Connection, items: Sequence[Item], policy: ThreadPolicy) -> None:
    """Sets `ticket_id` / `joins_item` / `reopens` on items that continue a ticket."""
    m = t.messages.c
    channels = {i.msg.channel for i in items}
    reply_ids = {i.msg.in_reply_to_id for i in items if i.msg.in_reply_to_id}
    conv_ids = {i.msg.conversation_id for i in items if i.msg.conversation_id}
    by_reply: dict[tuple[str, str], int] = {}
    by_conv: dict[tuple[str, str], int] = {}
    if reply_ids:
        q = select(m.channel, m.external_id, m.ticket_id).where(
            m.channel.in_(channels), m.external_id.in_(reply_ids), m.ticket_id.is_not(None)
        )
        by_reply = {(r.channel, r.external_id): r.ticket_id for r in conn.execute(q)}
    if conv_ids:
        q = (
            select(m.channel, m.conversation_id, m.ticket_id)
            .where(
                m.channel.in_(channels), m.conversation_id.in_(conv_ids), m.ticket_id.is_not(None)
            )
            .order_by(m.id)
        )
        by_conv = {(r.channel, r.conversation_id): r.ticket_id for r in conn.execute(q)}
    citizen_ids = {i.citizen_id for i in items if i.citizen_id is not None}
    recent: dict[int, int] = {}
    if citizen_ids:
        c = t.tickets.c
        q = (
            select(c.citizen_id, c.id)
            .where(
                c.citizen_id.in_(citizen_ids),
                c.status.in_([s.value for s in OPEN_STATUSES | {TicketStatus.RESOLVED}]),
            )
            .order_by(c.id)
        )
        recent = {r.citizen_id: r.id for r in conn.execute(q)}
    tickets = _load_tickets(
        conn, set(by_reply.values()) | set(by_conv.values()) | set(recent.values())
    )

    # Within the batch: external id / conversation → index of the item that carries the ticket.
    in_batch: dict[tuple[str, str], int] = {}
    conv_in_batch: dict[tuple[str, str], int] = {}
    citizen_in_batch: dict[int, int] = {}
    for idx, item in enumerate(items):
        msg = item.msg
        candidate: int | None = None
        joins: int | None = None
        if msg.in_reply_to_id:
            key = (msg.channel, msg.in_reply_to_id)
            candidate = by_reply.get(key)
            joins = in_batch.get(key) if candidate is None else None
        if candidate is None and joins is None and msg.conversation_id:
            key = (msg.channel, msg.conversation_id)
            ticket = tickets.get(by_conv.get(key, -1))
            if ticket and (item.from_agency or ticket.citizen_id == item.citizen_id):
                candidate = ticket.id
            elif key in conv_in_batch:
                opener = items[conv_in_batch[key]]
                if item.from_agency or opener.citizen_id == item.citizen_id:
                    joins = conv_in_batch[key]
        # A filed request (form, Open311) is a new problem by the citizen's own choice.
        if candidate is None and joins is None and item.citizen_id is not None and not msg.filed:
            ticket = tickets.get(recent.get(item.citizen_id, -1))
            if ticket and ticket.status in OPEN_STATUSES:
                if abs(msg.created_at - ticket.last_citizen_at) <= policy.follow_up_window:
                    candidate = ticket.id
            elif item.citizen_id in citizen_in_batch:
                opener = items[citizen_in_batch[item.citizen_id]]
                if abs(msg.created_at - opener.msg.created_at) <= policy.follow_up_window:
                    joins = citizen_in_batch[item.citizen_id]
        if candidate is not None:
            ticket = tickets.get(candidate) or _load_tickets(conn, {candidate})[candidate]
            tickets[candidate] = ticket
            if ticket.status == TicketStatus.RESOLVED:
                within = ticket.resolved_at is not None and (
                    msg.created_at - ticket.resolved_at <= policy.reopen_window
                )
                if item.from_agency or not within:
                    candidate = None if not item.from_agency else candidate
                else:
                    item.reopens = True
            elif ticket.status not in OPEN_STATUSES:
                candidate = None
        item.ticket_id = candidate
        item.joins_item = joins
        # Remember where this item's ticket lives for later items of the batch.
        anchor = idx if joins is None else joins
        in_batch[(msg.channel, msg.external_id)] = anchor
        if msg.conversation_id and item.ticket_id is None:
            conv_in_batch.setdefault((msg.channel, msg.conversation_id), anchor)
        if item.citizen_id is not None and item.ticket_id is None and not msg.filed:
            citizen_in_batch.setdefault(item.citizen_id, anchor)
