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
    *, tickets: int, requests: int, database: str | None, console: Console
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
