"""A post or message after its channel adapter has read it: the unit the pipeline works on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Handles and hashtags in a post's text are read by `sevadesk.domain.post_text` (twitter-text's
# rules); the X API gives them as entities.


@dataclass(slots=True)
class InboundMessage:
    """One citizen post, channel-neutral.

    `external_id` is the channel's own id (a tweet id, a WhatsApp wamid); together with
    `channel` it identifies the message exactly once across every ingestion path.
    """

    channel: str
    external_id: str
    author_id: str
    text: str
    created_at: datetime
    author_handle: str | None = None
    author_name: str | None = None
    conversation_id: str | None = None
    in_reply_to_id: str | None = None
    mentions: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    lang_hint: str | None = None
    rule_tags: tuple[str, ...] = ()
    # Set by the adapter when this post was a retweet collapsed onto its original.
    via_retweet: bool = False
    # Sent to the agency directly (WhatsApp, an X DM, a form), not posted in public.
    addressed: bool = False
    # Filed on purpose through a form, Open311 or the WhatsApp bot: a ticket whatever
    # triage thinks of the wording.
    filed: bool = False
    # Attachments as the channel describes them: (kind, media id, mime type).
    media: tuple[tuple[str, str, str], ...] = ()
    # Where the citizen says they are (WhatsApp location, Open311 lat/long).
    location: tuple[float, float] | None = None
    # The category the citizen chose (an Open311 service code); it wins over triage's.
    category_hint: str | None = None
    # Where the problem is in words, and a photo of it, as the citizen gave them (Open311
    # address_string and media_url); kept on the ticket the message opens.
    address: str | None = None
    media_url: str | None = None
    # A voice note (WhatsApp audio) and nothing else: no words for triage to read, so it is
    # a grievance for an agent to listen to, not noise.
    voice_note: bool = False
    # The agency (a unit code) the citizen chose on the desk's complaint form: routing looks
    # for the office inside it, as for a post addressed to its handle.
    agency: str | None = None

    @property
    def private(self) -> bool:
        """Sent to the agency alone (WhatsApp, an X DM, the desk's web form): its words are
        never shown in public. An Open311 request is public by the GeoReport spec."""
        return self.addressed and self.channel != "open311"


def _by_fields(self: Any) -> tuple[type, tuple[Any, ...]]:
    """Pickle a frozen slotted dataclass as a constructor call. The setstate that dataclasses
    generates for such classes looks its fields up again for every object; batches cross
    into the ingest worker process and back, and that lookup was most of the unpickling."""
    return type(self), tuple(getattr(self, name) for name in self.__slots__)


@dataclass(slots=True, frozen=True)
class Entity:
    """A span of text that routing or masking cares about (a PNR, a PIN code, a phone number)."""

    kind: str
    value: str
    start: int
    end: int

    __reduce__ = _by_fields


@dataclass(slots=True)
class TriageResult:
    """What triage decided about one message; every result names the model that made it."""

    language: str
    actionable: bool
    score: float
    kind: str
    category: str | None
    urgency: str
    entities: list[Entity]
    masked_text: str
    model_version: str

    def entity_values(self, kind: str) -> list[str]:
        return [e.value for e in self.entities if e.kind == kind]


@dataclass(slots=True, frozen=True)
class RouteDecision:
    """Where a ticket goes and why (shown to agents and in the API), plus what the
    organisation's routing rules add: a priority, labels, an acknowledgement, or `ignore`."""

    unit_code: str
    reason: str
    detail: str
    priority: str | None = None
    labels: tuple[str, ...] = ()
    acknowledge: str | None = None
    ignore: bool = False
    rules: tuple[str, ...] = ()
    station: str | None = None  # the railway station the post names, for mass incidents

    __reduce__ = _by_fields
