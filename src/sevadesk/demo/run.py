"""`seva demo`: a demo organisation, a running server and a steady stream of citizens' posts."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import structlog
from rich.console import Console
from sqlalchemy.engine import make_url

from sevadesk.config import get_settings
from sevadesk.demo.traffic import TrafficGenerator
from sevadesk.pipeline.runner import Pipeline
from sevadesk.routing.orgfile import load_org_file
from sevadesk.store.db import open_database
from sevadesk.store.org_repo import apply_org
from sevadesk.store.users_repo import issue_token

ORG_FILE = Path(__file__).with_name("org.yaml")
DEMO_PASSWORD = "seva-demo-2026"
log = structlog.get_logger(__name__)


def _remove_sqlite_file(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.database + suffix).unlink(missing_ok=True)


def _feed(pipeline: Pipeline, rate: float, stop: threading.Event) -> None:
    """Replays posts at about `rate` per second, in one small batch per tick."""
    generator = TrafficGenerator(
        seed=int(time.time()),
        start=datetime.now(UTC),
        spacing=timedelta(seconds=1 / rate),
        users=50_000,
    )
    stream = generator.events()

    tick = 1.0
    carry = 0.0
    while not stop.is_set():
        carry += rate * tick
        count, carry = int(carry), carry - int(carry)
        if count:
            lines = [orjson.dumps(next(stream)).decode() for _ in range(count)]
            try:
                pipeline.ingest("x", "demo-replay", lines)
            except Exception:  # the demo keeps going; the error is in the log
                log.exception("demo_ingest_failed")
        stop.wait(tick)


def run_demo(database_url: str, *, port: int, rate: float, fresh: bool, console: Console) -> None:
    import uvicorn

    from sevadesk.web.app import create_app

    if fresh:
        _remove_sqlite_file(database_url)
    settings = get_settings().model_copy(update={"database_url": database_url, "port": port})
    engine = open_database(database_url)
    with engine.begin() as conn:
        summary = apply_org(conn, load_org_file(ORG_FILE))
        token = issue_token(conn, "admin", "demo")
    pipeline = Pipeline(engine, None, settings)
    # A first burst so the page is not empty when the browser opens.
    pipeline.ingest(
        "x",
        "demo-replay",
        TrafficGenerator(seed=1, start=datetime.now(UTC) - timedelta(minutes=30)).lines(60),
    )

    url = f"http://127.0.0.1:{port}/"
    console.print(
        f"[bold]sevadesk demo[/] · {summary.units} offices loaded · replaying ~{rate:g} posts/s"
    )
    console.print(f"  live tickets: [link]{url}[/]   API docs: {url}api/docs")
    console.print(
        f"  logins (password [bold]{DEMO_PASSWORD}[/]): admin, rly.supervisor, drm.lko, upp.control, "
        "lucknow.police, kanpur.police, passport.desk"
    )
    console.print(f"  API token for admin: {token}")
    console.print(f"  try: curl -H 'Authorization: Bearer {token}' '{url}api/v1/tickets?limit=5'")
    console.print("  Ctrl-C stops.")

    stop = threading.Event()
    feeder = threading.Thread(
        target=_feed, args=(pipeline, rate, stop), name="demo-feed", daemon=True
    )
    feeder.start()
    try:
        uvicorn.run(create_app(settings, engine), host="127.0.0.1", port=port, log_level="warning")
    finally:
        stop.set()
        feeder.join(timeout=5)
