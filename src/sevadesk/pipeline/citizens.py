"""Resolve each author to a citizen: one row per channel identity, created on first sight."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, and_, or_, select

from sevadesk.pipeline.batch import Item
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
