"""Web latency with a large desk: seed N tickets (and their rollups) into a fresh SQLite file,
sign in as officers of different scopes, and time the inbox, a ticket and the reports page
through the ASGI app."""

from __future__ import annotations

import os
import random
import re
import tempfile
import time
import warnings
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import select

from sevadesk.demo.run import DEMO_PASSWORD, ORG_FILE
from sevadesk.routing.orgfile import load_org_file
from sevadesk.store import rollups
from sevadesk.store import tables as t
from sevadesk.store.db import make_engine, open_database
from sevadesk.store.fast import bulk_insert
from sevadesk.store.org_repo import apply_org

CATEGORIES = [
    "water",
    "cleanliness",
    "theft",
    "delay",
    "electrical",
    "catering",
    "harassment",
    "traffic",
    "cyber_fraud",
    "appointment",
]
STATUSES = (
    ["new"] * 2 + ["in_progress"] * 2 + ["resolved"] * 3 + ["closed"] * 12 + ["awaiting_citizen"]
)
TEXTS = [
    "coach {c} of {train} has no water since morning",
    "toilet not cleaned in {c} of {train}",
    "my phone was snatched near the market, please help",
    "train {train} running late, no announcement",
    "AC not working in {c} of {train}",
]


def seed(url: str, tickets: int, console: Console) -> dict[str, Any]:
    engine = open_database(url)
    with engine.begin() as conn:
        apply_org(conn, load_org_file(ORG_FILE))
        units = conn.execute(
            select(t.units.c.id, t.units.c.code, t.units.c.ticket_prefix, t.units.c.path)
        ).all()
    leaves = [
        u for u in units if not any(o.path != u.path and o.path.startswith(u.path) for o in units)
    ]
    rng = random.Random(3)
    now = datetime.now(UTC).replace(microsecond=0)
    counters: dict[str, int] = defaultdict(int)
    sums: dict[rollups.Key, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    started = time.perf_counter()
    chunk = 20_000
    for offset in range(0, tickets, chunk):
        rows = []
        for _ in range(min(chunk, tickets - offset)):
            unit = rng.choice(leaves)
            counters[unit.ticket_prefix] += 1
            opened = now - timedelta(minutes=rng.randint(0, 90 * 24 * 60))
            status = rng.choice(STATUSES)
            category = rng.choice(CATEGORIES)
            answered = opened + timedelta(minutes=rng.randint(5, 600)) if status != "new" else None
            resolved = (
                opened + timedelta(hours=rng.randint(1, 120))
                if status in ("resolved", "closed")
                else None
            )
            text = rng.choice(TEXTS).format(
                c=f"B{rng.randint(1, 9)}", train=rng.randint(12001, 22999)
            )
            rows.append(
                {
                    "ref": f"{unit.ticket_prefix}-{counters[unit.ticket_prefix]:07d}",
                    "unit_id": unit.id,
                    "channel": rng.choice(["x", "x", "whatsapp"]),
                    "status": status,
                    "priority": "p3",
                    "kind": "grievance",
                    "category": category,
                    "urgency": "sos" if rng.random() < 0.02 else "normal",
                    "language": rng.choice(["en", "hi", "hi-Latn"]),
                    "summary": text,
                    "route_reason": "jurisdiction",
                    "route_detail": unit.code,
                    "labels": [],
                    "message_count": 1,
                    "opened_at": opened,
                    "updated_at": resolved or answered or opened,
                    "last_citizen_at": opened,
                    "first_response_at": answered,
                    "resolved_at": resolved,
                    "first_response_due": opened + timedelta(hours=2),
                    "resolution_due": opened + timedelta(days=3),
                }
            )
            key = rollups.Key.of(unit.id, category, opened)
            sums[key]["received"] += 1
            sums[key]["actionable"] += 1
            sums[key]["opened"] += 1
            if answered:
                fk = rollups.Key.of(unit.id, category, answered)
                sums[fk]["first_responses"] += 1
                sums[fk]["first_response_in_sla"] += int(answered <= opened + timedelta(hours=2))
                sums[fk][f"fr_{rollups.bucket((answered - opened).total_seconds())}"] += 1
            if resolved:
                rk = rollups.Key.of(unit.id, category, resolved)
                sums[rk]["resolved"] += 1
                sums[rk]["resolved_in_sla"] += int(resolved <= opened + timedelta(days=3))
                sums[rk][f"rs_{rollups.bucket((resolved - opened).total_seconds())}"] += 1
        with engine.begin() as conn:
            bulk_insert(conn, t.tickets, rows)
        console.print(f"  {offset + len(rows):,} tickets", style="dim")
    with engine.begin() as conn:
        rollups.bump(conn, [(k, dict(v)) for k, v in sums.items()])
        for prefix, value in counters.items():
            conn.execute(t.ticket_sequences.delete().where(t.ticket_sequences.c.prefix == prefix))
            conn.execute(t.ticket_sequences.insert().values(prefix=prefix, last_value=value))
    # ANALYZE writes sqlite_stat1, a schema change the application's guarded engine refuses
    # (store/roles.py): the owner's engine runs it, as an operator would after a bulk load.
    owner = make_engine(url)
    with owner.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    owner.dispose()
    return {"seconds": round(time.perf_counter() - started, 1), "rollup_rows": len(sums)}


def run_web_bench(
    *,
    tickets: int,
    requests: int,
    database: str | None,
    console: Console,
    streams: int = 200,
    stream_seconds: float = 10.0,
) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from sevadesk.config import Settings
    from sevadesk.web.app import create_app

    url = database or f"sqlite:///{Path(tempfile.mkdtemp(prefix='seva-bench-web-')) / 'web.db'}"
    console.print(f"seeding {tickets:,} tickets …", style="dim")
    seeded = seed(url, tickets, console)
    engine = open_database(url)
    settings = Settings(
        database_url=url,
        drain_interval_seconds=0,
        outbox_interval_seconds=0,
        sla_interval_seconds=0,
    )
    rng = random.Random(9)
    with engine.connect() as conn:
        refs = {
            code: conn.execute(
                select(t.tickets.c.ref)
                .join(t.units, t.units.c.id == t.tickets.c.unit_id)
                .where(t.units.c.path.startswith(path))
                .order_by(t.tickets.c.id.desc())
                .limit(500)
            )
            .scalars()
            .all()
            for code, path in conn.execute(
                select(t.units.c.code, t.units.c.path).where(
                    t.units.c.code.in_(["SEVA", "UPP-LUCKNOW"])
                )
            )
        }
    timings: dict[str, list[float]] = defaultdict(list)
    # CPU time of the process (the app's thread and the client's) per request: on a machine
    # shared with other jobs the wall time also measures them, the CPU time mostly not.
    cpu: dict[str, list[float]] = defaultdict(list)
    with TestClient(create_app(settings, engine)) as client:
        for username, home in (("admin", "SEVA"), ("lucknow.police", "UPP-LUCKNOW")):
            client.cookies.clear()
            form = client.get("/desk/login").text  # the sign-in form's own CSRF token
            csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            client.post(
                "/desk/login",
                data={"username": username, "password": DEMO_PASSWORD, "csrf": csrf},
            )
            pages = {
                "inbox": lambda: "/desk",
                "inbox unassigned": lambda: "/desk?queue=unassigned",
                "inbox breaching soon": lambda: "/desk?queue=breaching",
                "inbox filtered": lambda: (
                    f"/desk?status=in_progress&category={rng.choice(CATEGORIES)}"
                ),
                "ticket": lambda home=home: f"/desk/t/{rng.choice(refs[home])}",
                "reports (30 days)": lambda: "/desk/reports",
            }
            for name, path in pages.items():
                for _ in range(requests):
                    target = path()
                    started, cpu_started = time.perf_counter(), time.process_time()
                    answer = client.get(target)
                    timings[f"{name} · {username}"].append(time.perf_counter() - started)
                    cpu[f"{name} · {username}"].append(time.process_time() - cpu_started)
                    assert answer.status_code == 200, (target, answer.status_code)
                    assert not re.search(r"No ticket .* in your scope", answer.text)
    result: dict[str, Any] = {
        "benchmark": "web",
        "tickets": tickets,
        "requests_per_page": requests,
        "seed_seconds": seeded["seconds"],
        "cpu_count": os.cpu_count(),
        "pages": {},
    }
    if streams:
        result["live_stream"] = measure_streams(url, engine, streams, stream_seconds, console)

    def p(values: list[float], q: float) -> float:
        return round(sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000, 1)

    for name, values in timings.items():
        result["pages"][name] = {
            "p50_ms": p(values, 0.5),
            "p95_ms": p(values, 0.95),
            "cpu_p50_ms": p(cpu[name], 0.5),
            "cpu_p95_ms": p(cpu[name], 0.95),
        }
        console.print(
            f"  {name:40s} p50 {p(values, 0.5):7.1f} ms   p95 {p(values, 0.95):7.1f} ms"
            f"   (CPU p50 {p(cpu[name], 0.5):6.1f}, p95 {p(cpu[name], 0.95):6.1f})"
        )
    return result


def measure_streams(
    url: str, engine: Any, streams: int, seconds: float, console: Console
) -> dict[str, Any]:
    """Open `streams` live inboxes (/desk/events over real HTTP, half as the admin, half as
    Lucknow's police) and count the database statements the server runs: idle, then with one
    ticket changing every second (a note, alternately in and outside Lucknow), the changed
    rows pushed to every tab whose scope holds the ticket. Statements are counted with a SQLAlchemy event
    on the server's engine; the writes come through a second engine and are not counted."""
    import asyncio
    import threading

    import httpx
    from sqlalchemy import event

    from sevadesk.config import Settings
    from sevadesk.fakes.serve import BackgroundServer
    from sevadesk.store.users_repo import actor_by_username
    from sevadesk.tickets import actions
    from sevadesk.web.app import create_app

    statements: list[int] = [0]
    lock = threading.Lock()

    def count(*_args: Any) -> None:
        with lock:
            statements[0] += 1

    writer = open_database(url)
    with writer.connect() as conn:
        police = actor_by_username(conn, "lucknow.police")
        assert police is not None
        lucknow = t.units.c.path.startswith(police.scope_path, autoescape=True)
        targets = [
            conn.execute(
                select(t.tickets.c.ref)
                .join(t.units, t.units.c.id == t.tickets.c.unit_id)
                .where(where, t.tickets.c.status.in_(["new", "in_progress"]))
                .order_by(t.tickets.c.id.desc())
                .limit(1)
            ).scalar_one()
            for where in (lucknow, ~lucknow)
        ]
        admin = actor_by_username(conn, "admin")
    assert admin is not None
    settings = Settings(
        database_url=url,
        drain_interval_seconds=0,
        outbox_interval_seconds=0,
        sla_interval_seconds=0,
    )

    def sign_in(base: str, username: str) -> tuple[httpx.Cookies, str]:
        with httpx.Client(base_url=base) as client:
            form = client.get("/desk/login").text
            csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            client.post(
                "/desk/login",
                data={"username": username, "password": DEMO_PASSWORD, "csrf": csrf},
            )
            page = client.get("/desk").text
            mark = page.split('data-mark="', 1)[1].split('"', 1)[0]
            return client.cookies, mark

    async def run(base: str) -> dict[str, Any]:
        sessions = [sign_in(base, name) for name in ("admin", "lucknow.police")]
        connected, deltas = [0], [0]
        limits = httpx.Limits(max_connections=streams * 2 + 10)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=None) as client:

            async def tab(i: int) -> None:
                cookies, mark = sessions[i % 2]
                path = f"/desk/events?since={mark}"
                async with client.stream("GET", path, cookies=cookies) as answer:
                    async for line in answer.aiter_lines():
                        if line.startswith("retry:"):
                            connected[0] += 1
                        elif line.startswith("event: rows"):
                            deltas[0] += 1

            tasks = [asyncio.create_task(tab(i)) for i in range(streams)]
            while connected[0] < streams:
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.5)  # the watcher's first tick
            event.listen(engine, "before_cursor_execute", count)
            statements[0] = 0
            await asyncio.sleep(seconds)
            idle = statements[0]
            statements[0], deltas[0] = 0, 0
            for second in range(int(seconds)):
                await asyncio.to_thread(_note, writer, admin, targets[second % 2], actions)
                await asyncio.sleep(1.0)
            await asyncio.sleep(1.5)  # the last change's deltas
            active, fetched = statements[0], deltas[0]
            event.remove(engine, "before_cursor_execute", count)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return {
            "streams": streams,
            "seconds": seconds,
            "idle_statements_per_second": round(idle / seconds, 2),
            "idle_statements_per_tab_per_second": round(idle / seconds / streams, 4),
            "active_statements_per_second": round(active / (seconds + 1.5), 2),
            "active_changes": int(seconds),
            "active_row_events_received": fetched,
            "active_statements_per_tab_per_second": round(active / (seconds + 1.5) / streams, 4),
            "before_this_change_idle_statements_per_second": streams,  # 1 per tab per second
        }

    with BackgroundServer(create_app(settings, engine)) as server:
        result = asyncio.run(run(server.url))
    console.print(
        f"  live stream, {streams} tabs: idle {result['idle_statements_per_second']} "
        f"statements/s ({result['idle_statements_per_tab_per_second']} per tab); one change a "
        f"second: {result['active_statements_per_second']} statements/s, "
        f"{result['active_row_events_received']} row events pushed to tabs"
    )
    return result


def _note(engine: Any, actor: Any, ref: str, actions: Any) -> None:
    with engine.begin() as conn:
        actions.add_note(conn, actor, ref, "bench: a change in scope", datetime.now(UTC))
