"""Routes learnt from agents' transfers: where a unit keeps passing one category on.

A control room that forwards every traffic complaint to the traffic police, transfer after
transfer, is teaching the router where those complaints belong. When at least MIN_ACCEPTED
tickets of one category were transferred from one unit to the same other unit and accepted
there, and those are at least SHARE of the decided transfers of that category out of that
unit (a returned transfer counts against), new tickets of that category that would land at
the first unit go straight to the second. The route says so ("learned", with the count), and
the organisation's own routing rules still win.

Only transfers the receiving unit accepted teach: one deemed accepted at its deadline shows
that nobody answered, not that the ticket belonged there.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from sevadesk.store import tables as t

MIN_ACCEPTED = 3
SHARE = 0.8


@dataclass(frozen=True, slots=True)
class LearnedRoute:
    to_unit_id: int
    accepted: int  # transfers that taught it
    decided: int  # all decided transfers of the category out of the unit


def learned_routes(conn: Connection) -> dict[tuple[int, str], LearnedRoute]:
    """{(from unit id, category): route} for every pair the transfers settle."""
    o, tk = t.transfer_offers.c, t.tickets.c
    rows = conn.execute(
        select(o.from_unit_id, tk.category, o.to_unit_id, o.status, func.count())
        .join(t.tickets, tk.id == o.ticket_id)
        .where(tk.category.is_not(None), o.status.in_(("accepted", "returned")))
        .group_by(o.from_unit_id, tk.category, o.to_unit_id, o.status)
    ).all()
    decided: Counter[tuple[int, str]] = Counter()
    accepted: Counter[tuple[int, str, int]] = Counter()
    for from_id, category, to_id, status, n in rows:
        decided[(from_id, category)] += n
        if status == "accepted":
            accepted[(from_id, category, to_id)] += n
    return {
        (from_id, category): LearnedRoute(to_id, n, decided[(from_id, category)])
        for (from_id, category, to_id), n in accepted.items()
        if n >= MIN_ACCEPTED and n >= SHARE * decided[(from_id, category)]
    }
