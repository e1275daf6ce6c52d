"""Screened out: posts triage kept from becoming tickets, and an officer's two decisions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from sevadesk.reports import figures
from sevadesk.reports.figures import Period
from sevadesk.store import tables as t
from sevadesk.tickets import screened
from sevadesk.tickets.screened import ScreenedNotFound
from sevadesk.web.deps import CurrentActor, CurrentClock, ReadConn, WriteConn
from sevadesk.web.malformed import TextBody

router = APIRouter(prefix="/screened", tags=["screened"])

# Ids as the database keeps them (64-bit): a larger number is no post, not a server error.
PostId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The post's id in `items`.")]


class ScreenedPost(BaseModel):
    id: int = Field(description="The post's id: what the decisions below take.")
    reason: str = Field(
        description="Why no ticket: noise, praise (feedback), spam, agency (an official's"
        " words) or rule (an organisation's rule)."
    )
    score: float = Field(description="Triage's actionable score.")
    distance: float = Field(description="How far the score is from the decision line.")
    status: str = Field(description="open, promoted or noise")
    posted_at: Any
    screened_at: Any
    unit: str = Field(description="The unit routing names for the post (its queue).")
    channel: str
    masked_text: str = Field(description="The words with personal data masked.")
    language: str
    kind: str
    ticket: str | None = Field(description="The ticket made of it, once promoted.")


class ScreenedPage(BaseModel):
    items: list[ScreenedPost]
    next_cursor: str | None = Field(
        description="Pass as `cursor` (with the same order) for the next page; null at the end."
    )
    threshold: float = Field(description="The decision line `distance` is measured from.")


class DecisionIn(TextBody):
    note: str | None = Field(
        default=None, max_length=2000, description="Why (optional): kept in the audit."
    )


class Promoted(BaseModel):
    id: int
    ref: str = Field(description="The ticket's reference.")
    unit: str
    route_reason: str
    route_detail: str | None = None
    created: bool = Field(description="False when the post was already a ticket.")


class NoiseConfirmed(BaseModel):
    id: int
    status: Literal["noise"]
    created: bool = Field(description="False when the post was already confirmed as noise.")


@router.get("", response_model=ScreenedPage)
def get_screened(
    conn: ReadConn,
    who: CurrentActor,
    order: Annotated[
        Literal["newest", "closest"],
        Query(description="newest first, or closest to the decision line first"),
    ] = "newest",
    status: Literal["open", "promoted", "noise"] = "open",
    reason: Literal["noise", "praise", "spam", "agency", "rule"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ScreenedPage:
    """Posts addressed to the caller's units (by the unit routing names for each) that
    triage screened out and that opened no ticket; masked text only."""
    items, next_cursor = screened.list_screened(conn, who, order, limit, cursor, status, reason)
    return ScreenedPage(
        items=[ScreenedPost(**i) for i in items],
        next_cursor=next_cursor,
        threshold=screened.threshold(conn),
    )


@router.post(
    "/{post_id}/ticket",
    response_model=Promoted,
    status_code=201,
    responses={200: {"model": Promoted, "description": "Already a ticket: that one."}},
)
def post_ticket(
    post_id: PostId,
    conn: WriteConn,
    who: CurrentActor,
    clock: CurrentClock,
    response: Response,
    body: DecisionIn | None = None,
) -> dict[str, Any]:
    """Make a ticket of the post, as the pipeline would have: routed (with its reason), SLA
    from the post's own time, acknowledged where the organisation's rules say so. Audited,
    and a label for the next `seva train`. Asking again answers with the same ticket."""
    made = screened.promote(conn, who, post_id, body.note if body else None, clock.now())
    if not made["created"]:
        response.status_code = 200
    return made


@router.post("/{post_id}/noise", response_model=NoiseConfirmed)
def post_noise(
    post_id: PostId,
    conn: WriteConn,
    who: CurrentActor,
    clock: CurrentClock,
    body: DecisionIn | None = None,
) -> dict[str, Any]:
    """Confirm that triage was right: the post leaves the queue (audited; a label for the
    next `seva train`). Refused (422) for a post already made a ticket."""
    return screened.confirm_noise(conn, who, post_id, body.note if body else None, clock.now())


reports = APIRouter(prefix="/reports", tags=["reports"])


class ScreenedDay(BaseModel):
    unit: str
    name: str
    day: str = Field(description="YYYY-MM-DD (UTC)")
    screened: int = Field(description="Posts screened out that day at the unit.")
    promoted: int = Field(description="Of those, the ones officers made tickets of.")


@reports.get("/screened", response_model=list[ScreenedDay])
def report_screened(
    conn: ReadConn,
    who: CurrentActor,
    clock: CurrentClock,
    unit: Annotated[
        str | None, Query(max_length=64, description="A unit of my scope; its subtree.")
    ] = None,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> list[dict[str, Any]]:
    """Per unit and day: posts screened out and those officers made tickets of (the misses
    they caught), for my scope or one unit's subtree inside it."""
    path = who.scope_path
    if unit is not None:
        found = conn.execute(select(t.units.c.path).where(t.units.c.code == unit)).scalar()
        if found is None or not found.startswith(who.scope_path):
            raise ScreenedNotFound(f"no unit {unit[:64]} in your scope")
        path = found
    period = Period.last(days, clock.now().date())
    return figures.screened_days(conn, path, period)
