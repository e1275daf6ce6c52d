"""SLA breaches escalate a ticket one level up the hierarchy, and again at each further breach.

A ticket that missed its first response (or, once answered, its resolution) deadline goes to
escalation level 1: its priority rises and the supervisors of the unit one level above its
own are notified. Every further interval of the same length without progress raises it one
more level, up to the top of the organisation. Paused tickets (awaiting the citizen) wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, or_, select, update

from sevadesk.domain.local_time import LONG, local_time
from sevadesk.domain.sla import escalation_level, raise_priority
from sevadesk.domain.status import OPEN_STATUSES
from sevadesk.routing.sla import SlaBook
from sevadesk.store import tables as t
from sevadesk.store.notifications_repo import notify_supervisors
from sevadesk.store.org_repo import org_timezone


@dataclass(frozen=True)
class Escalation:
    ref: str
    level: int
    unit: str
    deadline: str
    priority: str
    notified: int


def _ancestor(unit_id: int, steps: int, parents: dict[int, int | None]) -> int:
    current = unit_id
    for _ in range(steps):
        parent = parents.get(current)
        if parent is None:
            break
        current = parent
    return current


def run_escalations(
    conn: Connection, now: datetime, book: SlaBook, limit: int = 5000
) -> list[Escalation]:
    c = t.tickets.c
    due = or_(
        and_(c.first_response_at.is_(None), c.first_response_due <= now),
        c.resolution_due <= now,
    )
    rows = conn.execute(
        select(
            c.id,
            c.ref,
            c.unit_id,
            c.category,
            c.urgency,
            c.priority,
            c.escalation_level,
            c.first_response_at,
            c.first_response_due,
            c.resolution_due,
        )
        .where(c.status.in_([s.value for s in OPEN_STATUSES]), c.sla_paused_at.is_(None), due)
        .order_by(c.id)
        .limit(limit)
    ).all()
    codes = {r.id: r.code for r in conn.execute(select(t.units.c.id, t.units.c.code))}
    zone = org_timezone(conn)  # the audit note names the deadline as officers read it
    out: list[Escalation] = []
    for r in rows:
        policy = book.policy(r.unit_id, r.category, r.urgency)
        if policy is None:
            continue
        calendar = book.calendar(policy)
        if (
            r.first_response_at is None
            and r.first_response_due is not None
            and r.first_response_due <= now
        ):
            deadline, interval, which = (
                r.first_response_due,
                policy.first_response_minutes,
                "first response",
            )
        else:
            deadline, interval, which = r.resolution_due, policy.resolution_minutes, "resolution"
        level = escalation_level(deadline, interval, now, calendar)
        if level <= r.escalation_level:
            continue
        target = _ancestor(r.unit_id, level, book.parents)
        priority = raise_priority(r.priority, level - r.escalation_level)
        conn.execute(
            update(t.tickets)
            .where(c.id == r.id)
            .values(
                escalation_level=level, escalation_unit_id=target, priority=priority, updated_at=now
            )
        )
        conn.execute(
            t.ticket_events.insert().values(
                ticket_id=r.id,
                at=now,
                actor="system",
                action="escalated",
                before={"escalation_level": r.escalation_level, "priority": r.priority},
                after={"escalation_level": level, "priority": priority, "unit": codes[target]},
                note=f"{which} deadline {local_time(deadline, zone, LONG)} missed",
            )
        )
        notified = notify_supervisors(
            conn,
            target,
            r.id,
            "sla_breach",
            f"{r.ref} missed its {which} deadline; escalated to level {level} ({codes[target]})",
            now,
        )
        out.append(Escalation(r.ref, level, codes[target], which, priority, notified))
    return out
