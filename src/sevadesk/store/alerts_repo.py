"""The desk's alerts: the notifications a user sees, their read state and sound setting.

A notification is addressed to one user (`user_id`) or to a unit (`unit_id`, no user): a
unit's alert is seen by everyone whose scope covers the unit, as tickets are. Read state is
each user's own: a row in `notification_reads` per alert marked read, and a `read_through`
mark that "mark all read" moves, so clearing a thousand alerts writes one row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)

from sevadesk.store import tables as t
from sevadesk.store.fast import bulk_insert
from sevadesk.store.users_repo import Actor

# Kinds that ring: an SOS alerted to the post's officers, or to the unit when nobody holds
# an on-duty post, and an SOS nobody acknowledged, escalated to the on-duty supervisor.
SOS_KINDS = ("sos", "sos_escalated")


class UnknownAlert(LookupError):
    """No notification with that id is addressed to this user or a unit in their scope."""


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    kind: str
    message: str
    created_at: datetime
    ticket_ref: str | None
    ticket_status: str | None
    read: bool

    @property
    def sos(self) -> bool:
        return self.kind in SOS_KINDS


@dataclass(frozen=True, slots=True)
class AlertCount:
    unread: int
    sos_unread: int
    newest_sos: int  # id of the newest unread SOS alert (0: none): a tab rings when it grows
    muted: bool


def notify_unit(
    conn: Connection, unit_id: int, ticket_id: int | None, kind: str, message: str, now: datetime
) -> None:
    """An alert for everyone whose scope covers the unit (no one person is responsible)."""
    conn.execute(
        t.notifications.insert().values(
            user_id=None,
            unit_id=unit_id,
            ticket_id=ticket_id,
            kind=kind,
            message=message,
            created_at=now,
        )
    )


def _addressed_to(actor: Actor) -> ColumnElement[bool]:
    n = t.notifications.c
    in_scope = select(t.units.c.id).where(
        t.units.c.path.startswith(actor.scope_path, autoescape=True)
    )
    return or_(n.user_id == actor.id, and_(n.user_id.is_(None), n.unit_id.in_(in_scope)))


def _read_through(conn: Connection, user_id: int) -> int:
    value = conn.execute(
        select(t.alert_preferences.c.read_through).where(t.alert_preferences.c.user_id == user_id)
    ).scalar()
    return int(value or 0)


def _unread(actor: Actor, through: int) -> ColumnElement[bool]:
    n, r = t.notifications.c, t.notification_reads.c
    return and_(
        n.id > through,
        n.read_at.is_(None),
        ~exists().where(r.user_id == actor.id, r.notification_id == n.id),
    )


def sound_muted(conn: Connection, user_id: int) -> bool:
    value = conn.execute(
        select(t.alert_preferences.c.sound_muted).where(t.alert_preferences.c.user_id == user_id)
    ).scalar()
    return bool(value)


def alert_count(conn: Connection, actor: Actor) -> AlertCount:
    n = t.notifications.c
    through = _read_through(conn, actor.id)
    is_sos = n.kind.in_(SOS_KINDS)
    row = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((is_sos, 1), else_=0)), 0),
            func.coalesce(func.max(case((is_sos, n.id), else_=literal(0))), 0),
        ).where(_addressed_to(actor), _unread(actor, through))
    ).one()
    return AlertCount(int(row[0]), int(row[1]), int(row[2]), sound_muted(conn, actor.id))


def list_alerts(
    conn: Connection, actor: Actor, limit: int = 50, before: int | None = None
) -> list[Alert]:
    """The user's alerts, newest first, with their ticket's reference and status."""
    n, tk = t.notifications.c, t.tickets.c
    through = _read_through(conn, actor.id)
    query = (
        select(
            n.id,
            n.kind,
            n.message,
            n.created_at,
            tk.ref,
            tk.status,
            _unread(actor, through).label("unread"),
        )
        .outerjoin(t.tickets, tk.id == n.ticket_id)
        .where(_addressed_to(actor))
        .order_by(n.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(n.id < before)
    return [
        Alert(r.id, r.kind, r.message, r.created_at, r.ref, r.status, not r.unread)
        for r in conn.execute(query)
    ]


def _visible(conn: Connection, actor: Actor, notification_id: int) -> bool:
    n = t.notifications.c
    return (
        conn.execute(select(n.id).where(n.id == notification_id, _addressed_to(actor))).first()
        is not None
    )


def mark_read(conn: Connection, actor: Actor, notification_id: int, now: datetime) -> None:
    """The user's own read state; no audit (it changes nothing anyone else sees)."""
    if not _visible(conn, actor, notification_id):
        raise UnknownAlert(notification_id)
    bulk_insert(
        conn,
        t.notification_reads,
        [{"user_id": actor.id, "notification_id": notification_id, "read_at": now}],
        on_conflict=["user_id", "notification_id"],
    )


def _preferences(conn: Connection, user_id: int, now: datetime, **values: Any) -> None:
    p = t.alert_preferences.c
    done = conn.execute(
        update(t.alert_preferences).where(p.user_id == user_id).values(updated_at=now, **values)
    ).rowcount
    if not done:
        conn.execute(t.alert_preferences.insert().values(user_id=user_id, updated_at=now, **values))


def mark_all_read(conn: Connection, actor: Actor, now: datetime) -> None:
    """Everything the user sees now is read: their `read_through` mark moves to the newest."""
    newest = conn.execute(
        select(func.max(t.notifications.c.id)).where(_addressed_to(actor))
    ).scalar()
    if newest is not None and newest > _read_through(conn, actor.id):
        _preferences(conn, actor.id, now, read_through=int(newest))


def set_sound_muted(conn: Connection, user_id: int, muted: bool, now: datetime) -> None:
    _preferences(conn, user_id, now, sound_muted=muted)


def newest_notification_id(conn: Connection) -> int:
    """The newest notification's id: the one cheap query that tells whether any count moved."""
    return int(conn.execute(select(func.max(t.notifications.c.id))).scalar() or 0)
