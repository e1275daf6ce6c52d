"""Officers' decisions on posts triage screened out, as training labels for `seva train`.

Each screened-out post an officer made a ticket of was actionable (the ticket's kind); each
one they confirmed was not (praise stays feedback, spam stays spam, the rest is noise). The
latest decision on a post wins. `training.corrections` adds these to the agents' other
corrections, where a later decision on the ticket itself (a rejection) wins in turn.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from sevadesk.store import tables as t
from sevadesk.triage.base import ACTIONABLE_KINDS
from sevadesk.triage.datasets import Example

SOURCE = "screened"
_NOT_ACTIONABLE = {"praise": "feedback", "spam": "spam"}


def screened_decisions(conn: Connection) -> list[tuple[int | None, Example]]:
    """(ticket id or None, example) for every post an officer decided, in decision order."""
    d, m, s, tk = t.triage_decisions.c, t.messages.c, t.screened_posts.c, t.tickets.c
    rows = conn.execute(
        select(d.message_id, d.decision, d.ticket_id, m.text, s.reason, tk.kind)
        .join(t.messages, m.id == d.message_id)
        .join(t.screened_posts, s.message_id == d.message_id)
        .outerjoin(t.tickets, tk.id == d.ticket_id)
        .order_by(d.id)
    ).all()
    latest = {}
    for row in rows:
        latest[row.message_id] = row
    out: list[tuple[int | None, Example]] = []
    for row in latest.values():
        if row.decision == "ticket":
            kind = row.kind if row.kind in ACTIONABLE_KINDS else "grievance"
        else:
            kind = _NOT_ACTIONABLE.get(row.reason, "noise")
        out.append((row.ticket_id, Example(row.text, kind, SOURCE, "train")))
    return out
