"""Notifications to the people who must look: a unit's supervisors, a post's officers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select

from sevadesk.store import tables as t


def notify_supervisors(
    conn: Connection, unit_id: int, ticket_id: int, kind: str, message: str, now: datetime
) -> int:
    """One notification per active supervisor or admin of the unit; returns how many."""
    u = t.users.c
    supervisors = (
        conn.execute(
            select(u.id).where(
                u.unit_id == unit_id, u.role.in_(["supervisor", "admin"]), u.active.is_(True)
            )
        )
        .scalars()
        .all()
    )
    return _notify_users(conn, supervisors, ticket_id, kind, message, now)


def _notify_users(
    conn: Connection,
    user_ids: Sequence[int],
    ticket_id: int,
    kind: str,
    message: str,
    now: datetime,
) -> int:
    """One notification per user; returns how many."""
    if user_ids:
        conn.execute(
            t.notifications.insert(),
            [
                {
                    "user_id": uid,
                    "ticket_id": ticket_id,
                    "kind": kind,
                    "created_at": now,
                    "message": message[:1000],
                }
                for uid in user_ids
            ],
        )
    return len(user_ids)


# Transfers: the receiving unit hears of an offer, the offering unit of its outcome.
OFFER_KINDS = ("offer_received", "offer_accepted", "offer_returned", "offer_withdrawn")


def notify_unit(
    conn: Connection,
    unit_id: int,
    ticket_id: int,
    kind: str,
    message: str,
    now: datetime,
    also: str | None = None,
) -> int:
    """One notification per active officer (agent, supervisor, admin) posted to the unit,
    and to the user `also` (a username, e.g. who made the offer) wherever they sit; returns
    how many."""
    u = t.users.c
    officers = u.role.in_(["agent", "supervisor", "admin"]) & u.active.is_(True)
    who = u.unit_id == unit_id
    if also:
        who = who | (u.username == also)
    users = conn.execute(select(u.id).where(officers & who)).scalars().all()
    return _notify_users(conn, users, ticket_id, kind, message, now)
