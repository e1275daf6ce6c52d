"""A ticket's next SLA deadline as the inbox shows it: the time, a countdown, and how close.

The countdown's words are here alone (the inbox script mirrors them to keep an open page
current); the time itself goes through the desk's `when` filter, so the organisation's time
zone applies wherever times are shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

OPEN = ("new", "assigned", "in_progress", "awaiting_citizen")
SOON_SECONDS = 30 * 60  # amber under half an hour


@dataclass(frozen=True, slots=True)
class Deadline:
    """The next deadline of an open ticket: `kind` first_response | resolution; `level`
    over | soon | ok | paused."""

    due: datetime
    kind: str
    level: str
    text: str

    @property
    def epoch_ms(self) -> int:
        return int(self.due.timestamp() * 1000)


def next_deadline(ticket: Mapping[str, Any]) -> tuple[datetime, str] | None:
    """The first response deadline while no answer went out, else the resolution one."""
    if ticket.get("status") not in OPEN:
        return None
    first, resolution = ticket.get("first_response_due"), ticket.get("resolution_due")
    unanswered = ticket.get("first_response_at") is None and first is not None
    if unanswered and (resolution is None or first <= resolution):
        return first, "first_response"
    return (resolution, "resolution") if resolution is not None else None


def span(seconds: float, t: Callable[[str], str]) -> str:
    """`42 min`, `1 h 5 min`, `2 d 3 h` (rounded down to the minute)."""
    minutes = int(abs(seconds) // 60)
    if minutes < 60:
        return f"{minutes} {t('u_min')}"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} {t('u_h')}" + (f" {minutes} {t('u_min')}" if minutes else "")
    days, hours = divmod(hours, 24)
    return f"{days} {t('u_d')}" + (f" {hours} {t('u_h')}" if hours else "")


def deadline(ticket: Mapping[str, Any], now: datetime, t: Callable[[str], str]) -> Deadline | None:
    found = next_deadline(ticket)
    if found is None:
        return None
    due, kind = found
    left = (due - now).total_seconds()
    if ticket.get("status") == "awaiting_citizen":
        return Deadline(due, kind, "paused", t("due_paused"))
    if left < 0:
        return Deadline(due, kind, "over", t("due_over").format(d=span(left, t)))
    level = "soon" if left < SOON_SECONDS else "ok"
    return Deadline(due, kind, level, t("due_in").format(d=span(left, t)))
