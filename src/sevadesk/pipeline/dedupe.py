"""Stage 3: exactly once per (channel, external id).

This stage drops what is already known, cheaply, in one query per batch; the UNIQUE
constraint and ON CONFLICT DO NOTHING in the ticket stage settle races between workers.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select

from sevadesk.pipeline.batch import Item
from sevadesk.store import tables as t


def dedupe(conn: Connection, items: Sequence[Item]) -> list[Item]:
    """Marks duplicates (in the batch or already stored) and returns the fresh items in order."""
    seen: set[tuple[str, str]] = set()
    by_channel: dict[str, list[str]] = {}
    for item in items:
        key = (item.msg.channel, item.msg.external_id)
        if key in seen:
            item.duplicate = True
            continue
        seen.add(key)
        by_channel.setdefault(item.msg.channel, []).append(item.msg.external_id)
    stored: set[tuple[str, str]] = set()
    m = t.messages.c
    for channel, ids in by_channel.items():
        rows = conn.execute(
            select(m.external_id).where(m.channel == channel, m.external_id.in_(ids))
        ).scalars()
        stored.update((channel, x) for x in rows)
    for item in items:
        if not item.duplicate and (item.msg.channel, item.msg.external_id) in stored:
            item.duplicate = True
    return [i for i in items if not i.duplicate]
