"""The ticket lifecycle as an explicit state machine.

new → assigned → in_progress → awaiting_citizen → resolved → closed, plus rejected
(not actionable) and merged. A citizen's reply reopens a resolved ticket (resolved → in_progress).
"""

from __future__ import annotations

from enum import StrEnum

from sevadesk.domain.errors import IllegalTransition


class TicketStatus(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    AWAITING_CITIZEN = "awaiting_citizen"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    MERGED = "merged"


S = TicketStatus

TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    # Asking for details (a PNR, an FIR copy) is often the first move on a new ticket.
    S.NEW: frozenset(
        {S.ASSIGNED, S.IN_PROGRESS, S.AWAITING_CITIZEN, S.RESOLVED, S.REJECTED, S.MERGED}
    ),
    S.ASSIGNED: frozenset(
        {S.IN_PROGRESS, S.AWAITING_CITIZEN, S.RESOLVED, S.REJECTED, S.MERGED, S.NEW}
    ),
    S.IN_PROGRESS: frozenset({S.AWAITING_CITIZEN, S.RESOLVED, S.MERGED, S.ASSIGNED}),
    S.AWAITING_CITIZEN: frozenset({S.IN_PROGRESS, S.RESOLVED, S.CLOSED}),
    S.RESOLVED: frozenset({S.CLOSED, S.IN_PROGRESS}),
    # A wrongly rejected ticket can be taken back into the queue.
    S.REJECTED: frozenset({S.NEW}),
    S.CLOSED: frozenset(),
    S.MERGED: frozenset(),
}

OPEN_STATUSES: frozenset[TicketStatus] = frozenset(
    {S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.AWAITING_CITIZEN}
)


def allowed_from(current: TicketStatus) -> tuple[str, ...]:
    return tuple(sorted(s.value for s in TRANSITIONS[current]))


def check_transition(current: str, target: str) -> TicketStatus:
    """Return the target status if `current → target` is legal, else raise IllegalTransition."""
    try:
        cur = TicketStatus(current)
    except ValueError as exc:
        raise IllegalTransition(current, target, ()) from exc
    try:
        tgt = TicketStatus(target)
    except ValueError as exc:
        raise IllegalTransition(cur.value, target, allowed_from(cur)) from exc
    if tgt not in TRANSITIONS[cur]:
        raise IllegalTransition(cur.value, tgt.value, allowed_from(cur))
    return tgt
