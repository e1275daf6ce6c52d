"""Mass incidents: when many citizens report the same problem with the same train within a
few hours, their tickets are linked to one incident that one reply can answer.

The key is the problem and the train ("delay:train:12951"); three tickets with one key
within the window open an incident, and later tickets with the key join it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, select, update

from sevadesk.domain.messages import TriageResult
from sevadesk.store import tables as t
from sevadesk.store.fast import bulk_insert

WINDOW = timedelta(hours=6)
THRESHOLD = 3


def incident_key(triage: TriageResult) -> str | None:
    trains = triage.entity_values("train")
    if not trains or not triage.actionable:
        return None
    return f"{triage.category or triage.kind}:train:{trains[0]}"[:80]


def _title(key: str, count: int) -> str:
    problem, _, train = key.split(":", 2)
    return f"{problem.replace('_', ' ')}: train {train} ({count} reports)"


def link_incidents(conn: Connection, keys: Sequence[str], latest: datetime, allocate_ref) -> int:  # type: ignore[no-untyped-def]
    """Link tickets with these keys to open incidents, opening incidents where enough tickets
    share a key inside the window. A fixed number of queries per batch, whatever the keys.
    Returns how many tickets were linked."""
    c, i = t.tickets.c, t.incidents.c
    since = latest - WINDOW
    wanted = sorted(set(keys))
    waiting: dict[str, list[tuple[int, int, datetime]]] = {}
    for tid, unit_id, opened_at, key in conn.execute(
        select(c.id, c.unit_id, c.opened_at, c.incident_key)
        .where(c.incident_key.in_(wanted), c.incident_id.is_(None), c.opened_at >= since)
        .order_by(c.id)
    ):
        waiting.setdefault(key, []).append((tid, unit_id, opened_at))
    open_incidents = {
        r.key: (r.id, r.ticket_count)
        for r in conn.execute(
            select(i.id, i.key, i.ticket_count).where(
                i.key.in_(list(waiting)), i.status == "open", i.last_seen >= since
            )
        )
    }
    links: list[dict[str, int]] = []
    totals: list[dict[str, object]] = []
    for key, rows in waiting.items():
        if key in open_incidents:
            incident_id, count = open_incidents[key]
        elif len(rows) >= THRESHOLD:
            ref = allocate_ref(conn, "INC", 1)[0]
            incident_id = conn.execute(
                t.incidents.insert()
                .values(
                    ref=ref,
                    key=key,
                    unit_id=rows[0][1],
                    title=_title(key, len(rows)),
                    status="open",
                    ticket_count=0,
                    first_seen=rows[0][2],
                    last_seen=latest,
                )
                .returning(i.id)
            ).scalar_one()
            count = 0
        else:
            continue
        links += [{"tid": tid, "iid": incident_id} for tid, _, _ in rows]
        total = count + len(rows)
        totals.append({"iid": incident_id, "n": total, "title": _title(key, total)})
    if not links:
        return 0
    conn.execute(
        update(t.tickets).where(c.id == bindparam("tid")).values(incident_id=bindparam("iid")),
        links,
    )
    conn.execute(
        update(t.incidents)
        .where(i.id == bindparam("iid"))
        .values(ticket_count=bindparam("n"), title=bindparam("title"), last_seen=latest),
        totals,
    )
    bulk_insert(
        conn,
        t.ticket_events,
        [
            {
                "ticket_id": link["tid"],
                "at": latest,
                "actor": "system",
                "action": "incident_linked",
                "before": None,
                "after": {"incident_id": link["iid"]},
                "note": None,
            }
            for link in links
        ],
    )
    return len(links)
