"""The desk's processes as an operator runs them: a drain worker beside a web-only server, an
ingest killed mid-replay, two ingests of one file at once. Real processes, real databases."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from sevadesk.pipeline import journal
from sevadesk.store import tables as t
from tests.conftest import TEST_ORG
from tests.factories import BASE_TIME, line, tweet


def _env(db: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "SEVA_DATABASE_URL": db, "SEVA_LOG_LEVEL": "WARNING", **extra}


def _seva(*args: str, db: str, **popen: object) -> subprocess.Popen[str]:
    options: dict[str, object] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **popen}
    return subprocess.Popen(  # type: ignore[call-overload,no-any-return]
        [sys.executable, "-m", "sevadesk", *args], env=_env(db), text=True, **options
    )


def _count(engine: Engine, table: t.Table, *where: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _feed(path: Path, n: int, citizens: int | None = None, trains: int | None = None) -> Path:
    """n complaints, from `citizens` citizens (default: one each) about `trains` trains: with
    few of either, posts thread onto their citizen's ticket and group into incidents."""
    path.write_text(
        "\n".join(
            line(
                tweet(
                    f"@RailMinIndia coach B{i % 9 + 1} of train {12000 + i % (trains or n)} "
                    f"has no water, PNR {4500000000 + i}",
                    author_id=str(100000 + i % (citizens or n)),
                    username=f"citizen{i % (citizens or n)}",
                    minutes=i / 100,  # a citizen's next post is well inside 30 minutes
                )
            )
            for i in range(n)
        )
        + "\n"
    )
    return path


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(c) for c in found]


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended


def _one_clean_run(tmp: Path, feed: Path) -> dict[str, int]:
    """What one run of `feed` stores alone (SQLite, nothing in the way)."""
    db = f"sqlite:///{tmp / 'reference.db'}"
    for args in (("org", "load", str(TEST_ORG)), ("ingest", str(feed), "--batch-size", "250")):
        proc = _seva(*args, db=db)
        _out, errors = proc.communicate(timeout=120)
        assert proc.returncode == 0, errors
    from sevadesk.store.db import make_engine

    engine = make_engine(db)
    figures = {"messages": _count(engine, t.messages), "tickets": _count(engine, t.tickets)}
    engine.dispose()
    return figures


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    tmp = tmp_path_factory.mktemp("reference")
    return _one_clean_run(tmp, _feed(tmp / "feed.jsonl", CRASH_POSTS))


CRASH_POSTS = 4000


def _load_org(db: str) -> None:
    proc = _seva("org", "load", str(TEST_ORG), db=db)
    assert proc.communicate(timeout=60) and proc.returncode == 0


