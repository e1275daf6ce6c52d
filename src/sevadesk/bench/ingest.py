"""End-to-end ingest throughput: X v2 payloads → journal → tickets, on the configured database."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from sevadesk.config import get_settings
from sevadesk.demo.run import ORG_FILE
from sevadesk.demo.traffic import TrafficGenerator
from sevadesk.pipeline.batch import BatchSummary
from sevadesk.pipeline.runner import Pipeline
from sevadesk.routing.orgfile import load_org_file
from sevadesk.runtime import settle_heap
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
) -> dict[str, Any]:
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
