"""What a message must be for the database to hold it: checked as each payload is read, so
a value no column can store is a rejected entry with a reason, never a failed batch.

PostgreSQL refuses a NUL character in text; neither database can encode a lone surrogate;
an id longer than its column is refused by PostgreSQL (and silently kept by SQLite); a time
that cannot be expressed in UTC, or within a year of the end of year 9999, overflows Python's
datetime as soon as the desk adds an SLA window to it. Posts from before 1970 come from no
channel the desk reads (X and WhatsApp started decades later): a clock gone wrong.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sevadesk.domain.messages import InboundMessage
from sevadesk.store import tables as t

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _length(column: Any) -> int:
    length = column.type.length
    assert isinstance(length, int)
    return length


# Each field of a message whose column has a length, with that length.
_LIMITS = {
    "external_id": _length(t.messages.c.external_id),
    "author_id": _length(t.citizen_identities.c.external_user_id),
    "author_handle": _length(t.messages.c.author_handle),
    "conversation_id": _length(t.messages.c.conversation_id),
    "in_reply_to_id": _length(t.messages.c.in_reply_to_id),
    "category_hint": _length(t.tickets.c.category),
}
# Kept only as a hint to triage, or shown: shortened rather than refused.
_SHORTENED = {"author_name": _length(t.citizen_identities.c.display_name), "lang_hint": 16}


def unstorable(value: str) -> str | None:
    """What makes `value` impossible to store as text, or None."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    return "a NUL character" if found.group() == "\x00" else "a lone surrogate (broken UTF-16)"


def _texts(msg: InboundMessage) -> list[tuple[str, str]]:
    texts = [
        (name, value) for name in msg.__slots__ if isinstance(value := getattr(msg, name), str)
    ]
    texts += [("mentions", m) for m in msg.mentions]
    texts += [("hashtags", h) for h in msg.hashtags]
    texts += [("rule_tags", r) for r in msg.rule_tags]
    texts += [("media", part) for item in msg.media for part in item]
    return texts


def problem(msg: InboundMessage) -> str | None:
    """Why `msg` cannot be stored, in words for the journal and the sender; None if it can."""
    for name, value in _texts(msg):
        if found := unstorable(value):
            return f"{name} contains {found}"
    for name, limit in _LIMITS.items():
        value = getattr(msg, name)
        if value is not None and len(value) > limit:
            return f"{name} is {len(value)} characters long; at most {limit} are stored"
    # citizens.first_seen_as holds "<channel>:<author_id>".
    if len(msg.channel) + 1 + len(msg.author_id) > _length(t.citizens.c.first_seen_as):
        return "author_id is too long to store"
    try:
        at = msg.created_at.astimezone(UTC)
    except (OverflowError, ValueError):
        return f"created_at {msg.created_at.isoformat()} is outside the years 1 to 9999 in UTC"
    if not EARLIEST <= at < LATEST:
        return (
            f"created_at {at.isoformat()} is out of range: a post's time must be from 1970 "
            f"to {LATEST.year - 1}"
        )
    return None


def storable(msg: InboundMessage) -> InboundMessage:
    """`msg` with the fields that are only shown or hinted at shortened to their columns
    (raises ValueError with `problem`'s reason when it cannot be stored)."""
    if (reason := problem(msg)) is not None:
        raise ValueError(reason)
    changes: dict[str, Any] = {}
    for name, limit in _SHORTENED.items():
        value = getattr(msg, name)
        if value is not None and len(value) > limit:
            changes[name] = value[:limit]
    return replace(msg, **changes) if changes else msg
