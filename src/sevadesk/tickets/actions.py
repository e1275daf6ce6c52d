"""What agents do to tickets. Every action checks scope, validates, and appends an audit event."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from sevadesk.domain.errors import MissingReason, OutOfScope, UnknownUnit
from sevadesk.domain.reply_limits import reply_limit
from sevadesk.domain.reply_templates import unfilled_variables
from sevadesk.domain.status import TicketStatus, check_transition
from sevadesk.pipeline import revisions
from sevadesk.routing.escalation import Escalation, run_escalations
from sevadesk.routing.incidents import leave_incident, prune_sketches
from sevadesk.routing.sla import SlaBook, resume_values
from sevadesk.routing.sos_watch import escalate_unacknowledged_sos
from sevadesk.store import rollups
from sevadesk.store import tables as t
from sevadesk.store.notifications_repo import notify_supervisors, notify_unit
from sevadesk.store.org_repo import alert_settings, triage_config
from sevadesk.store.users_repo import Actor, actor_by_username
from sevadesk.tickets.public_safety import PUBLIC_CHANNELS, PersonalDatum, public_reply_findings
from sevadesk.tickets.queries import (
    TicketNotFound,
    incident_detail,
    organisation_path,
    ticket_row,
)

MAX_REPLY_CHARS = 4096
_OPEN_STATUSES = ("new", "assigned", "in_progress", "awaiting_citizen")


class ReadOnlyRole(PermissionError):
    """A viewer tried to change something."""


class InvalidRequest(ValueError):
    """A well-formed request the rules still cannot accept."""


def _writable(conn: Connection, actor: Actor, ref: str) -> dict[str, Any]:
    if not actor.can_write():
        raise ReadOnlyRole(f"role {actor.role} can read tickets but not change them")
    return ticket_row(conn, actor, ref)


def _audit(
    conn: Connection,
    ticket_id: int,
    actor: Actor,
    action: str,
    now: datetime,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    note: str | None = None,
) -> None:
    conn.execute(
        t.ticket_events.insert().values(
            ticket_id=ticket_id,
            at=now,
            actor=actor.label,
            action=action,
            before=before,
            after=after,
            note=note,
        )
    )


def change_status(
    conn: Connection, actor: Actor, ref: str, target: str, note: str | None, now: datetime
) -> dict[str, Any]:
    ticket = _writable(conn, actor, ref)
    new = check_transition(ticket["status"], target)
    if new in (TicketStatus.REJECTED, TicketStatus.MERGED) and not (note and note.strip()):
        raise MissingReason(f"a ticket cannot become {new.value} without a reason (note)")
    if (
        new in (TicketStatus.REJECTED, TicketStatus.CLOSED, TicketStatus.RESOLVED)
        and note
        and _NOT_OURS.search(note)
    ):
        raise MustTransfer(
            "a ticket that belongs to another office is transferred, not closed: POST .../transfer"
        )
    if new == TicketStatus.ASSIGNED and ticket["assignee_id"] is None:
        raise InvalidRequest("assign the ticket to someone (POST .../assign) to make it assigned")
    values: dict[str, Any] = {"status": new.value, "updated_at": now}
    # The SLA clock stops while the office waits for the citizen and restarts after.
    if new == TicketStatus.AWAITING_CITIZEN:
        values["sla_paused_at"] = now
    elif ticket["status"] == TicketStatus.AWAITING_CITIZEN.value:
        values.update(resume_values(ticket, now, SlaBook.load(conn)))
    if new == TicketStatus.RESOLVED:
        values["resolved_at"] = now
        due = ticket["resolution_due"]
        rollups.bump(
            conn,
            [
                (
                    rollups.Key.of(ticket["unit_id"], ticket["category"], now),
                    {
                        "resolved": 1,
                        "resolved_in_sla": int(due is None or now <= due),
                        f"rs_{rollups.bucket((now - ticket['opened_at']).total_seconds())}": 1,
                    },
                )
            ],
        )
    elif new == TicketStatus.CLOSED:
        values["closed_at"] = now
    elif ticket["status"] == TicketStatus.RESOLVED.value:
        values["resolved_at"] = None  # reopened
    conn.execute(update(t.tickets).where(t.tickets.c.id == ticket["id"]).values(**values))
    if new.value not in _OPEN_STATUSES:
        _withdraw_offers(conn, ticket["id"], actor, new.value, now)
    _audit(
        conn,
        ticket["id"],
        actor,
        "status_changed",
        now,
        {"status": ticket["status"]},
        {"status": new.value},
        note,
    )
    return {"ref": ref, "status": new.value}


def change_category(
    conn: Connection, actor: Actor, ref: str, category: str, now: datetime
) -> dict[str, Any]:
    """Correct the category triage gave the ticket. The audit event is also a training label:
    `seva train` learns categories from agents' corrections (triage/training.py)."""
    ticket = _writable(conn, actor, ref)
    allowed = triage_config(conn).category_names()
    if category not in allowed:
        raise InvalidRequest(f"unknown category {category!r}; one of: {', '.join(allowed)}")
    if category != ticket["category"]:
        # Report counts already made stay under the old category (they counted what was
        # known then, as a transfer leaves them with the old unit); later ones use the new.
        conn.execute(
            update(t.tickets)
            .where(t.tickets.c.id == ticket["id"])
            .values(category=category, updated_at=now)
        )
        _audit(
            conn,
            ticket["id"],
            actor,
            "category_changed",
            now,
            {"category": ticket["category"]},
            {"category": category},
        )
        _leave_incident_of_another_problem(conn, actor, ticket, category, now)
    return {"ref": ref, "category": category}


