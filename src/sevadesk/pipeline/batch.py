"""What flows between stages: one Item per journal entry, enriched stage by stage."""

from __future__ import annotations

from dataclasses import dataclass, field

from sevadesk.domain.messages import InboundMessage, RouteDecision, TriageResult


@dataclass(slots=True)
class JournalEntry:
    id: int
    channel: str
    payload: str
    digest: str = ""
    fresh: bool = True  # stored by this call (False: stored earlier, still to process)


@dataclass(slots=True)
class Rejection:
    """An inbound event that could not be read (or stored); `position` is its index in the
    input."""

    journal_id: int
    position: int | None
    reason: str


@dataclass(slots=True)
class Item:
    journal_id: int
    msg: InboundMessage
    citizen_id: int | None = None
    # Posted by one of the agency's own handles (a reply an officer typed on X directly).
    from_agency: bool = False
    duplicate: bool = False
    # Threading outcome: an existing ticket, or the index of an earlier item in this batch
    # whose ticket this item joins.
    ticket_id: int | None = None
    joins_item: int | None = None
    reopens: bool = False
    triage: TriageResult | None = None
    route: RouteDecision | None = None
    # Where routing would send a post that opens no ticket: the Screened out queue it waits in.
    candidate: RouteDecision | None = None
    message_id: int | None = None
    incident_key: str | None = None  # same problem + train/station/PNR (routing/incidents.py)
    incident_id: int | None = None  # set when the ticket joins an open incident as it is stored


@dataclass
class BatchSummary:
    """Counts the CLI and benchmarks print; the keys are a contract (`seva ingest --json`)."""

    read: int = 0
    new: int = 0
    tickets_opened: int = 0
    threaded: int = 0
    duplicates: int = 0
    rejected: int = 0
    not_actionable: int = 0
    agency_posts: int = 0
    reopened: int = 0
    ignored: int = 0
    incident_links: int = 0
    # Refused by the database even alone: set aside (journal status `failed`) until retried.
    failed: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    failures: list[Rejection] = field(default_factory=list)

    def add(self, other: BatchSummary) -> None:
        for name in (
            "read",
            "new",
            "tickets_opened",
            "threaded",
            "duplicates",
            "rejected",
            "not_actionable",
            "agency_posts",
            "reopened",
            "ignored",
            "incident_links",
            "failed",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejections.extend(other.rejections)
        self.failures.extend(other.failures)

    def as_dict(self) -> dict[str, int]:
        return {
            "read": self.read,
            "new": self.new,
            "tickets_opened": self.tickets_opened,
            "threaded": self.threaded,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "not_actionable": self.not_actionable,
            "agency_posts": self.agency_posts,
            "reopened": self.reopened,
            "ignored": self.ignored,
            "incident_links": self.incident_links,
            "failed": self.failed,
        }
