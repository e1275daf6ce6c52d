"""Resolve each author to a citizen: one row per channel identity, created on first sight."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, and_, delete, or_, select, update

from sevadesk.channels.whatsapp.payloads import NumberChange
from sevadesk.pipeline.batch import Item
from sevadesk.store import account_events
from sevadesk.store import tables as t
from sevadesk.store.fast import bulk_insert, bulk_insert_returning


def _lookup(conn: Connection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    ci = t.citizen_identities.c
    out: dict[tuple[str, str], int] = {}
    by_channel: dict[str, list[str]] = {}
    for channel, uid in keys:
        by_channel.setdefault(channel, []).append(uid)
    cond = or_(
        *(and_(ci.channel == ch, ci.external_user_id.in_(uids)) for ch, uids in by_channel.items())
    )
    for row in conn.execute(select(ci.channel, ci.external_user_id, ci.citizen_id).where(cond)):
        out[(row.channel, row.external_user_id)] = row.citizen_id
    return out


def resolve_citizens(conn: Connection, items: Sequence[Item], now: datetime) -> None:
    wanted = {(i.msg.channel, i.msg.author_id) for i in items if not i.from_agency}
    if not wanted:
        return
    known = _lookup(conn, wanted)
    missing = sorted(wanted - known.keys())
    if missing:
        keys = [f"{ch}:{uid}" for ch, uid in missing]
        # Another worker may create the same citizen meanwhile: theirs wins, ours is skipped
        # (and found by the lookup below).
        created = dict(
            bulk_insert_returning(
                conn,
                t.citizens,
                [{"first_seen_as": k, "created_at": now} for k in keys],
                ["first_seen_as", "id"],
                on_conflict=["first_seen_as"],
            )
        )
        if len(created) < len(keys):
            c = t.citizens.c
            absent = [k for k in keys if k not in created]
            created.update(
                conn.execute(select(c.first_seen_as, c.id).where(c.first_seen_as.in_(absent))).all()
            )
        handles = {(i.msg.channel, i.msg.author_id): i.msg.author_handle for i in items}
        rows = [
            {
                "channel": ch,
                "external_user_id": uid,
                "citizen_id": created[key],
                "handle": handles[(ch, uid)],
            }
            for (ch, uid), key in zip(missing, keys, strict=True)
        ]
        bulk_insert(conn, t.citizen_identities, rows, on_conflict=["channel", "external_user_id"])
        known.update(_lookup(conn, set(missing)))
    for item in items:
        if not item.from_agency:
            item.citizen_id = known[(item.msg.channel, item.msg.author_id)]


def move_whatsapp_number(conn: Connection, change: NumberChange, now: datetime) -> bool:
    """A citizen moved their WhatsApp account to a new number (Meta's `user_changed_number`):
    their identity now has the new number, so replies go there and what they send from it is
    theirs. A record the new number already had (they wrote first, the event came after) is
    merged into theirs. The old number is dropped: it may be given to someone else. Written to
    the audit of each of the citizen's tickets and to the account events; no number is written
    there. False when the old number was never seen (nothing to move) or was already moved."""
    ci = t.citizen_identities.c
    citizen = conn.execute(
        select(ci.citizen_id).where(ci.channel == "whatsapp", ci.external_user_id == change.old)
    ).scalar()
    if citizen is None:
        return False
    other = conn.execute(
        select(ci.citizen_id).where(ci.channel == "whatsapp", ci.external_user_id == change.new)
    ).scalar()
    old_row = (ci.channel == "whatsapp") & (ci.external_user_id == change.old)
    merged = None
    if other is None:
        conn.execute(
            update(t.citizen_identities).where(old_row).values(external_user_id=change.new)
        )
    else:
        if other != citizen:
            for table in (t.citizen_identities, t.tickets, t.messages):
                conn.execute(
                    update(table).where(table.c.citizen_id == other).values(citizen_id=citizen)
                )
            merged = other
        conn.execute(delete(t.citizen_identities).where(old_row))
    after = {"channel": "whatsapp", "reason": "user_changed_number", "merged_citizen": merged}
    tickets = conn.execute(
        select(t.tickets.c.id).where(t.tickets.c.citizen_id == citizen)
    ).scalars()
    rows = [
        {
            "ticket_id": tid,
            "at": now,
            "actor": "whatsapp",
            "action": "identity_linked",
            "after": after,
        }
        for tid in tickets
    ]
    if rows:
        conn.execute(t.ticket_events.insert(), rows)
    account_events.record(
        conn,
        "whatsapp",
        "citizen_number_changed",
        f"citizen:{citizen}",
        now,
        "WhatsApp number changed (Meta user_changed_number)"
        + (f"; merged citizen {merged}" if merged else ""),
    )
    return True