def _leave_incident_of_another_problem(
    conn: Connection, actor: Actor, ticket: dict[str, Any], category: str, now: datetime
) -> None:
    """A ticket whose category an officer corrects leaves an incident about another problem:
    the incident's reply is written for that problem, not for this citizen's."""
    if ticket.get("incident_id") is None:
        return
    key = conn.execute(
        select(t.incidents.c.key).where(t.incidents.c.id == ticket["incident_id"])
    ).scalar()
    if key is None or key.split(":", 1)[0] == category:
        return
    _leave(
        conn, actor, ticket, now, lambda ref: f"category corrected to {category}: not part of {ref}"
    )


def _leave(
    conn: Connection,
    actor: Actor,
    ticket: dict[str, Any],
    now: datetime,
    why: Callable[[str], str],
) -> str:
    """The ticket leaves its incident, audited with `why(incident_ref)`; returns the ref."""
    incident_ref = leave_incident(conn, ticket["id"], ticket["incident_id"])
    _audit(
        conn,
        ticket["id"],
        actor,
        "incident_detached",
        now,
        {"incident": incident_ref},
        {"incident": None},
        why(incident_ref),
    )
    return incident_ref


def assign_position(
    conn: Connection, actor: Actor, ref: str, code: str, now: datetime
) -> dict[str, Any]:
    """Give the ticket to a post of its unit; whoever holds the post works it."""
    ticket = _writable(conn, actor, ref)
    if ticket["status"] not in ("new", "assigned", "in_progress", "awaiting_citizen"):
        raise InvalidRequest(f"a {ticket['status']} ticket cannot be assigned")
    p = t.positions.c
    post = conn.execute(select(p.id, p.code, p.unit_id).where(p.code == code)).first()
    if post is None:
        raise InvalidRequest(f"no position {code!r}")
    if post.unit_id != ticket["unit_id"]:
        raise OutOfScope(f"position {code} belongs to another unit than {ticket['unit']}")
    status = ticket["status"]
    if status == "new":
        status = check_transition(status, "assigned").value
    conn.execute(
        update(t.tickets)
        .where(t.tickets.c.id == ticket["id"])
        .values(position_id=post.id, assignee_id=None, status=status, updated_at=now)
    )
    _audit(
        conn,
        ticket["id"],
        actor,
        "assigned",
        now,
        {"status": ticket["status"]},
        {"position": code, "status": status},
    )
    return {"ref": ref, "position": code, "status": status}


def assign(
    conn: Connection, actor: Actor, ref: str, username: str | None, now: datetime
) -> dict[str, Any]:
    ticket = _writable(conn, actor, ref)
    if ticket["status"] not in ("new", "assigned", "in_progress", "awaiting_citizen"):
        raise InvalidRequest(f"a {ticket['status']} ticket cannot be assigned")
    assignee_id = None
    if username is not None:
        assignee = actor_by_username(conn, username)
        unit_path = ticket["unit_path"]
        if assignee is None:
            raise InvalidRequest(f"no active user {username!r}")
        # The officer must work in the ticket's unit: either covering it or inside it.
        if not (
            unit_path.startswith(assignee.scope_path) or assignee.scope_path.startswith(unit_path)
        ):
            raise OutOfScope(f"{username} works in {assignee.unit_code}, outside {ticket['unit']}")
        assignee_id = assignee.id
    values: dict[str, Any] = {"assignee_id": assignee_id, "updated_at": now}
    status = ticket["status"]
    if assignee_id is not None and status == "new":
        status = check_transition(status, "assigned").value
    elif assignee_id is None and status == "assigned":
        status = check_transition(status, "new").value
    values["status"] = status
    conn.execute(update(t.tickets).where(t.tickets.c.id == ticket["id"]).values(**values))
    _audit(
        conn,
        ticket["id"],
        actor,
        "assigned",
        now,
        {"assignee": ticket["assignee"], "status": ticket["status"]},
        {"assignee": username, "status": status},
    )
    return {"ref": ref, "assignee": username, "status": status}


OFFER_HOURS = 24  # the receiving unit answers a transfer within a day, or it is deemed accepted
MAX_BOUNCES = 2  # returned more often than this, the common parent unit is alarmed
_NOT_OURS = re.compile(
    r"(does not|doesn't|not) (pertain|relate|belong)|not (our|my) (office|department|jurisdiction)",
    re.I,
)


class MustTransfer(InvalidRequest):
    """A ticket that belongs elsewhere is transferred, never closed as not ours."""


