"""Tickets API: list, read, reply, change status or category, assign, transfer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from sevadesk.domain.status import TicketStatus
from sevadesk.tickets import actions, offers
from sevadesk.tickets.queries import (
    BadFilter,
    TicketFilter,
    incident_detail,
    list_tickets,
    ticket_detail,
    ticket_row,
)
from sevadesk.web.deps import CurrentActor, CurrentClock, ReadConn, WriteConn
from sevadesk.web.malformed import TextBody, rfc3339

router = APIRouter(prefix="/tickets", tags=["tickets"])


class TicketPage(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class ReplyIn(TextBody):
    body: str = Field(min_length=1, max_length=actions.MAX_REPLY_CHARS)
    idempotency_key: str | None = Field(
        default=None,
        max_length=100,
        description="Retrying with the same key never queues a second reply.",
    )
    private_body: str | None = Field(
        default=None,
        max_length=actions.MAX_REPLY_CHARS,
        description="Sent privately (WhatsApp if linked, else an X DM): where personal data"
        " such as a phone number goes, since public replies refuse it.",
    )


class IdentityIn(TextBody):
    channel: Literal["x", "whatsapp", "web", "open311"] = Field(
        description="The channel the citizen uses: x or whatsapp (web and open311 too)"
    )
    external_user_id: str = Field(
        min_length=1, max_length=64, description="X user id, or WhatsApp number in digits"
    )


class StatusIn(TextBody):
    status: TicketStatus
    note: str | None = Field(default=None, max_length=2000)


class CategoryIn(TextBody):
    category: str = Field(
        min_length=1, max_length=40, description="One of the organisation's categories"
    )


class AssignIn(TextBody):
    username: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="An officer by name; null to unassign",
    )
    position: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="A post of the ticket's unit (preferred)",
    )


class TransferIn(TextBody):
    unit: str = Field(min_length=1, max_length=64, description="The receiving unit's code")
    reason: str = Field(min_length=1, max_length=500)


@router.get("", response_model=TicketPage)
def get_tickets(
    conn: ReadConn,
    who: CurrentActor,
    unit: Annotated[
        str | None, Query(description="Unit code; its whole subtree is listed.")
    ] = None,
    status: TicketStatus | None = None,
    category: str | None = None,
    priority: Annotated[str | None, Query(pattern="^p[1-4]$")] = None,
    kind: str | None = None,
    language: str | None = None,
    since: Annotated[
        str | None,
        Query(
            description="ISO 8601 date-time with a time zone, e.g. 2026-11-20T09:00:00Z",
            json_schema_extra={"format": "date-time"},
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> TicketPage:
    flt = TicketFilter(
        unit, status.value if status else None, category, priority, kind, language, _since(since)
    )
    items, next_cursor = list_tickets(conn, who, flt, limit, cursor)
    return TicketPage(items=items, next_cursor=next_cursor)


def _since(value: str | None) -> datetime | None:
    # A date-time, not a number: pydantic would read "0.5" as half a second after 1970.
    if value is None:
        return None
    moment = rfc3339(value)
    if moment is None:
        raise BadFilter(
            f"since {value[:40]!r} is not an RFC 3339 date-time with a time zone,"
            " e.g. 2026-11-20T09:00:00Z"
        )
    return moment


@router.get("/{ref}")
def get_ticket(ref: str, conn: ReadConn, who: CurrentActor) -> dict[str, Any]:
    return ticket_detail(conn, who, ref)


@router.post(
    "/{ref}/replies",
    status_code=201,
    responses={200: {"description": "Retried with a used idempotency key: that reply, again."}},
)
def post_reply(
    ref: str,
    body: ReplyIn,
    conn: WriteConn,
    who: CurrentActor,
    clock: CurrentClock,
    response: Response,
) -> dict[str, Any]:
    entry, created = actions.queue_reply(
        conn, who, ref, body.body, body.idempotency_key, clock.now(), body.private_body
    )
    if not created:
        response.status_code = 200
    return entry


@router.post("/{ref}/status")
def post_status(
    ref: str, body: StatusIn, conn: WriteConn, who: CurrentActor, clock: CurrentClock
) -> dict[str, Any]:
    return actions.change_status(conn, who, ref, body.status.value, body.note, clock.now())


@router.post("/{ref}/category")
def post_category(
    ref: str, body: CategoryIn, conn: WriteConn, who: CurrentActor, clock: CurrentClock
) -> dict[str, Any]:
    """Correct the ticket's category (a training label for the next `seva train`)."""
    return actions.change_category(conn, who, ref, body.category, clock.now())


@router.post("/{ref}/assign")
def post_assign(
    ref: str, body: AssignIn, conn: WriteConn, who: CurrentActor, clock: CurrentClock
) -> dict[str, Any]:
    if body.position is not None:
        return actions.assign_position(conn, who, ref, body.position, clock.now())
    return actions.assign(conn, who, ref, body.username, clock.now())


