"""Outbox workers on PostgreSQL pass over an entry another worker is claiming (SKIP LOCKED)
instead of waiting for its commit: a slow claim elsewhere does not hold the queue up."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from sevadesk.delivery.worker import OutboxWorker
from sevadesk.domain.clock import FrozenClock
from sevadesk.domain.delivery import OutboxEntry, Sent
from sevadesk.store import tables as t
from tests.delivery.test_outbox_faults import queue, statuses


class RecordingSender:
    channel = "x"
    unknown_grace_seconds = 0.0

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, entry: OutboxEntry, progress: Any) -> Sent:
        self.sent.append(entry.body)
        return Sent(((f"post-{entry.id}", entry.body),))

    def find_sent(self, entry: OutboxEntry) -> Sent | None:
        return None


@pytest.mark.postgres
def test_an_entry_another_worker_is_claiming_is_passed_over_not_waited_for(
    org_engine: Engine,
) -> None:
    if org_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: claims queue for its lock")
    clock = FrozenClock(datetime.now(UTC))
    queue(org_engine, clock, "x", "dm", ["first", "second", "third"], ["1", "2", "3"])
    sender = RecordingSender()
    worker = OutboxWorker(org_engine, {"x": sender}, clock)
    with org_engine.connect() as other:  # another worker, mid-claim on the first entry
        other.execute(
            select(t.outbox.c.id).order_by(t.outbox.c.id).limit(1).with_for_update()
        ).scalar_one()
        done = threading.Event()
        thread = threading.Thread(target=lambda: (worker.run_once(), done.set()))
        thread.start()
        passed_over = done.wait(timeout=20)
        other.rollback()  # lets a worker that waited go on, so the test ends either way
        thread.join(timeout=20)
    assert passed_over, "the worker waited for the other worker's claim"
    assert sender.sent == ["second", "third"]
    assert statuses(org_engine) == {"pending": 1, "sent": 2}