def transfer(
    conn: Connection, actor: Actor, ref: str, unit_code: str, reason: str, now: datetime
) -> dict[str, Any]:
    """Offer the ticket to another unit; it moves when that unit accepts (or fails to answer)."""
    ticket = _writable(conn, actor, ref)
    if not reason or not reason.strip():
        raise MissingReason("a transfer needs a reason")
    if ticket["status"] not in ("new", "assigned", "in_progress", "awaiting_citizen"):
        raise InvalidRequest(f"a {ticket['status']} ticket cannot be transferred")
    target = conn.execute(
        select(t.units.c.id, t.units.c.code, t.units.c.path).where(t.units.c.code == unit_code)
    ).first()
    if target is None:
        raise UnknownUnit(f"no unit {unit_code!r}")
    if not target.path.startswith(organisation_path(conn, actor.scope_path)):
        raise OutOfScope(
            f"{unit_code} is not an office of your organisation: transfers go to its own offices"
        )
    if target.id == ticket["unit_id"]:
        raise InvalidRequest(f"the ticket is already with {unit_code}")
    o = t.transfer_offers.c
    if conn.execute(select(o.id).where(o.ticket_id == ticket["id"], o.status == "pending")).first():
        raise InvalidRequest("a transfer of this ticket is already waiting for an answer")
    deadline = now + timedelta(hours=OFFER_HOURS)
    conn.execute(
        t.transfer_offers.insert().values(
            ticket_id=ticket["id"],
            from_unit_id=ticket["unit_id"],
            to_unit_id=target.id,
            reason=reason,
            offered_by=actor.label,
            offered_at=now,
            deadline=deadline,
            status="pending",
        )
    )
    _audit(
        conn,
        ticket["id"],
        actor,
        "transfer_offered",
        now,
        {"unit": ticket["unit"]},
        {"unit": target.code, "deadline": deadline.isoformat()},
        reason,
    )
    notify_unit(
        conn,
        target.id,
        ticket["id"],
        "offer_received",
        f"{ref} offered to {target.code} by {ticket['unit']} ({actor.username}): {reason.strip()}",
        now,
    )
    return {"ref": ref, "offered_to": target.code, "deadline": deadline, "status": "offered"}


def _pending_offer(conn: Connection, actor: Actor, ref: str) -> Any:
    o, c, u = t.transfer_offers.c, t.tickets.c, t.units.c
    offer = conn.execute(
        select(
            o.id,
            o.ticket_id,
            o.from_unit_id,
            o.to_unit_id,
            u.code.label("to_code"),
            u.path.label("to_path"),
            o.offered_by,
        )
        .join(t.tickets, c.id == o.ticket_id)
        .join(t.units, u.id == o.to_unit_id)
        .where(c.ref == ref, o.status == "pending")
    ).first()
    if offer is None or not offer.to_path.startswith(actor.scope_path):
        raise TicketNotFound(f"no transfer of {ref} is waiting for you")
    if not actor.can_write():
        raise ReadOnlyRole(f"role {actor.role} cannot answer transfers")
    return offer


def _move(conn: Connection, ticket_id: int, unit_id: int, now: datetime, detail: str) -> None:
    conn.execute(
        update(t.tickets)
        .where(t.tickets.c.id == ticket_id)
        .values(
            unit_id=unit_id,
            assignee_id=None,
            position_id=None,
            status="new",
            updated_at=now,
            route_reason="transfer",
            route_detail=detail[:300],
        )
    )


def accept_transfer(conn: Connection, actor: Actor, ref: str, now: datetime) -> dict[str, Any]:
    offer = _pending_offer(conn, actor, ref)
    _move(conn, offer.ticket_id, offer.to_unit_id, now, f"transfer accepted by {actor.username}")
    conn.execute(
        update(t.transfer_offers)
        .where(t.transfer_offers.c.id == offer.id)
        .values(status="accepted", decided_by=actor.label, decided_at=now)
    )
    _audit(
        conn,
        offer.ticket_id,
        actor,
        "transfer_accepted",
        now,
        None,
        {"unit": offer.to_code, "status": "new"},
    )
    _tell_sender(
        conn, offer, "offer_accepted", f"{ref} accepted by {offer.to_code} ({actor.username})", now
    )
    return {"ref": ref, "unit": offer.to_code, "status": "new"}


def _tell_sender(conn: Connection, offer: Any, kind: str, message: str, now: datetime) -> None:
    """The offering unit's officers, and whoever made the offer, hear of its outcome."""
    by = offer.offered_by
    notify_unit(
        conn,
        offer.from_unit_id,
        offer.ticket_id,
        kind,
        message,
        now,
        also=by.removeprefix("user:") if by.startswith("user:") else None,
    )


def return_transfer(
    conn: Connection, actor: Actor, ref: str, note: str, now: datetime
) -> dict[str, Any]:
    if not note or not note.strip():
        raise MissingReason("say why the ticket is returned")
    offer = _pending_offer(conn, actor, ref)
    conn.execute(
        update(t.transfer_offers)
        .where(t.transfer_offers.c.id == offer.id)
        .values(status="returned", decided_by=actor.label, decided_at=now, note=note)
    )
    c = t.tickets.c
    conn.execute(
        update(t.tickets)
        .where(c.id == offer.ticket_id)
        .values(bounce_count=c.bounce_count + 1, updated_at=now)
    )
    bounces = conn.execute(select(c.bounce_count).where(c.id == offer.ticket_id)).scalar_one()
    _audit(
        conn,
        offer.ticket_id,
        actor,
        "transfer_returned",
        now,
        {"unit": offer.to_code},
        {"bounces": bounces},
        note,
    )
    _tell_sender(
        conn,
        offer,
        "offer_returned",
        f"{ref} returned by {offer.to_code} ({actor.username}): {note.strip()}",
        now,
    )
    if bounces > MAX_BOUNCES:
        _alarm_common_parent(conn, offer, ref, bounces, now)
    return {"ref": ref, "returned": True, "bounces": bounces}