class NoteIn(TextBody):
    note: str = Field(min_length=1, max_length=2000)


@router.post("/{ref}/transfer/accept")
def post_transfer_accept(
    ref: str, conn: WriteConn, who: CurrentActor, clock: CurrentClock
) -> dict[str, Any]:
    """The receiving unit takes the ticket."""
    return actions.accept_transfer(conn, who, ref, clock.now())


@router.post("/{ref}/transfer/return")
def post_transfer_return(
    ref: str, body: NoteIn, conn: WriteConn, who: CurrentActor, clock: CurrentClock
) -> dict[str, Any]:
    """The receiving unit sends the ticket back, saying why (the bounce is counted)."""
    return actions.return_transfer(conn, who, ref, body.note, clock.now())


@router.get("/{ref}/transfers")
def get_ticket_transfers(ref: str, conn: ReadConn, who: CurrentActor) -> list[dict[str, Any]]:
    """Every transfer offer of the ticket and its outcome (pending, accepted, returned)."""
    ticket = ticket_row(conn, who, ref)
    return offers.ticket_offers(conn, ticket["id"])


@router.post("/{ref}/reopen")
def post_reopen(
    ref: str, body: NoteIn, conn: WriteConn, who: CurrentActor, clock: CurrentClock
) -> dict[str, Any]:
    """An officer takes a resolved ticket back into work in the same office."""
    return actions.reopen(conn, who, ref, body.note, clock.now())


@router.post("/{ref}/appeal")
def post_appeal(
    ref: str, body: NoteIn, conn: WriteConn, who: CurrentActor, clock: CurrentClock
) -> dict[str, Any]:
    """The citizen says the resolution did not fix it: reopen one level up."""
    return actions.appeal(conn, who, ref, body.note, clock.now())


@router.post("/{ref}/transfer")
def post_transfer(
    ref: str, body: TransferIn, conn: WriteConn, who: CurrentActor, clock: CurrentClock
) -> dict[str, Any]:
    return actions.transfer(conn, who, ref, body.unit, body.reason, clock.now())


class ReasonIn(TextBody):
    reason: str = Field(min_length=1, max_length=500)


@router.post("/{ref}/incident/detach")
def post_incident_detach(
    ref: str, body: ReasonIn, conn: WriteConn, who: CurrentActor, clock: CurrentClock
) -> dict[str, Any]:
    """Take a ticket out of a mass incident it was grouped into by mistake."""
    return actions.detach_from_incident(conn, who, ref, body.reason, clock.now())


@router.post("/{ref}/identities")
def post_identity(
    ref: str, body: IdentityIn, conn: WriteConn, who: CurrentActor, clock: CurrentClock
) -> dict[str, Any]:
    """Link another channel identity to the ticket's citizen (merging records if needed)."""
    return actions.link_identity(conn, who, ref, body.channel, body.external_user_id, clock.now())


incidents = APIRouter(prefix="/incidents", tags=["incidents"])


class IncidentReplyIn(TextBody):
    body: str = Field(min_length=1, max_length=actions.MAX_REPLY_CHARS)
    idempotency_key: str = Field(
        min_length=1, max_length=60, description="Retrying with the same key queues nothing new."
    )


@incidents.get("/{ref}")
def get_incident(ref: str, conn: ReadConn, who: CurrentActor) -> dict[str, Any]:
    return incident_detail(conn, who, ref)


@incidents.post("/{ref}/replies")
def post_incident_reply(
    ref: str, body: IncidentReplyIn, conn: WriteConn, who: CurrentActor, clock: CurrentClock
) -> dict[str, Any]:
    return actions.reply_to_incident(conn, who, ref, body.body, body.idempotency_key, clock.now())


transfers = APIRouter(prefix="/transfers", tags=["tickets"])


@transfers.get("")
def get_incoming_transfers(conn: ReadConn, who: CurrentActor) -> list[dict[str, Any]]:
    """Transfers offered to my units, waiting for accept or return, soonest deadline first,
    each with the post's masked words."""
    return offers.incoming_offers(conn, who)


@transfers.get("/sent")
def get_sent_transfers(conn: ReadConn, who: CurrentActor) -> list[dict[str, Any]]:
    """The latest transfers my units offered, with their outcome (accepted or returned by
    whom, and why)."""
    return offers.sent_offers(conn, who)


@transfers.get("/{ref}")
def get_offered_ticket(ref: str, conn: ReadConn, who: CurrentActor) -> dict[str, Any]:
    """A ticket offered to one of my units, read-only until accepted: the offer, its triage
    and the conversation with personal data masked. 404 unless the offer is pending."""
    return offers.offered_ticket(conn, who, ref)
