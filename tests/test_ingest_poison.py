"""`seva ingest` on a file with bad lines between good posts: each bad line is reported with
its number and skipped, the command goes on and exits 0, and a rerun adds nothing and fails
nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, func, select

from sevadesk.store import tables as t
from tests.conftest import TEST_ORG
from tests.factories import line, tweet


def seva(*args: str, db: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sevadesk", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "SEVA_DATABASE_URL": db, "SEVA_LOG_LEVEL": "WARNING"},
        timeout=120,
    )


def _bad_time(value: str) -> str:
    event = tweet("@RailMinIndia coach B9 of 12951 has no water", author_id="6999")
    event["data"]["created_at"] = value
    return line(event)


def test_bad_lines_are_reported_by_number_and_skipped_and_the_rest_is_ingested(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    assert seva("org", "load", str(TEST_ORG), db=database_url).returncode == 0
    good = [
        line(
            tweet(f"@RailMinIndia coach B{i % 9 + 1} of {12000 + i} has no water", author_id=str(i))
        )
        for i in range(1, 41)
    ]
    bad = {
        5: line(tweet("@RailMinIndia no water\x00 in S1", author_id="900")),  # escaped NUL
        9: line(tweet("@RailMinIndia fan\x00 broken", author_id="902")).replace("\\u0000", "\x00"),
        14: '{"data": {"id": ',  # not JSON
        20: line(tweet("@RailMinIndia fan broken", id="8" * 300, author_id="901")),
        27: _bad_time("9999-12-31T23:59:59-05:00"),
        33: _bad_time("1969-07-20T20:17:00Z"),
    }
    lines, posts = [], iter(good)
    for number in range(1, len(good) + len(bad) + 1):
        lines.append(bad[number] if number in bad else next(posts))
    feed = tmp_path / "posts.jsonl"
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")

    run = seva("ingest", str(feed), "--json", "--batch-size", "16", db=database_url)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["read"] == 46 and summary["rejected"] == 6 and summary["failed"] == 0
    assert summary["tickets_opened"] + summary["threaded"] == 40
    reported = {
        int(line.split(":")[1]): line for line in run.stderr.splitlines() if "skipped" in line
    }
    assert sorted(reported) == sorted(bad)
    assert "NUL" in reported[5] and "NUL" in reported[9] and "not JSON" in reported[14]
    assert "external_id is 300 characters" in reported[20]
    assert "out of range" in reported[33] and "9999" in reported[27]
    assert "6 lines not stored" in run.stderr

    again = seva("ingest", str(feed), "--json", db=database_url)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["new"] == 0
    with engine.connect() as conn:
        tickets = conn.execute(select(func.count()).select_from(t.tickets)).scalar_one()
        pending = conn.execute(
            select(func.count()).select_from(t.journal).where(t.journal.c.status == "pending")
        ).scalar_one()
    assert tickets == summary["tickets_opened"] and pending == 0