def _alarm_common_parent(
    conn: Connection, offer: Any, ref: str, bounces: int, now: datetime
) -> None:
    u = t.units.c
    paths = dict(
        conn.execute(
            select(u.id, u.path).where(u.id.in_([offer.from_unit_id, offer.to_unit_id]))
        ).all()
    )
    a, b = (
        paths[offer.from_unit_id].strip("/").split("/"),
        paths[offer.to_unit_id].strip("/").split("/"),
    )
    common = [x for x, y in zip(a, b, strict=False) if x == y]
    if not common:
        return
    parent = conn.execute(select(u.id, u.code).where(u.code == common[-1])).first()
    notify_supervisors(
        conn,
        parent.id,
        offer.ticket_id,
        "bounce_alarm",
        f"{ref} has been bounced {bounces} times between units under {parent.code}",
        now,
    )


def expire_offers(conn: Connection, now: datetime) -> int:
    """Offers nobody answered by their deadline are deemed accepted."""
    o = t.transfer_offers.c
    due = conn.execute(
        select(o.id, o.ticket_id, o.from_unit_id, o.to_unit_id, o.offered_by).where(
            o.status == "pending", o.deadline <= now
        )
    ).all()
    for offer in due:
        _move(
            conn, offer.ticket_id, offer.to_unit_id, now, "transfer deemed accepted at its deadline"
        )
        conn.execute(
            update(t.transfer_offers)
            .where(o.id == offer.id)
            .values(status="expired", decided_by="system", decided_at=now)
        )
        conn.execute(
            t.ticket_events.insert().values(
                ticket_id=offer.ticket_id,
                at=now,
                actor="system",
                action="transfer_accepted",
                before=None,
                after={"deemed": True},
                note="no answer before the deadline",
            )
        )
        _tell_sender(
            conn,
            offer,
            "offer_accepted",
            f"{_ref_of(conn, offer.ticket_id)} deemed accepted: no answer before the deadline",
            now,
        )
    return len(due)


def _withdraw_offers(
    conn: Connection, ticket_id: int, actor: Actor, status: str, now: datetime
) -> None:
    """A ticket its office resolved, closed, rejected or merged is no longer on offer: an
    accept (or the deadline) would otherwise move it and make it new again. The receiving
    unit is told."""
    o = t.transfer_offers.c
    pending = conn.execute(
        select(o.id, o.to_unit_id).where(o.ticket_id == ticket_id, o.status == "pending")
    ).all()
    for offer in pending:
        conn.execute(
            update(t.transfer_offers)
            .where(o.id == offer.id)
            .values(status="withdrawn", decided_by=actor.label, decided_at=now, note=status)
        )
        _audit(conn, ticket_id, actor, "transfer_withdrawn", now, None, None, f"ticket {status}")
        notify_unit(
            conn,
            offer.to_unit_id,
            ticket_id,
            "offer_withdrawn",
            f"{_ref_of(conn, ticket_id)} is no longer offered: its office marked it {status}",
            now,
        )


def _ref_of(conn: Connection, ticket_id: int) -> str:
    return str(conn.execute(select(t.tickets.c.ref).where(t.tickets.c.id == ticket_id)).scalar())


def sla_pass(conn: Connection, now: datetime) -> tuple[list[Escalation], int]:
    """The routine job: escalate breached tickets and SOS nobody acknowledged, deem
    unanswered transfers accepted, forget the word signatures of tickets too old to join an
    incident, and finish deletions and edits (pipeline/revisions.py: journal copies of
    deleted posts emptied)."""
    escalations = run_escalations(conn, now, SlaBook.load(conn))
    escalate_unacknowledged_sos(conn, now, alert_settings(conn).sos_acknowledge_within)
    deemed = expire_offers(conn, now)
    prune_sketches(conn, now)
    revisions.sweep(conn, now)
    return escalations, deemed


def appeal(conn: Connection, actor: Actor, ref: str, note: str, now: datetime) -> dict[str, Any]:
    """The citizen says a resolved ticket is not fixed: it reopens one level up the hierarchy."""
    if not note or not note.strip():
        raise MissingReason("say why the citizen appeals (what is still not fixed)")
    ticket = _writable(conn, actor, ref)
    if ticket["status"] != TicketStatus.RESOLVED.value:
        raise InvalidRequest("only a resolved ticket can be appealed")
    u = t.units.c
    parent_id = conn.execute(select(u.parent_id).where(u.id == ticket["unit_id"])).scalar()
    parent = (
        conn.execute(select(u.id, u.code).where(u.id == parent_id)).first() if parent_id else None
    )
    target_id, target_code = (
        (parent.id, parent.code) if parent else (ticket["unit_id"], ticket["unit"])
    )
    check_transition(ticket["status"], TicketStatus.IN_PROGRESS.value)
    c = t.tickets.c
    conn.execute(
        update(t.tickets)
        .where(c.id == ticket["id"])
        .values(
            unit_id=target_id,
            status=TicketStatus.IN_PROGRESS.value,
            resolved_at=None,
            assignee_id=None,
            position_id=None,
            appeal_count=c.appeal_count + 1,
            updated_at=now,
            route_reason="appeal",
            route_detail=f"appeal from {ticket['unit']} → {target_code}",
        )
    )
    _audit(
        conn,
        ticket["id"],
        actor,
        "appealed",
        now,
        {"unit": ticket["unit"], "status": "resolved"},
        {"unit": target_code, "status": "in_progress"},
        note,
    )
    return {"ref": ref, "unit": target_code, "status": "in_progress"}


