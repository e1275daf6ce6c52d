"""The outbox worker: claims due entries, sends them, records what happened.

Never twice:
- an entry is claimed just before it is sent, one at a time, with a conditional UPDATE (one
  worker wins, on SQLite and PostgreSQL alike; on PostgreSQL the row is taken with SKIP
  LOCKED first, so a worker passes over an entry another is claiming instead of waiting) and
  a lease of its own; the lease is renewed
  before every call to the channel, so it only has to outlast one call. (Claiming fifty
  under one lease let a second worker take back, and send again, what the first had not
  reached when the lease ran out: 17 of 70 with a slow Graph API.)
- a worker that lost its lease stops before its next call, and its writes are refused (they
  name the attempt it claimed);
- an unknown outcome (a timeout, a 5xx after the request went out, a worker that died
  holding the lease) is resolved before anything is sent again: the entry waits as
  `unknown` for the channel's grace period (WhatsApp's status webhooks), then the channel is
  asked (X's timeline and DM events, WhatsApp's receipts); only a "no" sends again, and a
  lookup that fails leaves it unknown.
Retries back off exponentially with full jitter; a channel that answers 429 is paused until
its reset time; after `max_attempts` the entry is dead, with its error, for an agent to see.
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


class LeaseLost(Exception):
    """Another worker holds the entry now (this one's lease ran out): touch nothing more."""


class OutboxWorker:
    def __init__(
        self,
        engine: Engine,
        senders: Mapping[str, Sender],
        clock: Clock,
        max_attempts: int = 8,
        rng: random.Random | None = None,
        lease: timedelta | None = None,
    ) -> None:
        self.engine, self.senders, self.clock = engine, dict(senders), clock
        self.max_attempts = max_attempts
        self.rng = rng or random.Random()
        self.lease = lease if lease is not None else LEASE
        self.paused_until: dict[str, float] = {}  # channel → monotonic time

    def run_once(self, limit: int = 50) -> int:
        """Deliver what is due (up to `limit` entries, each claimed as its turn comes);
        returns how many entries were attempted."""
        attempted = 0
        for row in self._due(limit):
            if self.paused_until.get(row.channel, 0.0) > time.monotonic():
                continue  # a 429 on an earlier entry paused the channel
            entry = self._claim(row)
            if entry is not None:
                self._deliver(entry, row.status)
                attempted += 1
        return attempted

    # Claiming ------------------------------------------------------------------------------

    def _due_now(self) -> Any:
        now = self.clock.now()
        return or_(
            (OUT.status.in_(["pending", "unknown"])) & (OUT.next_attempt_at <= now),
            (OUT.status == "sending") & (OUT.lease_until < now),  # a worker died holding it
        )

    def _due(self, limit: int) -> list[Any]:
        channels = [c for c in self.senders if self.paused_until.get(c, 0.0) <= time.monotonic()]
        if not channels:
            return []
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(t.outbox, t.tickets.c.ref)
                    .outerjoin(t.tickets, t.tickets.c.id == OUT.ticket_id)
                    .where(self._due_now(), OUT.channel.in_(channels))
                    .order_by(OUT.next_attempt_at, OUT.id)
                    .limit(limit)
                ).all()
            )

    def _claim(self, row: Any) -> OutboxEntry | None:
        """Take one entry, if it is still as read and still due (another worker may have
        taken it, or renewed its lease, since the list was read)."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Another worker claiming this entry right now holds its row: skip it rather
                # than wait for that commit only to find the entry taken.
                free = conn.execute(
                    select(OUT.id).where(OUT.id == row.id).with_for_update(skip_locked=True)
                ).first()
                if free is None:
                    return None
            won = conn.execute(
                update(t.outbox)
                .where(
                    OUT.id == row.id,
                    OUT.status == row.status,
                    OUT.attempts == row.attempts,
                    self._due_now(),
                )
                .values(
                    status="sending",
                    lease_until=self.clock.now() + self.lease,
                    attempts=OUT.attempts + 1,
                )
            ).rowcount
        return _entry(row, row.attempts + 1) if won else None

    def _mine(self, entry: OutboxEntry) -> Any:
        """The entry as this worker claimed it: still sending, under the attempt it counted."""
        return (OUT.id == entry.id) & (OUT.attempts == entry.attempts)

    def _renew(self, entry: OutboxEntry) -> None:
        """Extend the lease before a call to the channel; LeaseLost if it is gone."""
        with self.engine.begin() as conn:
            held = conn.execute(
                update(t.outbox)
                .where(self._mine(entry), OUT.status == "sending")
                .values(lease_until=self.clock.now() + self.lease)
            ).rowcount
        if not held:
            raise LeaseLost(f"outbox entry {entry.id} is no longer this worker's")

    # Delivering ----------------------------------------------------------------------------

    def _deliver(self, entry: OutboxEntry, was: str) -> None:
        sender = self.senders[entry.channel]
        try:
            sent: Sent | None = None
            if was in ("unknown", "sending"):
                self._renew(entry)
                sent = self._look_up(sender, entry)
                if sent is not None:
                    log.info("outbox_found_already_sent", id=entry.id, key=entry.idempotency_key)
                elif entry.attempts > self.max_attempts:
                    # The last attempt's outcome was unknown; now it is known: not sent.
                    self._dead(
                        entry,
                        f"gave up after {entry.attempts - 1} attempts: {entry.last_error}"
                        " (none of them went out)",
                    )
                    return
            if sent is None:
                self._renew(entry)
                sent = sender.send(entry, lambda payload: self._progress(entry, payload))
        except LeaseLost:
            log.warning("outbox_lease_lost", id=entry.id, attempt=entry.attempts)
        except RetryLater as exc:
            if exc.after_seconds is not None:
                self.paused_until[entry.channel] = time.monotonic() + exc.after_seconds
            self._failed(entry, exc, "pending", exc.after_seconds)
        except MaybeSent as exc:
            self._failed(entry, exc, "unknown", max(sender.unknown_grace_seconds, 0.0) or None)
        except Undeliverable as exc:
            self._dead(entry, exc.reason)
        except Exception as exc:  # a bug in a sender must not stop the worker
            log.exception("outbox_sender_crashed", id=entry.id)
            self._failed(entry, DeliveryError(f"{type(exc).__name__}: {exc}"), "pending", None)
        else:
            self._sent(entry, sent)

    def _look_up(self, sender: Sender, entry: OutboxEntry) -> Sent | None:
        """Whether an entry whose outcome is unknown went out. A lookup that fails (X down,
        a 429) settles nothing: the entry stays unknown and is asked about again later."""
        try:
            return sender.find_sent(entry)
        except (LeaseLost, MaybeSent):
            raise
        except Exception as exc:
            reason = exc.reason if isinstance(exc, DeliveryError) else f"{type(exc).__name__}"
            if isinstance(exc, RetryLater) and exc.after_seconds is not None:
                self.paused_until[entry.channel] = time.monotonic() + exc.after_seconds
            raise MaybeSent(f"could not check whether it went out: {reason}") from exc

    def _progress(self, entry: OutboxEntry, payload: dict[str, Any]) -> None:
        """Keep a multi-part send's progress (always: it says what went out), and renew the
        lease before the next part (LeaseLost stops the send)."""
        with self.engine.begin() as conn:
            conn.execute(update(t.outbox).where(OUT.id == entry.id).values(payload=payload))
        self._renew(entry)

    def _failed(
        self, entry: OutboxEntry, exc: DeliveryError, status: str, after: float | None
    ) -> None:
        if entry.attempts >= self.max_attempts and status != "unknown":
            # (An unknown outcome is looked up once more first: it may have gone out.)
            self._dead(entry, f"gave up after {entry.attempts} attempts: {exc.reason}")
            return
        delay = backoff_seconds(entry.attempts, self.rng)
        if after is not None:
            delay = after if status == "pending" else max(after, delay)
        DELIVERIES.labels(entry.channel, "retry" if status == "pending" else "unknown").inc()
        log.info(
            "outbox_retry", id=entry.id, status=status, delay=round(delay, 2), error=exc.reason
        )
        with self.engine.begin() as conn:
            # Not over a status webhook that said "sent" meanwhile, nor another worker's claim.
            conn.execute(
                update(t.outbox)
                .where(self._mine(entry), OUT.status == "sending")
                .values(
                    status=status,
                    last_error=exc.reason[:1000],
                    next_attempt_at=self.clock.now() + timedelta(seconds=delay),
                    lease_until=None,
                )
            )

    def _dead(self, entry: OutboxEntry, reason: str) -> None:
        now = self.clock.now()
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(t.outbox)
                .where(self._mine(entry), OUT.status == "sending")
                .values(status="dead", last_error=reason[:1000], lease_until=None)
            ).rowcount
            if changed:
                _event(conn, entry, now, "reply_dead", {"error": reason[:500]})
        if changed:
            DELIVERIES.labels(entry.channel, "dead").inc()
            log.warning("outbox_dead", id=entry.id, error=reason)

    def _sent(self, entry: OutboxEntry, sent: Sent) -> None:
        DELIVERIES.labels(entry.channel, "sent").inc()
        now = self.clock.now()
        with self.engine.begin() as conn:
            ticket_id = conn.execute(select(OUT.ticket_id).where(OUT.id == entry.id)).scalar()
            mine = conn.execute(
                update(t.outbox)
                # A status webhook may have said "sent" first; the ids and events are ours.
                .where(self._mine(entry), OUT.status.in_(["sending", "sent"]))
                .values(
                    status="sent",
                    external_id=sent.external_id,
                    sent_at=now,
                    kind=sent.kind if entry.kind != "dm" else "dm",
                    lease_until=None,
                    last_error=None,
                )
            ).rowcount
            if not mine:
                log.warning("outbox_sent_after_losing_lease", id=entry.id, attempt=entry.attempts)
                return
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
        created_at=row.created_at,
        last_error=row.last_error,
    )
