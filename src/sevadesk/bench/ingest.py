"""End-to-end ingest throughput: X v2 payloads → journal → tickets, on the configured database."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import Engine, func, select

from sevadesk.config import get_settings
from sevadesk.demo.run import ORG_FILE
from sevadesk.demo.traffic import TrafficGenerator
from sevadesk.pipeline import journal
from sevadesk.pipeline.batch import BatchSummary
from sevadesk.pipeline.runner import Pipeline
from sevadesk.routing.orgfile import load_org_file
from sevadesk.runtime import settle_heap
from sevadesk.store import tables as t
from sevadesk.store.db import open_database
from sevadesk.store.org_repo import apply_org
from sevadesk.triage.baseline import BaselineTriager


def run_ingest_bench(
    *,
    posts: int,
    batch_size: int,
    database_url: str | None,
    console: Console,
    triage: str = "baseline",
    drain_workers: int = 0,
) -> dict[str, Any]:
    """`drain_workers` > 0: the posts are journaled first (as webhooks store them), then that
    many `seva worker drain` processes share the journal; the figure is from the first claim
    to the last entry processed (the workers' start-up is not in it)."""
    tmpdir = None
    if database_url is None:
        tmpdir = tempfile.mkdtemp(prefix="seva-bench-")
        database_url = f"sqlite:///{Path(tmpdir) / 'bench.db'}"
    engine = open_database(database_url)
    with engine.begin() as conn:
        apply_org(conn, load_org_file(ORG_FILE))
    settings = get_settings().model_copy(update={"database_url": database_url})
    # The foundation's figure is with the keyword baseline; `model` measures the shipped model.
    pipeline = Pipeline(engine, BaselineTriager() if triage == "baseline" else None, settings)
    settle_heap()  # as `seva ingest` does

    console.print(f"generating {posts:,} X v2 stream events …", style="dim")
    # A new seed per run keeps ids fresh when the same PostgreSQL database is reused.
    lines = TrafficGenerator(seed=int(time.time()) % 100_000, users=200_000).lines(posts)
    if drain_workers > 0:
        result = _drain_bench(engine, database_url, lines, batch_size, drain_workers, console)
        engine.dispose()
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
        return result
    console.print(f"ingesting on {engine.dialect.name} in batches of {batch_size:,} …", style="dim")
    total = BatchSummary()
    started = time.perf_counter()
    batches = (lines[offset : offset + batch_size] for offset in range(0, posts, batch_size))
    for summary in pipeline.ingest_many("x", "bench", batches):
        total.add(summary)
    elapsed = time.perf_counter() - started
    result = {
        "benchmark": "ingest",
        "database": engine.dialect.name,
        "posts": posts,
        "batch_size": batch_size,
        "triage": triage,
        "seconds": round(elapsed, 3),
        "posts_per_second": round(posts / elapsed),
        "cpu_count": os.cpu_count(),
        **total.as_dict(),
    }
    console.print(
        f"[bold]{result['posts_per_second']:,} posts/s[/] end to end "
        f"({posts:,} posts in {elapsed:.2f}s; {total.tickets_opened:,} tickets opened, "
        f"{total.threaded:,} threaded, {total.duplicates:,} duplicates)"
    )
    engine.dispose()
    if tmpdir is not None:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return result


def _drain_bench(
    engine: Engine,
    database_url: str,
    lines: list[str],
    batch_size: int,
    workers: int,
    console: Console,
) -> dict[str, Any]:
    j = t.journal.c
    now = datetime.now(UTC)
    for offset in range(0, len(lines), batch_size):
        with engine.begin() as conn:
            journal.append(conn, "x", "bench-webhook", lines[offset : offset + batch_size], now)

    def count(*where: Any) -> int:
        with engine.connect() as conn:
            query = select(func.count()).select_from(t.journal).where(*where)
            return int(conn.execute(query).scalar_one())

    pending = j.status == journal.PENDING
    total = count(pending)
    console.print(
        f"{total:,} entries journaled; {workers} drain process(es) on {engine.dialect.name} …",
        style="dim",
    )
    env = {
        **os.environ,
        "SEVA_DATABASE_URL": database_url,
        "SEVA_DRAIN_BATCH_SIZE": str(batch_size),
        "SEVA_DRAIN_INTERVAL_SECONDS": "0.1",
        "SEVA_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "sevadesk", "worker", "drain"]
    procs = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL) for _ in range(workers)]
    try:
        # On SQLite nothing records a claim: the start is when the first batch commits.
        started_when = (
            j.claimed_by.is_not(None) if engine.dialect.name == "postgresql" else ~pending
        )
        while count(started_when, j.source == "bench-webhook") == 0:
            time.sleep(0.02)
        started = time.perf_counter()
        while count(pending) > 0:
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
    with engine.connect() as conn:
        by_worker = dict(
            conn.execute(
                select(j.claimed_by, func.count())
                .where(j.source == "bench-webhook")
                .group_by(j.claimed_by)
            ).all()
        )
    result = {
        "benchmark": "ingest-drain",
        "database": engine.dialect.name,
        "posts": total,
        "batch_size": batch_size,
        "triage": "model",
        "drain_workers": workers,
        "seconds": round(elapsed, 3),
        "posts_per_second": round(total / elapsed),
        "entries_by_worker": sorted(by_worker.values(), reverse=True),
        "cpu_count": os.cpu_count(),
    }
    console.print(
        f"[bold]{result['posts_per_second']:,} posts/s[/] drained by {workers} process(es) "
        f"({total:,} entries in {elapsed:.2f}s; per process {result['entries_by_worker']})"
    )
    return result
