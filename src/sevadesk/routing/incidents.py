"""Mass incidents: when many citizens report the same problem with the same train within a
few hours, their tickets are linked to one incident that one reply can answer.

The key is the problem and the train ("delay:train:12951"), or for posts naming no train the
problem and a fingerprint of the text, so a message copied by hundreds of citizens is one
incident; three tickets with one key within the window open an incident, and later tickets
with the key join it. Paraphrases without a shared train are not grouped (yet): that needs
MinHash/LSH over shingles.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, bindparam, or_, select, update

from sevadesk.domain.messages import TriageResult
from sevadesk.store import tables as t
from sevadesk.store.fast import bulk_insert
from sevadesk.store.sequences import allocate_refs
from sevadesk.triage.text import tokens

WINDOW = timedelta(hours=6)
THRESHOLD = 3


_NOISE = re.compile(r"https?://\S+|[@#]\w+|\d+")
MIN_WORDS = 5


def text_fingerprint(text: str) -> str | None:
    """The same post copied by many citizens (handles, numbers, case, punctuation and word
    order aside) has one fingerprint; short posts have none (too many collide)."""
    words = sorted(set(tokens(_NOISE.sub(" ", text))))
    if len(words) < MIN_WORDS:
        return None
    return hashlib.sha1(" ".join(words).encode()).hexdigest()[:16]


def incident_key(triage: TriageResult) -> str | None:
    """Same problem and same train; else the same text (copy-paste campaigns)."""
    if not triage.actionable:
        return None
    problem = triage.category or triage.kind
    trains = triage.entity_values("train")
    if trains:
        return f"{problem}:train:{trains[0]}"[:80]
    fingerprint = text_fingerprint(triage.masked_text)
    return f"{problem}:text:{fingerprint}" if fingerprint else None


def _title(key: str, count: int) -> str:
    problem, kind, value = key.split(":", 2)
    what = f"train {value}" if kind == "train" else "the same post from many citizens"
    return f"{problem.replace('_', ' ')}: {what} ({count} reports)"


def open_incidents(conn: Connection, keys: Sequence[str], latest: datetime) -> dict[str, int]:
    """Open incidents (seen within the window) by key: new tickets join them as they are stored."""
    i = t.incidents.c
    rows = conn.execute(
        select(i.key, i.id).where(
            i.key.in_(sorted(set(keys))), i.status == "open", i.last_seen >= latest - WINDOW
        )
    )
    return dict(rows.all())


def link_incidents(
    conn: Connection,
    keys: Sequence[str],
    latest: datetime,
    joined: Sequence[tuple[int, int]] = (),
) -> int:
    """Account for tickets that joined an open incident when stored (`joined`: ticket id,
    incident id), link the others with these keys to open incidents, and open incidents where
    enough tickets share a key inside the window. A fixed number of queries per batch.
    Returns how many tickets were linked."""
    c, i = t.tickets.c, t.incidents.c
    since = latest - WINDOW
    waiting: dict[str, list[tuple[int, int, datetime]]] = {}
    for tid, unit_id, opened_at, key in conn.execute(
        select(c.id, c.unit_id, c.opened_at, c.incident_key)
        .where(c.incident_key.in_(sorted(set(keys))), c.incident_id.is_(None), c.opened_at >= since)
        .order_by(c.id)
    ):
        waiting.setdefault(key, []).append((tid, unit_id, opened_at))
    joined_ids = {iid for _, iid in joined}
    known = {
        r.id: (r.key, r.ticket_count)
        for r in conn.execute(
            select(i.id, i.key, i.ticket_count).where(
                or_(
                    i.id.in_(joined_ids),
                    and_(i.key.in_(list(waiting)), i.status == "open", i.last_seen >= since),
                )
            )
        )
    }
    by_key = {key: iid for iid, (key, _) in known.items()}
    added: dict[int, int] = {}
    for _, iid in joined:
        added[iid] = added.get(iid, 0) + 1
    updates: list[dict[str, int]] = []
    for key, rows in waiting.items():
        if key in by_key:
            incident_id = by_key[key]
        elif len(rows) >= THRESHOLD:
            ref = allocate_refs(conn, "INC", 1)[0]
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
            known[incident_id] = (key, 0)
        else:
            continue
        updates += [{"tid": tid, "iid": incident_id} for tid, _, _ in rows]
        added[incident_id] = added.get(incident_id, 0) + len(rows)
    if updates:
        conn.execute(
            update(t.tickets).where(c.id == bindparam("tid")).values(incident_id=bindparam("iid")),
            updates,
        )
    if not added:
        return 0
    totals = []
    for iid, n in added.items():
        key, count = known[iid]
        totals.append({"iid": iid, "n": count + n, "title": _title(key, count + n)})
    conn.execute(
        update(t.incidents)
        .where(i.id == bindparam("iid"))
        .values(ticket_count=bindparam("n"), title=bindparam("title"), last_seen=latest),
        totals,
    )
    links = [(tid, iid) for tid, iid in joined] + [(u["tid"], u["iid"]) for u in updates]
    bulk_insert(
        conn,
        t.ticket_events,
        [
            {
                "ticket_id": tid,
                "at": latest,
                "actor": "system",
                "action": "incident_linked",
                "before": None,
                "after": {"incident_id": iid},
                "note": None,
            }
            for tid, iid in links
        ],
    )
    return len(links)
