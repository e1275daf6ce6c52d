"""Domain exceptions; the web and CLI edges translate them into 4xx replies and exit codes."""

from __future__ import annotations


class DomainError(Exception):
    """Base class of every error a user can cause by asking for something the rules forbid."""


class IllegalTransition(DomainError):
    """A ticket was asked to move to a status its current status cannot reach."""

    def __init__(self, current: str, target: str, allowed: tuple[str, ...]) -> None:
        self.current = current
        self.target = target
        self.allowed = allowed
        choices = ", ".join(allowed) if allowed else "none: the ticket is final"
        super().__init__(f"a ticket that is {current} cannot become {target} (allowed: {choices})")


class UnknownUnit(DomainError):
    """A unit code that the organisation does not have."""


class MissingReason(DomainError):
    """An action that must be explained (transfer, reject) came without a reason."""


class OutOfScope(DomainError):
    """A user acted on a ticket or unit outside the subtree their role covers."""
