"""An author changed a message after sending it: deleted it, or edited its words.

X's Developer Policy asks that stored content its author deleted be removed ("delete or
modify any content you have stored if it is deleted or modified on X", within 24 hours at
most); WhatsApp tells of a deletion (`revoke`) and an edit (`edit`) the same way. The desk
keeps the case and the fact, never the words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

DELETED = "deleted"
EDITED = "edited"
# What a deleted message reads as, wherever its words were shown.
DELETED_TEXT = "[deleted by its author]"


@dataclass(frozen=True, slots=True)
class Revision:
    """One revision event: `external_id` is the message revised, `event_id` the channel's id
    of this event (two deliveries of one event are one revision), `text` an edit's words."""

    channel: str
    external_id: str
    kind: str
    event_id: str
    at: datetime
    text: str | None = None
