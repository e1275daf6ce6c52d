"""Filling a ticket's reply templates for the picker: {ref}, {office}, {citizen_name} and
{due} from the ticket the officer is answering (domain/reply_templates.py names them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sevadesk.domain.reply_templates import TemplateRow, fill

# The organisation's time zone for a due time a citizen reads (the org file's default).
ZONE = ZoneInfo("Asia/Kolkata")


def _due(value: datetime | None) -> str | None:
    return value.astimezone(ZONE).strftime("%d %b %Y, %H:%M %Z") if value else None


def _citizen_name(ticket: dict[str, Any]) -> str | None:
    handles = [
        m["author_handle"]
        for m in ticket.get("messages", [])
        if m["direction"] == "in" and m.get("author_handle")
    ]
    if not handles:
        return None
    handle = str(handles[-1])
    return f"@{handle}" if ticket.get("channel") == "x" and not handle.startswith("@") else handle


def ticket_values(ticket: dict[str, Any], office: str) -> dict[str, str]:
    """The variables this ticket can fill; one it cannot (a WhatsApp citizen gives no name,
    a ticket without a deadline) stays braced in the text, for the officer to see."""
    values = {"ref": str(ticket["ref"]), "office": office}
    if name := _citizen_name(ticket):
        values["citizen_name"] = name
    if due := _due(ticket.get("resolution_due")):
        values["due"] = due
    return values


def filled_templates(
    templates: list[TemplateRow], ticket: dict[str, Any], office: str
) -> list[dict[str, Any]]:
    values = ticket_values(ticket, office)
    return [
        {
            "code": tp.code,
            "language": tp.language,
            "channel": tp.channel,
            "body": fill(tp.body, values),
        }
        for tp in templates
    ]
