"""Accepting a webhook delivery: everything in it stored in one transaction, before the
channel is answered 200. Processing happens later (the drain worker), so a crash after the
commit loses nothing and a provider's retry of the same delivery stores nothing twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Engine

from sevadesk.channels.whatsapp.payloads import WebhookBatch
from sevadesk.delivery.receipts import record_statuses
from sevadesk.domain.revisions import Revision
from sevadesk.pipeline import journal, revisions
from sevadesk.pipeline.citizens import move_whatsapp_number
from sevadesk.store import ledger


@dataclass(frozen=True, slots=True)
class Accepted:
    messages: int  # new to the journal
    statuses: int
    other: int

    def as_dict(self) -> dict[str, int]:
        return {"messages": self.messages, "statuses": self.statuses, "other": self.other}


def _dumps(items: list[dict[str, Any]]) -> list[str]:
    return [orjson.dumps(i, option=orjson.OPT_SORT_KEYS).decode() for i in items]


def accept_whatsapp(engine: Engine, batch: WebhookBatch, now: datetime) -> Accepted:
    source = "wa-webhook"
    with engine.begin() as conn:
        new = journal.append(conn, "whatsapp", source, _dumps(batch.messages), now)
        changed = record_statuses(conn, "whatsapp", batch.statuses, now)
        if batch.other:
            journal.keep(conn, "whatsapp-event", source, _dumps(batch.other), now)
        revisions.record(conn, batch.revisions, now)
        for change in batch.number_changes:
            move_whatsapp_number(conn, change, now)
        ledger.record_reads(conn, source, "whatsapp", now, len(batch.messages))
    return Accepted(sum(e.fresh for e in new), changed, len(batch.other))


def accept_x(
    engine: Engine,
    payloads: list[dict[str, Any]],
    ignored: list[str],
    now: datetime,
    deletions: tuple[list[dict[str, Any]], list[Revision]] = ([], []),
) -> Accepted:
    """`deletions`: the delivery's `tweet_delete_events` and what they delete; journaled and
    applied in the same transaction (see pipeline/revisions.py)."""
    source = "x-webhook"
    events, deleted = deletions
    with engine.begin() as conn:
        new = journal.append(conn, "x", source, _dumps(payloads), now) if payloads else []
        if events:
            journal.keep(conn, "x-event", source, _dumps(events), now)
            revisions.record(conn, deleted, now)
        # Account Activity deliveries are pushed, not read: they cost no read quota.
        ledger.record_reads(conn, source, "x", now, 0)
    return Accepted(sum(e.fresh for e in new), 0, len(ignored))


def keep_unreadable(
    engine: Engine, channel: str, source: str, raw: bytes, error: str, now: datetime
) -> None:
    """A signed delivery the adapter cannot read: kept (rejected, with the reason) so a fixed
    adapter can replay it; the provider is told why."""
    with engine.begin() as conn:
        journal.keep(
            conn, channel, source, [raw.decode("utf-8", "replace")], now, journal.REJECTED, error
        )
