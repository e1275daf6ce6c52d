"""Sending a reply: what a channel's sender is given and the outcomes it may report.

The outbox worker treats each outcome differently: `Sent` is final; `RetryLater` schedules
another attempt (after the channel's own reset time when it gave one); `MaybeSent` means
the request may have reached the channel, so the worker asks the channel before sending
again; `Undeliverable` ends the entry in the dead-letter state for an agent to see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(slots=True)
class OutboxEntry:
    id: int
    idempotency_key: str
    channel: str
    kind: str  # text | template | interactive | dm
    body: str
    attempts: int
    ticket_ref: str | None = None
    in_reply_to_id: str | None = None
    recipient: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None  # when the reply was queued: lookups start there
    last_error: str | None = None  # what the previous attempt ended with


@dataclass(slots=True, frozen=True)
class Sent:
    """Delivered: `posts` lists (external id, text) of every post made, first one first."""

    posts: tuple[tuple[str, str], ...]
    kind: str = "text"  # what was actually sent (a WhatsApp text may go as a template)

    @property
    def external_id(self) -> str:
        return self.posts[0][0]


class DeliveryError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryLater(DeliveryError):
    """Not sent; try again (after `after_seconds` when the channel said when)."""

    def __init__(self, reason: str, after_seconds: float | None = None) -> None:
        super().__init__(reason)
        self.after_seconds = after_seconds


class MaybeSent(DeliveryError):
    """The request may have gone out (a timeout or a 5xx after sending): the outcome is
    unknown until the channel says, and nothing is sent again before that."""


class Undeliverable(DeliveryError):
    """The channel refused the message for a reason retrying will not fix."""


class Sender(Protocol):
    channel: str
    # How long an unknown outcome waits before the channel is asked (X answers lookups at
    # once: 0; WhatsApp's only word is a status webhook, which may come minutes late).
    unknown_grace_seconds: float

    def send(self, entry: OutboxEntry, progress: ProgressHook) -> Sent: ...

    def find_sent(self, entry: OutboxEntry) -> Sent | None:
        """After a MaybeSent: the post if it did go out, else None (raises when the channel
        could not be asked: the outcome stays unknown)."""
        ...


class ProgressHook(Protocol):
    def __call__(self, payload: dict[str, Any]) -> None:
        """Persist a multi-part send's progress so a retry continues where it stopped."""
        ...
