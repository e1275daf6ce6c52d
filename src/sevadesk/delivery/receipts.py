"""Delivery receipts (WhatsApp status callbacks) and the lookups senders need."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Engine, func, or_, select, update

from sevadesk.channels.whatsapp.payloads import DeliveryStatus
from sevadesk.store import tables as t
from sevadesk.store.fast import bulk_insert

OUT = t.outbox.c
# A later status never goes back: a "read" is not undone by a late "delivered".
_RANK = {"sent": 1, "delivered": 2, "read": 3, "played": 3, "failed": 4, "deleted": 4}


def record_statuses(
    conn: Connection, channel: str, statuses: Sequence[DeliveryStatus], now: datetime
) -> int:
    """Store each status once and carry the latest onto its outbox entry; returns how many
    entries changed. A status naming an entry's idempotency key also proves that an entry
    left `unknown` (timed out) did go out."""
    changed = 0
    for status in statuses:
        entry = conn.execute(
            select(OUT.id, OUT.status, OUT.delivery_status, OUT.external_id).where(
                OUT.channel == channel,
                or_(
                    OUT.external_id == status.wamid,
                    OUT.idempotency_key == (status.callback_data or "\x00"),
                ),
            )
        ).first()
        bulk_insert(
            conn,
            t.outbox_receipts,
            [
                {
                    "channel": channel,
                    "external_id": status.wamid,
                    "outbox_id": entry.id if entry else None,
                    "status": status.status,
                    "occurred_at": status.at,
                    "error": status.error,
                    "received_at": now,
                }
            ],
            on_conflict=["channel", "external_id", "status"],
        )
        if entry is None:
            continue
        values: dict[str, object] = {}
        if _RANK.get(status.status, 0) > _RANK.get(entry.delivery_status or "", 0):
            values.update(delivery_status=status.status, delivery_updated_at=status.at)
            if status.error:
                values["last_error"] = status.error
        if entry.status in ("unknown", "sending", "pending") and status.status != "failed":
            values.update(status="sent", external_id=status.wamid, sent_at=status.at)
        if values:
            conn.execute(update(t.outbox).where(OUT.id == entry.id).values(**values))
            changed += 1
    return changed


class Lookups:
    """Database answers for the WhatsApp sender, each in its own short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def last_inbound(self, wa_id: str) -> datetime | None:
        """When the citizen last wrote: a filed message, or a turn with the bot."""
        ci, m = t.citizen_identities.c, t.messages.c
        with self.engine.connect() as conn:
            chatted: datetime | None = conn.execute(
                select(t.bot_sessions.c.last_inbound_at).where(t.bot_sessions.c.wa_id == wa_id)
            ).scalar()
            value: datetime | None = conn.execute(
                select(func.max(m.created_at))
                .join(t.citizen_identities, ci.citizen_id == m.citizen_id)
                .where(
                    ci.channel == "whatsapp",
                    ci.external_user_id == wa_id,
                    m.channel == "whatsapp",
                    m.direction == "in",
                )
            ).scalar()
        known = [v for v in (value, chatted) if v is not None]
        return max(known) if known else None

    def sent_receipt(self, idempotency_key: str) -> str | None:
        r = t.outbox_receipts.c
        with self.engine.connect() as conn:
            value: str | None = conn.execute(
                select(r.external_id)
                .join(t.outbox, OUT.id == r.outbox_id)
                .where(OUT.idempotency_key == idempotency_key, r.status != "failed")
                .limit(1)
            ).scalar()
        return value