def reopen(conn: Connection, actor: Actor, ref: str, reason: str, now: datetime) -> dict[str, Any]:
    """An officer takes a resolved ticket back into work in the same office (the citizen
    called to say it is not fixed, or the fix did not hold); counted as a reopening. A
    closed ticket stays closed (the status machine allows nothing after closed)."""
    if not reason or not reason.strip():
        raise MissingReason("say why the ticket is reopened")
    ticket = _writable(conn, actor, ref)
    if ticket["status"] != TicketStatus.RESOLVED.value:
        raise InvalidRequest(
            f"only a resolved ticket can be reopened (this one is {ticket['status']})"
        )
    new = check_transition(ticket["status"], TicketStatus.IN_PROGRESS.value)
    c = t.tickets.c
    conn.execute(
        update(t.tickets)
        .where(c.id == ticket["id"])
        .values(
            status=new.value,
            resolved_at=None,
            reopen_count=c.reopen_count + 1,
            updated_at=now,
        )
    )
    _audit(
        conn,
        ticket["id"],
        actor,
        "reopened",
        now,
        {"status": ticket["status"]},
        {"status": new.value},
        reason.strip()[:2000],
    )
    return {"ref": ref, "status": new.value}


class ReplyRefused(InvalidRequest):
    """A reply the rules cannot send. `reason` names the rule (empty, too_long,
    private_too_long, closed, no_private_channel, status_page, personal_data) and `details`
    holds what the desk needs to say in plain words what to change."""

    def __init__(self, reason: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.reason = reason
        self.details = details


class PublicReplyBlocked(ReplyRefused):
    """A public reply that carries personal data; the reasons say what and where."""

    def __init__(self, findings: list[PersonalDatum]) -> None:
        problems = [f'{d.what} at characters {d.start}-{d.end} ("{d.text}")' for d in findings]
        super().__init__(
            "personal_data",
            "a public reply must not carry personal data: "
            + "; ".join(problems)
            + ". Post a public acknowledgement and send the personal part privately"
            " (private_body).",
            findings=findings,
        )
        self.problems = problems


def check_reply(
    channel: str,
    status: str,
    body: str,
    private_body: str | None = None,
    strict_length: bool = False,
) -> None:
    """Refuse (ReplyRefused) a reply that cannot go to a `status` ticket on `channel`: empty,
    too long for the channel, for a closed ticket, for a channel answered on the status page,
    or public with personal data in it. `strict_length` holds the reply to one message of the
    channel (the desk's counter); without it an X reply may run longer and be shortened to a
    link or split into a thread when sent (the org file's channels.x.long_reply)."""
    body = body.strip()
    if not body:
        raise ReplyRefused("empty", "the reply is empty")
    if len(body) > MAX_REPLY_CHARS:
        raise ReplyRefused(
            "too_long",
            f"the reply is longer than {MAX_REPLY_CHARS} characters",
            channel=channel,
            limit=MAX_REPLY_CHARS,
            length=len(body),
            weighted=False,
        )
    if status in ("closed", "merged", "rejected"):
        raise ReplyRefused("closed", f"a {status} ticket takes no replies", status=status)
    limit = reply_limit(channel)
    if limit is None:
        raise ReplyRefused(
            "status_page", f"tickets from {channel} are answered on their status page"
        )
    if strict_length and limit.excess(body):
        raise ReplyRefused(
            "too_long",
            f"the reply is {limit.length(body)} characters as {channel} counts them;"
            f" the limit is {limit.limit}",
            channel=channel,
            limit=limit.limit,
            length=limit.length(body),
            weighted=limit.weighted,
        )
    if strict_length and (unfilled := unfilled_variables(body)):
        raise ReplyRefused(
            "unfilled",
            f"the reply still holds template variables: {', '.join(unfilled)}",
            variables=unfilled,
        )
    if channel in PUBLIC_CHANNELS and (findings := public_reply_findings(body)):
        raise PublicReplyBlocked(findings)
    if strict_length and private_body and len(private_body.strip()) > MAX_REPLY_CHARS:
        raise ReplyRefused(
            "private_too_long",
            f"the private message is longer than {MAX_REPLY_CHARS} characters",
            limit=MAX_REPLY_CHARS,
            length=len(private_body.strip()),
        )


def _identity(conn: Connection, citizen_id: int | None, channel: str) -> str | None:
    if citizen_id is None:
        return None
    ci = t.citizen_identities.c
    value: str | None = conn.execute(
        select(ci.external_user_id)
        .where(ci.citizen_id == citizen_id, ci.channel == channel)
        .limit(1)
    ).scalar()
    return value


def _outbox_entry(
    conn: Connection,
    actor: Actor,
    ticket_id: int,
    key: str,
    channel: str,
    kind: str,
    body: str,
    now: datetime,
    in_reply_to_id: str | None = None,
    recipient: str | None = None,
) -> int:
    return int(
        conn.execute(
            t.outbox.insert()
            .values(
                idempotency_key=key,
                channel=channel,
                kind=kind,
                ticket_id=ticket_id,
                in_reply_to_id=in_reply_to_id,
                recipient=recipient,
                body=body,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_by=actor.label,
                created_at=now,
            )
            .returning(t.outbox.c.id)
        ).scalar_one()
    )


def outbox_key(ref: str, key: str) -> str:
    """A caller's idempotency key belongs to one ticket: stored with the ticket's reference,
    so the same key on another ticket is another reply and says nothing of the first. (A
    long key is stored as its digest; a ':private' suffix must still fit the column.)"""
    scoped = f"{ref}:{key}"
    if len(scoped) <= 90:
        return scoped
    return f"{ref}:#{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def queue_reply(
    conn: Connection,
    actor: Actor,
    ref: str,
    body: str,
    idempotency_key: str | None,
    now: datetime,
    private_body: str | None = None,
    strict_length: bool = False,
) -> tuple[dict[str, Any], bool]:
    """Put a reply in the outbox; returns (entry, created). A repeated key is a no-op.

    On a public channel the reply is checked for personal data first; `private_body` goes to
    the citizen privately (WhatsApp when they have linked it, else an X direct message)."""
    ticket = _writable(conn, actor, ref)
    body = body.strip()
    if not body:
        raise ReplyRefused("empty", "the reply is empty")
    if len(body) > MAX_REPLY_CHARS:
        check_reply(ticket["channel"], ticket["status"], body)
    if ticket["status"] in ("closed", "merged", "rejected"):
        raise ReplyRefused(
            "closed", f"a {ticket['status']} ticket takes no replies", status=ticket["status"]
        )
    key = idempotency_key or f"reply-{uuid.uuid4()}"
    stored = outbox_key(ticket["ref"], key)
    o = t.outbox.c
    existing = conn.execute(
        select(o.id, o.status, o.body).where(
            # An entry made before keys were kept per ticket is stored under the key alone.
            o.ticket_id == ticket["id"],
            o.idempotency_key.in_([stored, key]),
        )
    ).first()
    if existing is not None:
        return {
            "id": existing.id,
            "idempotency_key": key,
            "status": existing.status,
            "body": existing.body,
        }, False
    channel = ticket["channel"]
    check_reply(channel, ticket["status"], body, private_body, strict_length)
    m = t.messages.c
    # Reply under the citizen's latest post on the ticket's channel.
    last_inbound = conn.execute(
        select(m.external_id, m.citizen_id)
        .where(m.ticket_id == ticket["id"], m.direction == "in", m.channel == channel)
        .order_by(m.created_at.desc(), m.id.desc())
        .limit(1)
    ).first()
    citizen_id = last_inbound.citizen_id if last_inbound else ticket.get("citizen_id")
    private: dict[str, Any] | None = None
    if private_body and private_body.strip():
        wa_id = _identity(conn, citizen_id, "whatsapp")
        x_user = _identity(conn, citizen_id, "x")
        if wa_id is not None:
            private_channel, private_kind, private_to = "whatsapp", "text", wa_id
        elif x_user is not None:
            private_channel, private_kind, private_to = "x", "dm", x_user
        else:
            raise ReplyRefused(
                "no_private_channel",
                "this citizen has no private channel (no WhatsApp or X account linked)",
            )
        private_id = _outbox_entry(
            conn,
            actor,
            ticket["id"],
            f"{stored}:private",
            private_channel,
            private_kind,
            private_body.strip()[:MAX_REPLY_CHARS],
            now,
            recipient=private_to,
        )
        private = {"id": private_id, "channel": private_channel, "kind": private_kind}
    entry_id = _outbox_entry(
        conn,
        actor,
        ticket["id"],
        stored,
        channel,
        "text",
        body,
        now,
        in_reply_to_id=last_inbound.external_id if last_inbound else None,
        recipient=_identity(conn, citizen_id, channel),
    )
    values: dict[str, Any] = {"updated_at": now}
    if ticket["first_response_at"] is None:
        values["first_response_at"] = now
        due = ticket["first_response_due"]
        rollups.bump(
            conn,
            [
                (
                    rollups.Key.of(ticket["unit_id"], ticket["category"], now),
                    {
                        "first_responses": 1,
                        "first_response_in_sla": int(due is None or now <= due),
                        f"fr_{rollups.bucket((now - ticket['opened_at']).total_seconds())}": 1,
                    },
                )
            ],
        )
    conn.execute(update(t.tickets).where(t.tickets.c.id == ticket["id"]).values(**values))
    _audit(
        conn,
        ticket["id"],
        actor,
        "reply_queued",
        now,
        None,
        {"outbox_id": entry_id, "idempotency_key": key, "private": private},
        body[:500],
    )
    entry = {"id": entry_id, "idempotency_key": key, "status": "pending", "body": body}
    if private:
        entry["private"] = private
    return entry, True


