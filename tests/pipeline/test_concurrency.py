"""Two workers ingesting the same posts at once still store each post once, with one ticket."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, func, select

from sevadesk.config import Settings
from sevadesk.domain.clock import FrozenClock
from sevadesk.pipeline.batch import BatchSummary
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from sevadesk.triage.baseline import BaselineTriager
from tests.factories import line, tweet


def test_concurrent_workers_store_each_post_exactly_once(
    org_engine: Engine, settings: Settings, clock: FrozenClock
) -> None:
    posts = [
        tweet(f"@RailMinIndia coach S{i % 9} of 12951 is dirty, PNR 45{i:08d}", author_id=str(i))
        for i in range(120)
    ]
    # The same posts as two ingestion paths deliver them: different bytes, same tweet ids.
    path_a = [line(p) for p in posts]
    path_b = [
        line({**p, "matching_rules": [{"id": "2", "tag": "catch-up"}]}) for p in reversed(posts)
    ]
    results: list[BatchSummary] = []
    errors: list[BaseException] = []

    def work(payloads: list[str]) -> None:
        try:
            pipeline = Pipeline(org_engine, BaselineTriager(), settings, clock)
            for start in range(0, len(payloads), 40):
                results.append(pipeline.ingest("x", "worker", payloads[start : start + 40]))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(p,)) for p in (path_a, path_b)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors, errors
    with org_engine.connect() as conn:
        messages = conn.execute(select(func.count()).select_from(t.messages)).scalar()
        tickets = conn.execute(select(func.count()).select_from(t.tickets)).scalar()
        orphans = conn.execute(
            select(func.count())
            .select_from(t.tickets)
            .where(
                ~select(t.messages.c.id).where(t.messages.c.ticket_id == t.tickets.c.id).exists()
            )
        ).scalar()
    assert messages == 120
    assert tickets == 120 and orphans == 0
    assert sum(r.new for r in results) == 120
    assert sum(r.tickets_opened for r in results) == 120
