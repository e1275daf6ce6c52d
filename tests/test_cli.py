"""The `seva` command as a user runs it: real processes, real files, a real database."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_ORG
from tests.factories import line, tweet


def seva(
    *args: str, db: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SEVA_DATABASE_URL": db}
    result = subprocess.run(
        [sys.executable, "-m", "sevadesk", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"seva {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_ingest_reports_broken_lines_by_number_and_is_idempotent(tmp_path: Path, db: str) -> None:
    seva("org", "load", str(TEST_ORG), db=db)
    feed = tmp_path / "posts.jsonl"
    feed.write_text(
        "\n".join(
            [
                line(
                    tweet(
                        "@RailMinIndia toilet choked in S7 of 12004 PNR 4512345678", author_id="1"
                    )
                ),
                "not json at all",
                "",
                line(tweet("@Uppolice chain snatching in Lucknow, PIN 226001", author_id="2")),
                '{"data": {"id": "77", "text": "hi", "created_at": "2026-01-01T00:00:00Z"}}',
            ]
        )
        + "\n"
    )

    first = seva("ingest", "--json", str(feed), db=db)
    summary = json.loads(first.stdout)
    assert {
        k: summary[k]
        for k in ("read", "new", "tickets_opened", "threaded", "duplicates", "rejected")
    } == {
        "read": 4,
        "new": 2,
        "tickets_opened": 2,
        "threaded": 0,
        "duplicates": 0,
        "rejected": 2,
    }
    assert f"{feed}:2: skipped: not JSON" in first.stderr
    assert f"{feed}:5: skipped: data.author_id" in first.stderr

    again = json.loads(seva("ingest", "--json", str(feed), db=db).stdout)
    assert (again["new"], again["tickets_opened"], again["duplicates"], again["rejected"]) == (
        0,
        0,
        2,
        2,
    )


def test_ingest_without_an_organisation_says_what_to_do(tmp_path: Path, db: str) -> None:
    feed = tmp_path / "one.jsonl"
    feed.write_text(line(tweet("@RailMinIndia fan broken")) + "\n")
    result = seva("ingest", str(feed), db=db, check=False)
    assert result.returncode == 2
    assert "seva org load" in result.stderr


def test_org_load_names_the_key_path_of_each_problem(tmp_path: Path, db: str) -> None:
    bad = tmp_path / "org.yaml"
    bad.write_text(
        "units:\n  - code: A\n    name: A\n    kind: ministry\n    handles: ['bad handle']\n"
    )
    result = seva("org", "load", str(bad), db=db, check=False)
    assert result.returncode == 2
    assert "units[0].handles" in result.stderr
    assert "not an X handle: 'bad handle'" in result.stderr


def test_db_upgrade_is_explicit_and_repeatable(db: str) -> None:
    assert "migrated" in seva("db", "upgrade", db=db).stdout
    assert "already up to date" in seva("db", "upgrade", db=db).stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_demo_shows_tickets_arriving_within_30_seconds(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sevadesk",
            "demo",
            "--port",
            str(port),
            "--rate",
            "5",
            "--database",
            f"sqlite:///{tmp_path / 'demo.db'}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        # Starting (the first burst read and triaged) may take a while on a busy machine;
        # once the page serves tickets, new ones must arrive within 30 seconds.
        deadline = time.monotonic() + 120
        first: set[str] = set()
        grew = False
        # The live page is the staff's: the check signs in as the demo's admin.
        staff: dict[str, str] = {}
        while time.monotonic() < deadline and not grew:
            time.sleep(1)
            try:
                if not staff:
                    token = httpx.post(
                        f"http://127.0.0.1:{port}/api/v1/auth/token",
                        json={"username": "admin", "password": "seva-demo-2026"},
                        timeout=5,
                    ).json()["token"]
                    staff = {"Authorization": f"Bearer {token}"}
                refs = {
                    t["ref"]
                    for t in httpx.get(
                        f"http://127.0.0.1:{port}/live/tickets.json", headers=staff, timeout=2
                    ).json()
                }
            except (httpx.HTTPError, KeyError, ValueError):
                continue
            if not first:
                first = refs
                deadline = time.monotonic() + 30
            elif refs - first:
                grew = True
        assert first, "the demo served no tickets"
        assert grew, "no new ticket arrived while watching"
        page = httpx.get(f"http://127.0.0.1:{port}/", headers=staff, timeout=2).text
        assert "live tickets" in page
        visitor = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
        assert visitor.status_code == 303 and visitor.headers["location"] == "/desk/login"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    assert "seva-demo-2026" in out and f"http://127.0.0.1:{port}/" in out
    # The banner's curl line is one line, whatever the terminal's width: it copies and runs.
    assert re.search(
        rf"curl -H 'Authorization: Bearer seva_\S+' 'http://127.0.0.1:{port}/api/v1/tickets\?limit=5'",
        out,
    ), out
    # Starting and stopping are quiet: citizens post only once the desk answers, and a post
    # the stopping desk refuses is a warning, not a traceback.
    assert "Traceback" not in out