class AudienceChanged(InvalidRequest):
    """The tickets an incident reply would reach changed since the officer confirmed it."""

    def __init__(self, audience: IncidentAudience) -> None:
        super().__init__(
            f"the incident now reaches {audience.citizens} citizens; confirm the reply again"
        )
        self.audience = audience


@dataclass(frozen=True, slots=True)
class IncidentAudience:
    """Who one incident reply reaches: the open tickets of the incident inside the actor's
    scope, their citizens and channels, and a fingerprint of exactly that set (a confirmed
    reply is sent only to the set the officer saw)."""

    refs: tuple[str, ...]
    citizens: int
    channels: dict[str, int]  # channel → tickets
    statuses: dict[str, str]  # ref → status (so the checks of each reply can run before)
    fingerprint: str


def incident_audience(conn: Connection, actor: Actor, ref: str) -> IncidentAudience:
    incident = incident_detail(conn, actor, ref)
    open_tickets = [tk for tk in incident["tickets"] if tk["status"] in _OPEN_STATUSES]
    refs = tuple(tk["ref"] for tk in open_tickets)
    c = t.tickets.c
    citizens = {
        row.citizen_id if row.citizen_id is not None else f"ticket:{row.ref}"
        for row in conn.execute(select(c.ref, c.citizen_id).where(c.ref.in_(refs)))
    }
    channels: dict[str, int] = {}
    for tk in open_tickets:
        channels[tk["channel"]] = channels.get(tk["channel"], 0) + 1
    digest = hashlib.sha256("\n".join(sorted(refs)).encode()).hexdigest()[:32]
    return IncidentAudience(
        refs,
        len(citizens),
        dict(sorted(channels.items(), key=lambda kv: -kv[1])),
        {tk["ref"]: tk["status"] for tk in open_tickets},
        digest,
    )


