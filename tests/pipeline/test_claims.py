"""Several drain workers share the journal: each batch is claimed by one of them (on
PostgreSQL with SKIP LOCKED and a lease), a killed worker's batch is taken over once its
lease runs out, and every entry names the worker that processed it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select, update

from sevadesk.config import Settings
from sevadesk.domain.clock import FrozenClock
from sevadesk.pipeline import journal
from sevadesk.pipeline.runner import Pipeline
from sevadesk.service import Workers
from sevadesk.store import tables as t
from sevadesk.triage.baseline import BaselineTriager
from tests.factories import BASE_TIME, line, tweet

LEASE = timedelta(seconds=60)


def _journal(engine: Engine, n: int, start: int = 0) -> list[int]:
    posts = [
        line(tweet(f"@RailMinIndia no water in coach B{i % 9} of 12951", author_id=str(7000 + i)))
        for i in range(start, start + n)
    ]
    with engine.begin() as conn:
        return [e.id for e in journal.append(conn, "x", "x-webhook", posts, BASE_TIME)]


def _claims(engine: Engine) -> dict[int, tuple[str, str | None]]:
    j = t.journal.c
    with engine.connect() as conn:
        rows = conn.execute(select(j.id, j.status, j.claimed_by)).all()
    return {r.id: (r.status, r.claimed_by) for r in rows}


def _drainer(engine: Engine, settings: Settings, clock: FrozenClock, name: str) -> Pipeline:
    return Pipeline(engine, BaselineTriager(), settings, clock, claimer=name)


@pytest.mark.postgres
def test_two_workers_claiming_at_once_take_different_batches(org_engine: Engine) -> None:
    if org_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: its drain needs no claims")
    ids = _journal(org_engine, 30)
    now = BASE_TIME + timedelta(hours=1)
    with org_engine.connect() as a, org_engine.connect() as b:
        first = journal.claim_batch(a, 10, "worker-a", now, LEASE)  # a's transaction open
        second = journal.claim_batch(b, 10, "worker-b", now, LEASE)  # not blocked by a
        a.commit()
        b.commit()
        # Both leases are live: a third worker gets the rest, and nothing of theirs.
        with org_engine.begin() as c:
            third = journal.claim_batch(c, 100, "worker-c", now, LEASE)
    assert [e.id for e in first] == ids[:10]
    assert [e.id for e in second] == ids[10:20]
    assert [e.id for e in third] == ids[20:]
    claims = _claims(org_engine)
    assert {claims[i][1] for i in ids[:10]} == {"worker-a"}
    assert {claims[i][1] for i in ids[10:20]} == {"worker-b"}


@pytest.mark.postgres
def test_a_killed_workers_batch_is_taken_over_when_its_lease_runs_out(
    org_engine: Engine, settings: Settings, clock: FrozenClock
) -> None:
    if org_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: its drain needs no claims")
    ids = _journal(org_engine, 12)
    with org_engine.begin() as conn:  # claimed, then the worker was killed before its commit
        dead = journal.claim_batch(conn, 100, "killed:41", clock.now(), LEASE)
    assert len(dead) == 12
    survivor = _drainer(org_engine, settings, clock, "survivor:42")
    assert survivor.drain().new == 0  # the lease still runs: the entries are not taken
    clock.advance(LEASE + timedelta(seconds=1))
    assert survivor.drain().new == 12
    assert set(_claims(org_engine).values()) == {("processed", "survivor:42")}
    assert sorted(e.id for e in dead) == ids
    # A restarted worker of the same name takes its own unfinished claims back at once.
    more = _journal(org_engine, 3, start=100)
    with org_engine.begin() as conn:
        journal.claim_batch(conn, 100, "restarted:43", clock.now(), LEASE)
    again = _drainer(org_engine, settings, clock, "restarted:43")
    assert again.drain().new == 3
    assert {_claims(org_engine)[i] for i in more} == {("processed", "restarted:43")}


def test_each_processed_entry_names_the_worker_that_did_it(
    org_engine: Engine, settings: Settings, clock: FrozenClock
) -> None:
    ids = _journal(org_engine, 5)
    summary = _drainer(org_engine, settings, clock, "desk-1:77").drain()
    assert summary.tickets_opened == 5
    claims = _claims(org_engine)
    assert {claims[i] for i in ids} == {("processed", "desk-1:77")}


def test_drain_workers_in_threads_process_every_entry_once(
    org_engine: Engine, settings: Settings, clock: FrozenClock
) -> None:
    """Four drains in small batches over the same journal, on SQLite and PostgreSQL: every
    entry is processed once, by one of them, and no batch is found done by another."""
    ids = _journal(org_engine, 160)
    names = [f"thread-{n}" for n in range(4)]
    done_elsewhere = []
    errors: list[BaseException] = []

    def work(name: str) -> None:
        pipeline = _drainer(org_engine, settings, clock, name)
        try:
            while True:
                summary = pipeline.drain(limit=20)
                done_elsewhere.append(summary.duplicates)
                if not summary.new and not summary.duplicates:
                    return
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in names]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors
    claims = _claims(org_engine)
    assert all(claims[i][0] == "processed" for i in ids)
    assert {claims[i][1] for i in ids} <= set(names)
    with org_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.messages)).scalar() == 160
        assert conn.execute(select(func.count()).select_from(t.tickets)).scalar() == 160
    if org_engine.dialect.name == "postgresql":
        assert sum(done_elsewhere) == 0  # the claims kept the workers apart


def test_a_retried_entry_is_claimable_at_once(
    org_engine: Engine, settings: Settings, clock: FrozenClock
) -> None:
    ids = _journal(org_engine, 2)
    with org_engine.begin() as conn:
        journal.claim_batch(conn, 100, "gone:1", clock.now(), LEASE)
        journal.set_aside(conn, ids[0], "IntegrityError: refused", clock.now())
        conn.execute(update(t.journal).where(t.journal.c.id == ids[1]).values(status="processed"))
        assert journal.retry(conn) == [ids[0]]
    assert _drainer(org_engine, settings, clock, "other:2").drain().new == 1
    assert _claims(org_engine)[ids[0]] == ("processed", "other:2")


@pytest.mark.postgres
def test_two_processes_running_the_sla_pass_at_once_escalate_each_breach_once(
    org_engine: Engine, settings: Settings, clock: FrozenClock
) -> None:
    pipeline = Pipeline(org_engine, None, settings, clock)
    pipeline.ingest(
        "x",
        "test",
        [
            line(
                tweet(
                    f"@Uppolice FIR not registered at the thana for a week, Lucknow PIN 226001, "
                    f"case {i}",
                    author_id=str(8800 + i),
                )
            )
            for i in range(12)
        ],
    )
    with org_engine.connect() as conn:
        due = conn.execute(select(func.max(t.tickets.c.first_response_due))).scalar_one()
        opened = conn.execute(select(func.count()).select_from(t.tickets)).scalar_one()
    assert opened == 12
    clock.advance(due + timedelta(minutes=1) - clock.now())
    desks = [Workers(org_engine, settings, clock) for _ in range(4)]
    start = threading.Barrier(len(desks))
    errors: list[BaseException] = []

    def run(desk: Workers) -> None:
        try:
            start.wait()
            desk._sla_pass()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(d,)) for d in desks]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert not errors, errors
    e = t.ticket_events.c
    with org_engine.connect() as conn:
        per_ticket = conn.execute(
            select(e.ticket_id, func.count()).where(e.action == "escalated").group_by(e.ticket_id)
        ).all()
    assert len(per_ticket) == 12
    assert {n for _, n in per_ticket} == {1}