def test_a_drain_worker_drains_although_the_web_process_is_told_not_to(
    engine: Engine, database_url: str
) -> None:
    """docs/operations.md: SEVA_DRAIN_INTERVAL_SECONDS=0 for a web-only process, and
    `seva worker drain` beside it. With that setting in the environment the worker must still
    drain (it did nothing: 0 of 19,876 entries in the probe)."""
    _load_org(database_url)
    posts = [
        line(tweet(f"@RailMinIndia fan not working in coach S{i} of 12951", author_id=str(i)))
        for i in range(1, 6)
    ]
    with engine.begin() as conn:
        journal.append(conn, "x", "x-webhook", posts, BASE_TIME)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sevadesk", "worker", "drain"],
        env=_env(database_url, SEVA_DRAIN_INTERVAL_SECONDS="0"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait(
            lambda: _count(engine, t.journal, t.journal.c.status == "pending") == 0,
            45,
            "the worker to drain the journal",
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert _count(engine, t.tickets) == 5


def test_an_ingest_killed_mid_replay_leaves_no_process_and_a_rerun_loses_and_doubles_nothing(
    engine: Engine, database_url: str, tmp_path: Path, reference: dict[str, int]
) -> None:
    _load_org(database_url)
    feed = _feed(tmp_path / "feed.jsonl", CRASH_POSTS)
    proc = _seva(
        "ingest",
        str(feed),
        "--batch-size",
        "200",
        db=database_url,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    processed = t.journal.c.status == "processed"
    try:
        _wait(lambda: _count(engine, t.journal, processed) > 0, 40, "the first batch")
        workers = _children(proc.pid)
        assert workers, "seva ingest prepares batches in a worker process"
        proc.kill()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    done_at_kill = _count(engine, t.journal, processed)
    assert done_at_kill < CRASH_POSTS, "killed too late to test anything"
    _wait(lambda: not any(_alive(w) for w in workers), 5, "the orphaned worker to end")

    rerun = _seva("ingest", str(feed), "--json", db=database_url)
    _out, errors = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, errors
    assert _count(engine, t.messages) == reference["messages"] == CRASH_POSTS
    assert _count(engine, t.tickets) == reference["tickets"]
    assert _count(engine, t.journal) == CRASH_POSTS
    assert _count(engine, t.journal, processed) == CRASH_POSTS
    with engine.connect() as conn:
        openers = conn.execute(
            select(t.messages.c.ticket_id, func.count())
            .where(t.messages.c.ticket_id.is_not(None))
            .group_by(t.messages.c.ticket_id)
            .having(func.count() > 1)
        ).all()
    assert openers == []  # no ticket opened twice, none holding a post twice


def test_two_ingests_of_one_file_at_once_both_succeed_with_nothing_doubled(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """The probe: on PostgreSQL one of two runs ended with a ForeignKeyViolation (4 of 4).
    Citizens post again and trains repeat, so runs race to thread and group the same posts."""
    _load_org(database_url)
    feed = _feed(tmp_path / "feed.jsonl", CRASH_POSTS, citizens=300, trains=40)
    (tmp_path / "alone").mkdir()
    reference = _one_clean_run(tmp_path / "alone", feed)
    runs = [
        _seva("ingest", str(feed), "--batch-size", "250", "--json", db=database_url)
        for _ in range(2)
    ]
    results = [run.communicate(timeout=180) for run in runs]
    for run, (_out, errors) in zip(runs, results, strict=True):
        assert run.returncode == 0, errors[-3000:]
    assert _count(engine, t.messages) == CRASH_POSTS
    assert _count(engine, t.tickets) == reference["tickets"]
    assert _count(engine, t.journal, t.journal.c.status != "processed") == 0


SHARED_POSTS = 3000


def test_two_drain_processes_share_the_journal_and_one_takes_over_a_killed_ones_batch(
    org_engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """`seva worker drain --processes 2` on PostgreSQL over a few thousand webhook entries:
    every entry is processed once, each by the process that claimed it, no batch is found
    done by the other, and the batch a SIGKILLed process held is taken over when its lease
    runs out (the killed process is started again meanwhile)."""
    if org_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: one drain process")
    posts = [
        line(
            tweet(
                f"@RailMinIndia coach B{i % 9 + 1} of train {12000 + i % 50} has no water, "
                f"PNR {4500000000 + i}",
                author_id=str(300000 + i),
            )
        )
        for i in range(SHARED_POSTS)
    ]
    with org_engine.begin() as conn:
        journal.append(conn, "x", "x-webhook", posts, BASE_TIME)
    j = t.journal.c
    log_file = tmp_path / "workers.log"
    with log_file.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sevadesk", "worker", "drain", "--processes", "2"],
            env=_env(
                database_url,
                SEVA_DRAIN_LEASE_SECONDS="3",
                SEVA_DRAIN_BATCH_SIZE="150",
                SEVA_DRAIN_INTERVAL_SECONDS="0.2",
            ),
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    host = socket.gethostname()
    held: list[int] = []
    try:
        _wait(lambda: len(_children(proc.pid)) == 2, 20, "two drain processes")
        victim = _children(proc.pid)[0]
        name = f"{host}:{victim}"
        holding = (j.status == "pending") & (j.claimed_by == name)
        _wait(lambda: _count(org_engine, t.journal, holding) > 0, 40, "a batch claimed")
        os.kill(victim, signal.SIGKILL)
        time.sleep(0.5)  # a commit on its way when the process died lands first
        with org_engine.connect() as conn:
            held = list(conn.execute(select(j.id).where(holding)).scalars())
        _wait(
            lambda: _count(org_engine, t.journal, j.status == "pending") == 0,
            60,
            "the journal drained",
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    logged = log_file.read_text()
    assert held, "the killed process held no batch: nothing was taken over"
    with org_engine.connect() as conn:
        by = dict(conn.execute(select(j.id, j.claimed_by).where(j.id.in_(held))).all())
        workers = conn.execute(select(j.claimed_by, func.count()).group_by(j.claimed_by)).all()
    assert name not in set(by.values()), "the killed process's batch was not taken over"
    assert all(w.startswith(f"{host}:") for w, _n in workers) and len(workers) >= 2
    assert _count(org_engine, t.journal, j.status == "processed") == SHARED_POSTS
    assert _count(org_engine, t.messages) == SHARED_POSTS
    assert _count(org_engine, t.tickets) == SHARED_POSTS  # a new citizen each: one ticket each
    assert "journal_entries_done_elsewhere" not in logged  # no batch done by both
    assert "pipeline_batch_refused" not in logged  # no conflict, no retry in halves
    assert "worker_process_ended" in logged  # the supervisor saw the kill and restarted it