def check_incident_reply(
    conn: Connection, actor: Actor, ref: str, body: str, strict_length: bool = False
) -> IncidentAudience:
    """What an incident reply would reach, after the same checks each of its replies will
    pass (once per channel): nothing is queued. Refuses as `queue_reply` would."""
    audience = incident_audience(conn, actor, ref)
    if not actor.can_write():
        raise ReadOnlyRole(f"role {actor.role} can read incidents but not reply")
    if not audience.refs:
        raise ReplyRefused("no_open_tickets", f"{ref} has no open ticket in your scope to answer")
    for channel in audience.channels:
        check_reply(channel, "new", body, strict_length=strict_length)
    return audience


def reply_to_incident(
    conn: Connection,
    actor: Actor,
    ref: str,
    body: str,
    idempotency_key: str,
    now: datetime,
    expect: str | None = None,
    strict_length: bool = False,
) -> dict[str, Any]:
    """One reply for a mass incident, delivered to every citizen whose open ticket is linked
    to it and inside the actor's scope (one outbox entry per ticket; the key makes a retried
    request harmless). Tickets of the incident in other offices are theirs to answer. With
    `expect` (an IncidentAudience fingerprint the officer confirmed) nothing is sent when the
    set of tickets has changed since: AudienceChanged carries the new one."""
    audience = incident_audience(conn, actor, ref)
    if not actor.can_write():
        raise ReadOnlyRole(f"role {actor.role} can read incidents but not reply")
    if expect is not None and expect != audience.fingerprint:
        raise AudienceChanged(audience)
    created = 0
    for ticket_ref in audience.refs:
        _entry, made = queue_reply(
            conn,
            actor,
            ticket_ref,
            body,
            f"incident:{idempotency_key}",
            now,
            strict_length=strict_length,
        )
        created += made
    return {
        "incident": ref,
        "tickets": len(audience.refs),
        "citizens": audience.citizens,
        "channels": audience.channels,
        "replies_queued": created,
    }


def retry_dead_reply(
    conn: Connection, actor: Actor, outbox_id: int, now: datetime
) -> dict[str, Any]:
    """Send a dead-lettered reply again (after the cause was fixed); audited on its ticket."""
    o = t.outbox.c
    row = conn.execute(
        select(o.id, o.status, t.tickets.c.ref, t.units.c.path)
        .join(t.tickets, t.tickets.c.id == o.ticket_id)
        .join(t.units, t.units.c.id == t.tickets.c.unit_id)
        .where(o.id == outbox_id)
    ).first()
    # Another office's entry is not found as an entry: the ticket's reference stays unsaid.
    if row is None or not row.path.startswith(actor.scope_path):
        raise TicketNotFound(f"no outbox entry {outbox_id}")
    ticket = _writable(conn, actor, row.ref)
    if row.status != "dead":
        raise InvalidRequest(f"only a dead reply can be retried (this one is {row.status})")
    conn.execute(
        update(t.outbox)
        .where(o.id == outbox_id)
        .values(status="pending", attempts=0, next_attempt_at=now, lease_until=None)
    )
    _audit(
        conn,
        ticket["id"],
        actor,
        "reply_retried",
        now,
        {"status": "dead"},
        {"outbox_id": outbox_id},
    )
    return {"id": outbox_id, "status": "pending"}


def link_identity(
    conn: Connection,
    actor: Actor,
    ref: str,
    channel: str,
    external_user_id: str,
    now: datetime,
) -> dict[str, Any]:
    """The ticket's citizen is also `external_user_id` on `channel` (they said so, e.g. gave
    their WhatsApp number in a DM). If that identity was another citizen record, the two are
    merged: one citizen, one contact, across channels."""
    ticket = _writable(conn, actor, ref)
    if channel not in ("x", "whatsapp", "web", "open311"):
        raise InvalidRequest(f"unknown channel {channel!r}")
    external_user_id = external_user_id.strip()
    if channel == "whatsapp" and not re.fullmatch(r"\d{8,15}", external_user_id):
        raise InvalidRequest("a WhatsApp id is the number in international form, digits only")
    if not external_user_id:
        raise InvalidRequest("external_user_id is empty")
    citizen = ticket.get("citizen_id")
    if citizen is None:
        raise InvalidRequest("this ticket has no citizen to link")
    ci = t.citizen_identities.c
    other = conn.execute(
        select(ci.citizen_id).where(ci.channel == channel, ci.external_user_id == external_user_id)
    ).scalar()
    if other is not None and other != citizen:
        _check_citizen_in_scope(conn, actor, other)
    merged = None
    if other is None:
        conn.execute(
            t.citizen_identities.insert().values(
                channel=channel, external_user_id=external_user_id, citizen_id=citizen
            )
        )
    elif other != citizen:
        for table in (t.citizen_identities, t.tickets, t.messages):
            conn.execute(
                update(table).where(table.c.citizen_id == other).values(citizen_id=citizen)
            )
        merged = other
    _audit(
        conn,
        ticket["id"],
        actor,
        "identity_linked",
        now,
        None,
        {"channel": channel, "merged_citizen": merged},
    )
    return {"ref": ref, "channel": channel, "merged": merged is not None}


