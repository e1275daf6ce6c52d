"""Mass incidents: when many citizens report the same problem within a few hours, their
tickets are linked to one incident that one reply can answer.

Two ways to be "the same problem", never for an SOS (an emergency is answered on its own).
Posts of one category that name a train, a station or a PNR are keyed by the category and
that entity ("delay:train:12951", "water:station:CNB"); three tickets with
one key within the window open an incident, and later tickets with the key join it. Posts
that name none are compared by their words (MinHash/LSH, routing/similar.py): a ticket joins
an open incident when it is near-identical to one of its tickets, and opens one when it is
near-identical to at least two tickets not yet in an incident, all about the same kind of
problem. Each new ticket is compared with its own neighbours, never through a chain of
them, so unrelated posts cannot drift into one incident.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Connection, and_, bindparam, delete, func, select, update

from sevadesk.domain.messages import TriageResult
from sevadesk.routing import similar
from sevadesk.store import tables as t
from sevadesk.store.fast import bulk_insert
from sevadesk.store.sequences import allocate_refs

WINDOW = timedelta(hours=6)
THRESHOLD = 3


def _emergency(triage: TriageResult) -> bool:
    return triage.urgency == "sos" or triage.kind == "sos"


def problem_of(triage: TriageResult) -> str | None:
    """What near-identical posts are grouped by: the category, else (for a copy-paste
    campaign triage has no category for) the kind; their words already say they are one
    problem. None, never grouped automatically, for posts that are not actionable and for an
    SOS: an emergency is one person's, answered on its own, never by a reply written for many
    (a passenger taken ill on a train with dirty coaches is not a cleanliness report)."""
    if not triage.actionable or _emergency(triage):
        return None
    return triage.category or triage.kind


def incident_key(triage: TriageResult, station: str | None = None) -> str | None:
    """Same category and the same train, station or PNR. A post triage gave no category
    has no key: posts naming one train may be a delay, a theft and a dirty coach."""
    problem = problem_of(triage)
    if problem is None or not triage.category:
        return None
    for kind, values in (
        ("train", triage.entity_values("train")),
        ("station", [station] if station else []),
        ("pnr", triage.entity_values("pnr")),
    ):
        if values:
            return f"{problem}:{kind}:{values[0]}"[:80]
    return None


@dataclass(slots=True)
class Sketch:
    """A new ticket without an entity key, to compare by its words."""

    ticket_id: int
    unit_id: int
    opened_at: datetime
    problem: str
    words: frozenset[str]


def sketch_words(triage: TriageResult) -> frozenset[str] | None:
    words = similar.content_words(triage.masked_text)
    return words if len(words) >= similar.MIN_WORDS else None


def incident_title(key: str, count: int) -> str:
    """What an incident is about and how many reports it has (of those a viewer may see)."""
    problem, kind, value = key.split(":", 2)
    what = {
        "train": f"train {value}",
        "station": f"station {value}",
        "pnr": f"PNR {value}",
    }.get(kind, "near-identical posts from many citizens")
    return f"{problem.replace('_', ' ')}: {what} ({count} reports)"


def _open(
    conn: Connection, which: ColumnElement[bool], since: datetime, known: dict[int, tuple[str, int]]
) -> dict[int, str]:
    """Open incidents seen since `since` among `which`, id → key; each one's key and ticket
    count (before this batch) is noted in `known` unless it is there already."""
    i = t.incidents.c
    found: dict[int, str] = {}
    for iid, key, count in conn.execute(
        select(i.id, i.key, i.ticket_count).where(which, i.status == "open", i.last_seen >= since)
    ):
        found[iid] = key
        known.setdefault(iid, (key, count))
    return found


def open_incidents(conn: Connection, keys: Sequence[str], latest: datetime) -> dict[str, int]:
    """Open incidents (seen within the window) by key: new tickets join them as they are stored."""
    found = _open(conn, t.incidents.c.key.in_(sorted(set(keys))), latest - WINDOW, {})
    return {key: iid for iid, key in found.items()}


def _open_incident(
    conn: Connection, key: str, unit_id: int, first_seen: datetime, latest: datetime, count: int
) -> int:
    ref = allocate_refs(conn, "INC", 1)[0]
    return int(
        conn.execute(
            t.incidents.insert()
            .values(
                ref=ref,
                key=key[:80],
                unit_id=unit_id,
                title=incident_title(key, count),
                status="open",
                ticket_count=0,
                first_seen=first_seen,
                last_seen=latest,
            )
            .returning(t.incidents.c.id)
        ).scalar_one()
    )


def link_incidents(
    conn: Connection,
    keys: Sequence[str],
    latest: datetime,
    joined: Sequence[tuple[int, int]] = (),
    sketches: Sequence[Sketch] = (),
) -> int:
    """Account for tickets that joined an open incident when stored (`joined`: ticket id,
    incident id), link the others with these keys to open incidents, open incidents where
    enough tickets share a key inside the window, and do the same for `sketches` by their
    words. A fixed number of queries per batch. Returns how many tickets were linked."""
    i = t.incidents.c
    since = latest - WINDOW
    known: dict[int, tuple[str, int]] = {}  # incident id → (key, tickets before this batch)
    if joined:
        ids = {iid for _, iid in joined}
        rows = conn.execute(select(i.id, i.key, i.ticket_count).where(i.id.in_(ids)))
        known.update({r.id: (r.key, r.ticket_count) for r in rows})
    updates = _link_by_key(conn, keys, since, latest, known)
    updates += _link_similar(conn, sketches, since, latest, known)
    return _record(conn, list(joined), updates, known, latest)


def _link_by_key(
    conn: Connection,
    keys: Sequence[str],
    since: datetime,
    latest: datetime,
    known: dict[int, tuple[str, int]],
) -> list[tuple[int, int]]:
    if not keys:
        return []
    c, i = t.tickets.c, t.incidents.c
    waiting: dict[str, list[tuple[int, int, datetime]]] = {}
    for tid, unit_id, opened_at, key in conn.execute(
        select(c.id, c.unit_id, c.opened_at, c.incident_key)
        .where(c.incident_key.in_(sorted(set(keys))), c.incident_id.is_(None), c.opened_at >= since)
        .order_by(c.id)
    ):
        waiting.setdefault(key, []).append((tid, unit_id, opened_at))
    if not waiting:
        return []
    by_key = {key: iid for iid, key in _open(conn, i.key.in_(list(waiting)), since, known).items()}
    updates: list[tuple[int, int]] = []
    for key, rows in waiting.items():
        if key in by_key:
            incident_id = by_key[key]
        elif len(rows) >= THRESHOLD:
            incident_id = _open_incident(conn, key, rows[0][1], rows[0][2], latest, len(rows))
            known[incident_id] = (key, 0)
        else:
            continue
        updates += [(tid, incident_id) for tid, _, _ in rows]
    return updates


# A new ticket is compared with the most recent tickets of each of its bands: a mass incident
# fills its bands with hundreds of tickets, and the newest few are as good as all of them.
PER_BAND = 4


def _recent_members(conn: Connection, bands: Sequence[int]) -> list[tuple[int, int]]:
    """(band, ticket id) for the PER_BAND newest tickets in each band: an index seek per band,
    however many tickets a band has gathered (a mass incident fills its bands quickly)."""
    out: list[tuple[int, int]] = []
    if conn.dialect.name == "postgresql":
        sql = (
            "SELECT x.band, y.ticket_id FROM unnest(%s::bigint[]) AS x(band) CROSS JOIN LATERAL "
            "(SELECT ticket_id FROM incident_bands WHERE band = x.band "
            f"ORDER BY ticket_id DESC LIMIT {PER_BAND}) AS y"
        )
        out.extend(conn.exec_driver_sql(sql, (list(bands),)).all())
        return out
    one = (
        "SELECT * FROM (SELECT band, ticket_id FROM incident_bands WHERE band = ? "
        f"ORDER BY ticket_id DESC LIMIT {PER_BAND})"
    )
    for start in range(0, len(bands), 400):  # SQLite allows 500 terms in a compound SELECT
        chunk = tuple(bands[start : start + 400])
        out.extend(conn.exec_driver_sql(" UNION ALL ".join([one] * len(chunk)), chunk).all())
    return out


@dataclass
class _Neighbours:
    """Recent sketched tickets near a batch: band members, signatures, incidents, copies.

    A copy-paste campaign brings thousands of copies of one post, all alike and found only
    through their original, so copies are not loaded one by one: each original keeps how many
    of its copies are in each incident, and the ids of those in none yet (few: a copy joins an
    incident as soon as its original's neighbourhood has one)."""

    members: dict[int, list[int]]  # band → ticket ids, oldest first, at most PER_BAND
    signature_of: dict[int, np.ndarray]
    incident_of: dict[int, int | None]  # originals (tickets in bands)
    where: dict[int, tuple[int, datetime]]  # ticket → (unit id, opened at)
    copy_incidents: dict[int, Counter[int]]  # original → incident → copies in it
    loose_copies: dict[int, set[int]]  # original → copies in no incident
    original_of: dict[int, int]  # loose copy → its original

    @classmethod
    def load(cls, conn: Connection, bands: Sequence[int], since: datetime) -> _Neighbours:
        s, c = t.incident_sketches.c, t.tickets.c
        near = cls({}, {}, {}, {}, {}, {}, {})
        for band, tid in _recent_members(conn, bands):
            near.members.setdefault(band, []).append(tid)
        for recent in near.members.values():
            recent.sort()
        older = sorted({tid for tids in near.members.values() for tid in tids})
        sketched = t.incident_sketches.join(t.tickets, c.id == s.ticket_id)
        for start in range(0, len(older), 5000):
            chunk = older[start : start + 5000]
            for tid, signature, iid, unit_id, opened_at in conn.execute(
                select(s.ticket_id, s.signature, c.incident_id, c.unit_id, c.opened_at)
                .select_from(sketched)
                .where(s.ticket_id.in_(chunk), s.opened_at >= since)
            ):
                near.signature_of[tid] = np.frombuffer(signature, dtype=np.uint32)
                near.incident_of[tid] = iid
                near.where[tid] = (unit_id, opened_at)
            copies = and_(s.copy_of.in_(chunk), s.opened_at >= since)
            for original, iid, count in conn.execute(
                select(s.copy_of, c.incident_id, func.count())
                .select_from(sketched)
                .where(copies, c.incident_id.is_not(None))
                .group_by(s.copy_of, c.incident_id)
            ):
                near.copy_incidents.setdefault(original, Counter())[iid] += count
            for tid, original, unit_id, opened_at in conn.execute(
                select(s.ticket_id, s.copy_of, c.unit_id, c.opened_at)
                .select_from(sketched)
                .where(copies, c.incident_id.is_(None))
            ):
                near.loose_copies.setdefault(original, set()).add(tid)
                near.original_of[tid] = original
                near.where[tid] = (unit_id, opened_at)
        return near

    def add(self, ticket_id: int, bands: Sequence[int]) -> None:
        self.incident_of[ticket_id] = None
        for band in bands:
            recent = self.members.setdefault(band, [])
            recent.append(ticket_id)
            if len(recent) > PER_BAND:
                del recent[0]

    def add_copy(self, ticket_id: int, original: int) -> None:
        self.loose_copies.setdefault(original, set()).add(ticket_id)
        self.original_of[ticket_id] = original

    def incidents(self) -> set[int]:
        found = {iid for iid in self.incident_of.values() if iid is not None}
        return found.union(*self.copy_incidents.values())

    def votes(self, near: Sequence[int], joinable: set[int]) -> Counter[int]:
        """Joinable incidents among the near originals and their copies, one vote a ticket."""
        votes: Counter[int] = Counter()
        for o in near:
            if (iid := self.incident_of[o]) in joinable:
                assert iid is not None
                votes[iid] += 1
            for iid, count in self.copy_incidents.get(o, {}).items():
                if iid in joinable:
                    votes[iid] += count
        return votes

    def free(self, near: Sequence[int]) -> list[int]:
        """The near originals and their copies that are in no incident, oldest first."""
        out = {o for o in near if self.incident_of[o] is None}
        for o in near:
            out |= self.loose_copies.get(o, set())
        return sorted(out)

    def assign(self, ticket_id: int, incident_id: int) -> None:
        original = self.original_of.pop(ticket_id, None)
        if original is None:
            self.incident_of[ticket_id] = incident_id
        else:
            self.loose_copies[original].discard(ticket_id)
            self.copy_incidents.setdefault(original, Counter())[incident_id] += 1


def _link_similar(
    conn: Connection,
    sketches: Sequence[Sketch],
    since: datetime,
    latest: datetime,
    known: dict[int, tuple[str, int]],
) -> list[tuple[int, int]]:
    if not sketches:
        return []
    i = t.incidents.c
    sketches = sorted(sketches, key=lambda sk: sk.ticket_id)
    signatures = similar.signatures([sk.words for sk in sketches])
    keys = similar.band_keys([sk.problem for sk in sketches], signatures)
    bands = {sk.ticket_id: row.tolist() for sk, row in zip(sketches, keys, strict=True)}
    nb = _Neighbours.load(conn, sorted({k for ks in bands.values() for k in ks}), since)
    joinable: set[int] = set()
    if candidates := nb.incidents():
        joinable = set(_open(conn, i.id.in_(candidates), since, known))
    updates: list[tuple[int, int]] = []
    rows: list[dict[str, Any]] = []
    for sk, sig in zip(sketches, signatures, strict=True):
        x = sk.ticket_id
        # Tickets older than the window have no signature loaded: they are forgotten.
        others = sorted(
            {o for band in bands[x] for o in nb.members.get(band, ()) if o in nb.signature_of}
        )
        near: list[int] = []
        copy_of = None
        if others:
            agree = similar.similarities(sig, [nb.signature_of[o] for o in others])
            near = [o for o, a in zip(others, agree, strict=True) if a >= similar.SIMILAR]
            if agree.max() == 1.0:
                copy_of = others[int(agree.argmax())]
        rows.append(
            {
                "ticket_id": x,
                "opened_at": sk.opened_at,
                "signature": sig.tobytes(),
                "copy_of": copy_of,
            }
        )
        votes = nb.votes(near, joinable)
        free = [] if votes else nb.free(near)
        nb.where[x] = (sk.unit_id, sk.opened_at)
        if copy_of is None:
            nb.signature_of[x] = sig
            nb.add(x, bands[x])
        else:  # a copy adds nothing to the bands; it is found through its original
            nb.add_copy(x, copy_of)
        if votes:
            iid = votes.most_common(1)[0][0]
            nb.assign(x, iid)
            updates.append((x, iid))
            continue
        if len(free) + 1 < THRESHOLD:
            continue
        key = f"{sk.problem}:similar:{free[0]}"
        iid = _open_incident(conn, key, *nb.where[free[0]], latest, len(free) + 1)
        known[iid] = (key, 0)
        joinable.add(iid)
        for member in [*free, x]:
            nb.assign(member, iid)
            updates.append((member, iid))
    bulk_insert(conn, t.incident_sketches, rows)
    bulk_insert(
        conn,
        t.incident_bands,
        [
            {"band": band, "ticket_id": row["ticket_id"]}
            for row in rows
            if row["copy_of"] is None
            for band in bands[row["ticket_id"]]
        ],
    )
    return updates


def _record(
    conn: Connection,
    joined: list[tuple[int, int]],
    updates: list[tuple[int, int]],
    known: dict[int, tuple[str, int]],
    latest: datetime,
) -> int:
    """Set the tickets' incident, the incidents' counts and titles, and audit every link."""
    c, i = t.tickets.c, t.incidents.c
    if updates:
        conn.execute(
            update(t.tickets).where(c.id == bindparam("tid")).values(incident_id=bindparam("iid")),
            [{"tid": tid, "iid": iid} for tid, iid in updates],
        )
    links = joined + updates
    if not links:
        return 0
    added = Counter(iid for _, iid in links)
    totals = []
    for iid, n in added.items():
        key, count = known[iid]
        totals.append({"iid": iid, "n": count + n, "title": incident_title(key, count + n)})
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


def prune_sketches(conn: Connection, now: datetime) -> int:
    """Forget the signatures of tickets older than the incident window (their bands go with
    them): nothing can join them any more."""
    s = t.incident_sketches.c
    stale = select(s.ticket_id).where(s.opened_at < now - WINDOW).scalar_subquery()
    conn.execute(delete(t.incident_bands).where(t.incident_bands.c.ticket_id.in_(stale)))
    return conn.execute(delete(t.incident_sketches).where(s.opened_at < now - WINDOW)).rowcount


def leave_incident(conn: Connection, ticket_id: int, incident_id: int) -> str:
    """An agent took a ticket out of an incident it was grouped into by mistake: it is never
    grouped again (no key, no signature) and the incident counts one ticket fewer. Copies that
    were found through its words lose that link: they stored no bands of their own, so later
    posts find them only through a new original. Returns the incident's reference."""
    i, c, s = t.incidents.c, t.tickets.c, t.incident_sketches.c
    incident = conn.execute(select(i.ref, i.key, i.ticket_count).where(i.id == incident_id)).one()
    conn.execute(
        update(t.tickets).where(c.id == ticket_id).values(incident_id=None, incident_key=None)
    )
    conn.execute(update(t.incident_sketches).where(s.copy_of == ticket_id).values(copy_of=None))
    conn.execute(delete(t.incident_bands).where(t.incident_bands.c.ticket_id == ticket_id))
    conn.execute(delete(t.incident_sketches).where(s.ticket_id == ticket_id))
    count = max(incident.ticket_count - 1, 0)
    conn.execute(
        update(t.incidents)
        .where(i.id == incident_id)
        .values(ticket_count=count, title=incident_title(incident.key, count))
    )
    return str(incident.ref)
