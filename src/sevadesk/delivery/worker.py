"""The outbox worker: claims due entries, sends them, records what happened.

Never twice: an entry is claimed with a conditional UPDATE (one worker wins, on SQLite and
PostgreSQL alike) and a lease; the idempotency key travels with it; after a timeout (or a
worker that died holding the lease) the channel is asked whether the post went out before
it is sent again. Retries back off exponentially with full jitter; a channel that answers
429 is paused until its reset time; after `max_attempts` the entry is dead, with its error,
for an agent to see.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import structlog
from prometheus_client import Counter
from sqlalchemy import Connection, Engine, or_, select, update

from sevadesk.domain.clock import Clock
from sevadesk.domain.delivery import (
    DeliveryError,
    MaybeSent,
    OutboxEntry,
    RetryLater,
    Sender,
    Sent,
    Undeliverable,
)
from sevadesk.store import tables as t
from sevadesk.store.fast import bulk_insert

log = structlog.get_logger(__name__)

DELIVERIES = Counter(
    "seva_outbox_deliveries_total", "Outbox attempts by outcome", ["channel", "outcome"]
)

OUT = t.outbox.c
LEASE = timedelta(minutes=2)
BASE_DELAY, MAX_DELAY = 2.0, 900.0


def backoff_seconds(attempts: int, rng: random.Random) -> float:
    """Exponential backoff with full jitter (uniform between half and the whole step)."""
    step = min(BASE_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY)
    return step * rng.uniform(0.5, 1.0)


class OutboxWorker:
    def __init__(
        self,
        engine: Engine,
        senders: Mapping[str, Sender],
        clock: Clock,
        max_attempts: int = 8,
        rng: random.Random | None = None,
    ) -> None:
        self.engine, self.senders, self.clock = engine, dict(senders), clock
        self.max_attempts = max_attempts
        self.rng = rng or random.Random()
        self.paused_until: dict[str, float] = {}  # channel → monotonic time

    def run_once(self, limit: int = 50) -> int:
        """Deliver what is due; returns how many entries were attempted."""
        entries = self._claim(limit)
        for entry, was in entries:
            self._deliver(entry, was)
        return len(entries)

    # Claiming ------------------------------------------------------------------------------

    def _claim(self, limit: int) -> list[tuple[OutboxEntry, str]]:
        now = self.clock.now()
        channels = [c for c in self.senders if self.paused_until.get(c, 0.0) <= time.monotonic()]
        if not channels:
            return []
        due = or_(
            (OUT.status.in_(["pending", "unknown"])) & (OUT.next_attempt_at <= now),
            (OUT.status == "sending") & (OUT.lease_until < now),  # a worker died holding it
        )
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.outbox, t.tickets.c.ref)
                .outerjoin(t.tickets, t.tickets.c.id == OUT.ticket_id)
                .where(due, OUT.channel.in_(channels))
                .order_by(OUT.next_attempt_at, OUT.id)
                .limit(limit)
            ).all()
        claimed: list[tuple[OutboxEntry, str]] = []
        for row in rows:
            with self.engine.begin() as conn:
                won = conn.execute(
                    update(t.outbox)
                    .where(OUT.id == row.id, OUT.status == row.status, OUT.attempts == row.attempts)
                    .values(status="sending", lease_until=now + LEASE, attempts=OUT.attempts + 1)
                ).rowcount
            if won:
                claimed.append((_entry(row, row.attempts + 1), row.status))
        return claimed

    # Delivering ----------------------------------------------------------------------------

    def _deliver(self, entry: OutboxEntry, was: str) -> None:
        sender = self.senders[entry.channel]
        try:
            sent: Sent | None = None
            if was in ("unknown", "sending"):
                sent = sender.find_sent(entry)
                if sent is not None:
                    log.info("outbox_found_already_sent", id=entry.id, key=entry.idempotency_key)
            if sent is None:
                sent = sender.send(entry, lambda payload: self._progress(entry.id, payload))
        except RetryLater as exc:
            if exc.after_seconds is not None:
                self.paused_until[entry.channel] = time.monotonic() + exc.after_seconds
            self._failed(entry, exc, "pending", exc.after_seconds)
        except MaybeSent as exc:
            self._failed(entry, exc, "unknown", None)
        except Undeliverable as exc:
            self._dead(entry, exc.reason)
        except Exception as exc:  # a bug in a sender must not stop the worker
            log.exception("outbox_sender_crashed", id=entry.id)
            self._failed(entry, DeliveryError(f"{type(exc).__name__}: {exc}"), "pending", None)
        else:
            self._sent(entry, sent)

    def _progress(self, entry_id: int, payload: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(t.outbox).where(OUT.id == entry_id).values(payload=payload))

    def _failed(
        self, entry: OutboxEntry, exc: DeliveryError, status: str, after: float | None
    ) -> None:
        if entry.attempts >= self.max_attempts:
            self._dead(entry, f"gave up after {entry.attempts} attempts: {exc.reason}")
            return
        delay = after if after is not None else backoff_seconds(entry.attempts, self.rng)
        DELIVERIES.labels(entry.channel, "retry" if status == "pending" else "unknown").inc()
        log.info(
            "outbox_retry", id=entry.id, status=status, delay=round(delay, 2), error=exc.reason
        )
        with self.engine.begin() as conn:
            conn.execute(
                update(t.outbox)
                .where(OUT.id == entry.id)
                .values(
                    status=status,
                    last_error=exc.reason[:1000],
                    next_attempt_at=self.clock.now() + timedelta(seconds=delay),
                    lease_until=None,
                )
            )

    def _dead(self, entry: OutboxEntry, reason: str) -> None:
        DELIVERIES.labels(entry.channel, "dead").inc()
        log.warning("outbox_dead", id=entry.id, error=reason)
        now = self.clock.now()
        with self.engine.begin() as conn:
            conn.execute(
                update(t.outbox)
                .where(OUT.id == entry.id)
                .values(status="dead", last_error=reason[:1000], lease_until=None)
            )
            _event(conn, entry, now, "reply_dead", {"error": reason[:500]})

    def _sent(self, entry: OutboxEntry, sent: Sent) -> None:
        DELIVERIES.labels(entry.channel, "sent").inc()
        now = self.clock.now()
        with self.engine.begin() as conn:
            ticket_id = conn.execute(select(OUT.ticket_id).where(OUT.id == entry.id)).scalar()
            conn.execute(
                update(t.outbox)
                .where(OUT.id == entry.id)
                .values(
                    status="sent",
                    external_id=sent.external_id,
                    sent_at=now,
                    kind=sent.kind if entry.kind != "dm" else "dm",
                    lease_until=None,
                    last_error=None,
                )
            )
            # The desk's own posts join the ticket, so a citizen answering them threads in.
            previous = entry.in_reply_to_id
            rows = []
            for external_id, text in sent.posts:
                rows.append(
                    {
                        "channel": entry.channel,
                        "external_id": external_id,
                        "direction": "out",
                        "ticket_id": ticket_id,
                        "in_reply_to_id": previous,
                        "text": text,
                        "created_at": now,
                        "received_at": now,
                    }
                )
                previous = external_id
            bulk_insert(conn, t.messages, rows, on_conflict=["channel", "external_id"])
            _event(
                conn, entry, now, "reply_sent", {"external_id": sent.external_id, "kind": sent.kind}
            )


def _event(
    conn: Connection, entry: OutboxEntry, now: datetime, action: str, after: dict[str, Any]
) -> None:
    ticket_id = conn.execute(select(OUT.ticket_id).where(OUT.id == entry.id)).scalar()
    if ticket_id is None:
        return
    conn.execute(
        t.ticket_events.insert().values(
            ticket_id=ticket_id,
            at=now,
            actor="outbox",
            action=action,
            before=None,
            after={"outbox_id": entry.id, **after},
            note=None,
        )
    )


def _entry(row: Any, attempts: int) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        idempotency_key=row.idempotency_key,
        channel=row.channel,
        kind=row.kind,
        body=row.body,
        attempts=attempts,
        ticket_ref=row.ref,
        in_reply_to_id=row.in_reply_to_id,
        recipient=row.recipient,
        payload=dict(row.payload or {}),
    )