def _check_citizen_in_scope(conn: Connection, actor: Actor, citizen_id: int) -> None:
    """Merging citizen records rewrites every ticket of both: the actor must hold them all.
    The refusal does not say which office holds the others."""
    c = t.tickets.c
    elsewhere = conn.execute(
        select(c.id)
        .join(t.units, t.units.c.id == c.unit_id)
        .where(
            c.citizen_id == citizen_id,
            ~t.units.c.path.startswith(actor.scope_path, autoescape=True),
        )
        .limit(1)
    ).first()
    if elsewhere is not None:
        raise OutOfScope(
            "that identity belongs to a citizen with tickets outside your scope; an officer"
            " whose scope covers both can link them"
        )


def add_note(conn: Connection, actor: Actor, ref: str, note: str, now: datetime) -> dict[str, Any]:
    """An internal note on a ticket: seen by officers, never sent to the citizen."""
    ticket = _writable(conn, actor, ref)
    note = note.strip()
    if not note:
        raise InvalidRequest("the note is empty")
    _audit(conn, ticket["id"], actor, "note", now, None, None, note[:4000])
    return {"ref": ref}


def detach_from_incident(
    conn: Connection, actor: Actor, ref: str, reason: str, now: datetime
) -> dict[str, Any]:
    """An agent says a ticket was grouped into a mass incident by mistake: it leaves the
    incident (so an incident reply no longer reaches its citizen) and is never grouped again."""
    ticket = _writable(conn, actor, ref)
    if ticket.get("incident_id") is None:
        raise InvalidRequest(f"{ref} is not part of an incident")
    if not reason.strip():
        raise MissingReason("say why this ticket is not part of the incident")
    conn.execute(update(t.tickets).where(t.tickets.c.id == ticket["id"]).values(updated_at=now))
    incident_ref = _leave(conn, actor, ticket, now, lambda _ref: reason.strip()[:500])
    return {"ref": ref, "incident": incident_ref, "detached": True}


def merge(conn: Connection, actor: Actor, ref: str, into: str, now: datetime) -> dict[str, Any]:
    """The same problem reported twice: the messages move to `into`, this ticket becomes
    merged (pointing at it), and both audit trails say so."""
    ticket = _writable(conn, actor, ref)
    target = _writable(conn, actor, into.strip().upper())
    if target["id"] == ticket["id"]:
        raise InvalidRequest("a ticket cannot be merged into itself")
    if target["status"] in ("closed", "merged", "rejected"):
        raise InvalidRequest(f"{target['ref']} is {target['status']}: merge into an open ticket")
    check_transition(ticket["status"], TicketStatus.MERGED.value)
    _withdraw_offers(conn, ticket["id"], actor, TicketStatus.MERGED.value, now)
    m, c = t.messages.c, t.tickets.c
    moved = conn.execute(
        update(t.messages).where(m.ticket_id == ticket["id"]).values(ticket_id=target["id"])
    ).rowcount
    conn.execute(
        update(t.tickets)
        .where(c.id == target["id"])
        .values(message_count=c.message_count + moved, updated_at=now)
    )
    conn.execute(
        update(t.tickets)
        .where(c.id == ticket["id"])
        .values(status=TicketStatus.MERGED.value, updated_at=now, closed_at=now)
    )
    _audit(
        conn,
        ticket["id"],
        actor,
        "merged",
        now,
        {"status": ticket["status"]},
        {"status": "merged", "into": target["ref"]},
        f"merged into {target['ref']}",
    )
    _audit(
        conn,
        target["id"],
        actor,
        "merged_in",
        now,
        None,
        {"from": ref, "messages": moved},
        f"{ref} merged into this ticket",
    )
    return {"ref": ref, "into": target["ref"], "messages": moved}


MAX_LABEL = 40
_LABEL = re.compile(r"^[\w][\w .:/-]*$")


def change_labels(
    conn: Connection, actor: Actor, ref: str, add: str | None, remove: str | None, now: datetime
) -> dict[str, Any]:
    """Put a label on the ticket or take one off (the inbox filters by label)."""
    ticket = _writable(conn, actor, ref)
    labels = list(ticket["labels"] or [])
    before = list(labels)
    for label in (add, remove):
        if label is not None and (len(label) > MAX_LABEL or not _LABEL.match(label)):
            raise InvalidRequest(
                f"a label is up to {MAX_LABEL} letters, digits, spaces or . : / - _"
            )
    if add and add not in labels:
        labels.append(add)
    if remove and remove in labels:
        labels.remove(remove)
    if labels != before:
        conn.execute(
            update(t.tickets)
            .where(t.tickets.c.id == ticket["id"])
            .values(labels=labels, updated_at=now)
        )
        _audit(conn, ticket["id"], actor, "labelled", now, {"labels": before}, {"labels": labels})
    return {"ref": ref, "labels": labels}
