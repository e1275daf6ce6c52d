"""An SOS nobody acknowledged within minutes goes to the supervisor on duty.

An SOS is acknowledged when an officer does anything with it: assigns it to someone, changes
its status, replies, adds a note (any event by a `user:` actor), or it has its first
response. The automatic routing to the on-duty post is not an acknowledgement: that post's
officer may be away from the desk, which is how a "passenger unconscious" SOS sat unseen.

Past the organisation's `alerts.sos_acknowledge_within` (5 minutes by default) the ticket
goes, once, to the supervisors holding an on-duty post in the ticket's unit, else in the
nearest unit above it; failing anyone on duty, to the supervisors of the nearest unit that
has some; failing those, to the unit itself (everyone whose scope covers it). Each escalation
is a ticket event, and that event is what keeps it to once per ticket however often the
periodic job runs (rows being escalated are locked, so two runs at once do not both send).
An SOS opened more than a day ago is left to the SLA escalation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, exists, not_, or_, select

from sevadesk.routing.assignment import held_now
from sevadesk.store import tables as t
from sevadesk.store.alerts_repo import notify_unit

ACTION = "sos_escalated"
KIND = "sos_escalated"
SUPERVISING_ROLES = ("supervisor", "admin")
# Statuses an SOS has before anyone works it: new, or assigned to a post by routing.
UNSEEN_STATUSES = ("new", "assigned")
# Older SOS are the SLA escalation's (routing/escalation.py): this alarm is for the first
# hours, and the bound keeps its scan on the opened_at index (and an upgrade from ringing for
# every SOS of the past).
LOOKBACK = timedelta(hours=24)


@dataclass(frozen=True)
class SosEscalation:
    ref: str
    unit: str  # the unit whose supervisors were alerted
    notified: list[str]  # their usernames; empty when the unit itself was alerted
    on_duty: bool  # the supervisors alerted hold an on-duty post now


def _chain(unit_id: int, parents: dict[int, int | None]) -> list[int]:
    """The unit and its ancestors, nearest first."""
    out: list[int] = []
    current: int | None = unit_id
    while current is not None and current not in out:
        out.append(current)
        current = parents.get(current)
    return out


def _acknowledged() -> ColumnElement[bool]:
    c, e = t.tickets.c, t.ticket_events.c
    return or_(
        c.assignee_id.is_not(None),
        c.first_response_at.is_not(None),
        c.status.not_in(UNSEEN_STATUSES),
        exists().where(e.ticket_id == c.id, e.actor.like("user:%")),
    )


def escalate_unacknowledged_sos(
    conn: Connection, now: datetime, within_minutes: int, limit: int = 500
) -> list[SosEscalation]:
    c, e = t.tickets.c, t.ticket_events.c
    cutoff = now - timedelta(minutes=within_minutes)
    already = exists().where(e.ticket_id == c.id, e.action == ACTION)
    query = (
        select(c.id, c.ref, c.unit_id)
        .where(
            c.opened_at > now - LOOKBACK,
            c.opened_at <= cutoff,
            c.urgency == "sos",
            c.status.in_(UNSEEN_STATUSES),
            not_(_acknowledged()),
            not_(already),
        )
        .order_by(c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        # A second run at the same moment skips the tickets this one is escalating.
        query = query.with_for_update(of=t.tickets, skip_locked=True)
    rows = conn.execute(query).all()
    if not rows:
        return []
    un, us = t.units.c, t.users.c
    parents: dict[int, int | None] = dict(conn.execute(select(un.id, un.parent_id)).all())
    codes: dict[int, str] = dict(conn.execute(select(un.id, un.code)).all())
    p, h = t.positions.c, t.position_holders.c
    on_duty: dict[int, dict[int, str]] = {}
    for unit_id, user_id, username in conn.execute(
        select(p.unit_id, us.id, us.username)
        .join(t.position_holders, h.position_id == p.id)
        .join(t.users, us.id == h.user_id)
        .where(
            p.on_duty.is_(True),
            held_now(now),
            us.active.is_(True),
            us.role.in_(SUPERVISING_ROLES),
        )
    ):
        on_duty.setdefault(unit_id, {})[user_id] = username
    supervisors: dict[int, dict[int, str]] = {}
    for unit_id, user_id, username in conn.execute(
        select(us.unit_id, us.id, us.username).where(
            us.active.is_(True), us.role.in_(SUPERVISING_ROLES)
        )
    ):
        supervisors.setdefault(unit_id, {})[user_id] = username

    out: list[SosEscalation] = []
    events, alerts = [], []
    minutes = f"{within_minutes} minute{'s' if within_minutes != 1 else ''}"
    for r in rows:
        chain = _chain(r.unit_id, parents)
        target, people, duty = chain[0], {}, False
        for found_in, is_duty in ((on_duty, True), (supervisors, False)):
            unit = next((u for u in chain if found_in.get(u)), None)
            if unit is not None:
                target, people, duty = unit, found_in[unit], is_duty
                break
        message = f"SOS {r.ref} not acknowledged within {minutes}: take charge now"
        if people:
            alerts += [
                {
                    "user_id": uid,
                    "unit_id": None,
                    "ticket_id": r.id,
                    "kind": KIND,
                    "message": message,
                    "created_at": now,
                }
                for uid in people
            ]
        else:
            notify_unit(conn, target, r.id, KIND, message, now)
        who = (
            ", ".join(f"user:{name}" for name in sorted(people.values()))
            or f"everyone covering {codes[target]}"
        )
        events.append(
            {
                "ticket_id": r.id,
                "at": now,
                "actor": "system",
                "action": ACTION,
                "before": None,
                "after": {"unit": codes[target], "notified": sorted(people.values())},
                "note": f"no officer acknowledged the SOS within {minutes}; alerted {who}"
                + (" (on duty)" if duty else ""),
            }
        )
        out.append(SosEscalation(r.ref, codes[target], sorted(people.values()), duty))
    if alerts:
        conn.execute(t.notifications.insert(), alerts)
    conn.execute(t.ticket_events.insert(), events)
    return out
