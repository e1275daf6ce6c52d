"""The ticket state machine: legal moves succeed, illegal ones name what is allowed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from sevadesk.domain.errors import IllegalTransition
from sevadesk.domain.status import OPEN_STATUSES, TRANSITIONS, TicketStatus, check_transition

STATUSES = list(TicketStatus)


def test_final_states_have_no_way_out() -> None:
    for final in (TicketStatus.CLOSED, TicketStatus.MERGED):
        with pytest.raises(IllegalTransition, match="none: the ticket is final"):
            check_transition(final.value, "new")


def test_an_unknown_status_is_an_illegal_transition_not_a_crash() -> None:
    with pytest.raises(IllegalTransition, match="allowed: "):
        check_transition("new", "teleported")


def test_a_resolved_ticket_can_be_reopened_but_a_new_one_cannot_be_closed() -> None:
    assert check_transition("resolved", "in_progress") is TicketStatus.IN_PROGRESS
    with pytest.raises(IllegalTransition) as info:
        check_transition("new", "closed")
    assert "resolved" in info.value.allowed


@given(st.sampled_from(STATUSES), st.sampled_from(STATUSES))
def test_check_transition_agrees_with_the_table(
    current: TicketStatus, target: TicketStatus
) -> None:
    if target in TRANSITIONS[current]:
        assert check_transition(current.value, target.value) is target
    else:
        with pytest.raises(IllegalTransition):
            check_transition(current.value, target.value)


class TicketLifecycle(RuleBasedStateMachine):
    """Random walks over the machine: every ticket can still reach an end unless it is final."""

    def __init__(self) -> None:
        super().__init__()
        self.status = TicketStatus.NEW
        self.history: list[TicketStatus] = [self.status]

    @rule(wanted=st.sampled_from(STATUSES))
    def move(self, wanted: TicketStatus) -> None:
        try:
            self.status = check_transition(self.status.value, wanted.value)
            self.history.append(self.status)
        except IllegalTransition as exc:
            assert wanted not in TRANSITIONS[self.status]
            assert exc.current == self.status.value

    @invariant()
    def an_open_ticket_can_always_be_finished(self) -> None:
        # From any open state some path leads to resolved/closed/merged/rejected.
        if self.status in OPEN_STATUSES:
            seen, frontier = {self.status}, [self.status]
            while frontier:
                for nxt in TRANSITIONS[frontier.pop()]:
                    if nxt not in seen:
                        seen.add(nxt)
                        frontier.append(nxt)
            assert TicketStatus.CLOSED in seen

    @invariant()
    def closed_only_after_resolved_or_awaiting(self) -> None:
        if self.status is TicketStatus.CLOSED:
            assert self.history[-2] in (TicketStatus.RESOLVED, TicketStatus.AWAITING_CITIZEN)


TestTicketLifecycle = TicketLifecycle.TestCase
