"""Bot turn latency: a signed webhook in → the bot's replies queued in the outbox, measured
per request through the real ASGI app, with many sessions already stored."""

from __future__ import annotations

import os
import random
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console

from sevadesk.channels.signatures import meta_signature
from sevadesk.config import Settings
from sevadesk.demo.run import ORG_FILE
from sevadesk.routing.orgfile import load_org_file
from sevadesk.store import tables as t
from sevadesk.store.db import open_database
from sevadesk.store.fast import bulk_insert
from sevadesk.store.org_repo import apply_org

SECRET = "bench-secret"
# Where the stored sessions are; lodging (confirm → a ticket through the pipeline) included.
STEPS = [
    "menu",
    "track",
    "help_where",
    "faq",
    "lodge_category",
    "lodge_description",
    "lodge_where",
    "lodge_confirm",
]


def _delivery(wa_id: str, n: int, message: dict[str, Any]) -> bytes:
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "911100000000",
                                "phone_number_id": "1",
                            },
                            "contacts": [{"profile": {"name": "Bench"}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": f"wamid.bench{n}",
                                    "timestamp": str(int(time.time())),
                                    **message,
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return orjson.dumps(body)


def _turn(rng: random.Random, step: str) -> dict[str, Any]:
    """What a citizen plausibly sends at that step."""

    def tap(cid: str) -> dict[str, Any]:
        return {
            "type": "interactive",
            "interactive": {"type": "list_reply", "list_reply": {"id": cid, "title": cid}},
        }

    def text(body: str) -> dict[str, Any]:
        return {"type": "text", "text": {"body": body}}

    if step == "menu":
        return tap(rng.choice(["track", "help", "faq", "lodge"]))
    if step == "track":
        return text(f"RLY-{rng.randint(1, 500):06d}")
    if step == "help_where":
        return text(rng.choice(["226001", "302001", "110001", "208001"]))
    if step == "faq":
        return text("menu")
    if step == "lodge_category":
        return tap(rng.choice(["water", "cleanliness", "theft"]))
    if step == "lodge_where":
        return text(rng.choice(["226001", "PIN 302001", "skip"]))
    if step == "lodge_confirm":
        return tap("submit")
    return text("Coach B4 of 12951 has no water since Kota, PNR 4512345678")


def run_bot_bench(
    *, sessions: int, turns: int, database: str | None, console: Console
) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from sevadesk.web.app import create_app

    folder = tempfile.mkdtemp(prefix="seva-bench-bot-")
    url = database or f"sqlite:///{Path(folder) / 'bench.db'}"
    engine = open_database(url)
    with engine.begin() as conn:
        apply_org(conn, load_org_file(ORG_FILE))
    now = datetime.now(UTC)
    rng = random.Random(5)
    console.print(f"storing {sessions:,} sessions …", style="dim")
    numbers = [f"9190{i:08d}" for i in range(sessions)]
    rows = [
        {
            "wa_id": n,
            "step": rng.choice(STEPS),
            "lang": rng.choice(["en", "hi", "en", "mr", "ta"]),
            "data": {
                "agency": {"pick": "RLY"},
                "category": {"pick": "water"},
                "description": {
                    "text": "Coach B4 of 12951 has no water, PNR 4512345678",
                    "media": [],
                },
            },
            "misses": 0,
            "handoff_ref": None,
            "version": 1,
            "created_at": now - timedelta(minutes=5),
            "updated_at": now - timedelta(minutes=rng.randint(0, 20)),
            "last_inbound_at": now - timedelta(minutes=5),
        }
        for n in numbers
    ]
    with engine.begin() as conn:
        for i in range(0, len(rows), 2000):
            bulk_insert(conn, t.bot_sessions, rows[i : i + 2000])
    settings = Settings(
        database_url=url,
        whatsapp_bot=True,
        whatsapp_app_secrets=SECRET,
        drain_interval_seconds=0,
        outbox_interval_seconds=0,
        sla_interval_seconds=0,
    )
    latencies: list[float] = []
    steps = {n: r["step"] for n, r in zip(numbers, rows, strict=True)}
    console.print(f"{turns:,} turns through the webhook …", style="dim")
    with TestClient(create_app(settings, engine)) as client:
        for n in range(turns):
            wa_id = rng.choice(numbers)
            body = _delivery(wa_id, n, _turn(rng, steps[wa_id]))
            headers = {
                "content-type": "application/json",
                "x-hub-signature-256": meta_signature(SECRET, body),
            }
            started = time.perf_counter()
            answer = client.post("/webhooks/whatsapp", content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text
            with engine.connect() as conn:
                steps[wa_id] = conn.execute(
                    t.bot_sessions.select()
                    .with_only_columns(t.bot_sessions.c.step)
                    .where(t.bot_sessions.c.wa_id == wa_id)
                ).scalar_one()
    with engine.connect() as conn:
        queued = conn.execute(t.outbox.select().with_only_columns(t.outbox.c.id)).all()
        tickets = len(conn.execute(t.tickets.select().with_only_columns(t.tickets.c.id)).all())
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2)

    result = {
        "benchmark": "bot",
        "database": engine.dialect.name,
        "sessions": sessions,
        "turns": turns,
        "replies_queued": len(queued),
        "tickets_filed": tickets,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1] * 1000, 2),
        "cpu_count": os.cpu_count(),
    }
    console.print(
        f"[bold]p95 {result['p95_ms']} ms[/] (p50 {result['p50_ms']}, p99 {result['p99_ms']}) "
        f"webhook → replies queued, {sessions:,} sessions stored, {turns:,} turns, "
        f"{tickets:,} tickets filed"
    )
    return result
