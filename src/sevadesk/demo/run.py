"""`seva demo`: a demo organisation, a running server and a steady stream of citizens' posts."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import structlog
from rich.console import Console
from sqlalchemy.engine import make_url

from sevadesk.channels.x.client import XClient
from sevadesk.channels.x.stream import XSearchPoller
from sevadesk.config import get_settings
from sevadesk.demo.traffic import TrafficGenerator
from sevadesk.domain.clock import SystemClock
from sevadesk.fakes.graph_api import FakeGraph, create_fake_graph
from sevadesk.fakes.serve import BackgroundServer
from sevadesk.fakes.x_api import FakeX, create_fake_x
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


DEMO_X_BEARER, DEMO_X_USER = "demo-app-bearer", "demo-user-token"
DEMO_GRAPH_TOKEN, DEMO_APP_SECRET, DEMO_VERIFY = (
    "demo-graph-token",
    "demo-app-secret",
    "demo-verify",
)


def _wait_until_up(health_url: str, stop: threading.Event, seconds: float = 60) -> None:
    """Until the desk answers: WhatsApp deliveries go to its webhook."""
    deadline = time.monotonic() + seconds
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            if httpx.get(health_url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        stop.wait(0.2)


def _feed(
    fake_x: FakeX, graph: FakeGraph, rate: float, stop: threading.Event, health_url: str
) -> None:
    """Citizens post at about `rate` per second, once the desk is up: on the fake X (which
    the desk reads through its real filtered-stream client) and, one post in ten, on WhatsApp
    (delivered to the desk's webhook, signed, by the fake Graph API)."""
    _wait_until_up(health_url, stop)
    generator = TrafficGenerator(
        seed=int(time.time()),
        start=datetime.now(UTC),
        spacing=timedelta(seconds=1 / rate),
        users=50_000,
    )
    stream = generator.events()
    posted: dict[str, str] = {}  # generator's tweet id → the fake's
    tick, carry, n = 1.0, 0.0, 0
    while not stop.is_set():
        carry += rate * tick
        count, carry = int(carry), carry - int(carry)
        for _ in range(count):
            event = next(stream)
            data, user = event["data"], event["includes"]["users"][0]
            refs = {r["type"]: r["id"] for r in data.get("referenced_tweets", [])}
            if "retweeted" in refs:
                continue  # the desk's stream rules leave retweets out
            n += 1
            try:
                if n % 10 == 0:
                    number = "9198" + str(abs(hash(user["id"])) % 10**8).zfill(8)
                    _whatsapp_conversation(graph, number, user["name"], data["text"])
                else:
                    posted[data["id"]] = fake_x.citizen_post(
                        data["text"],
                        user["username"],
                        user_id=user["id"],
                        in_reply_to=posted.get(refs.get("replied_to", "")),
                    )
            except httpx.ConnectError:  # the desk is stopping (Ctrl-C): no traceback
                log.warning("demo_desk_unreachable")
            except Exception:  # the demo keeps going; the error is in the log
                log.exception("demo_post_failed")
        stop.wait(tick)


def _whatsapp_conversation(graph: FakeGraph, number: str, name: str, text: str) -> None:
    """A citizen lodging a complaint with the bot, tap by tap (the bot answers each at once)."""
    agency = (
        "UPP" if any(w in text.lower() for w in ("police", "uppolice", "112", "fir")) else "RLY"
    )

    def tap(choice: str) -> dict[str, object]:
        return {
            "type": "interactive",
            "interactive": {"type": "list_reply", "list_reply": {"id": choice, "title": choice}},
        }

    steps: list[dict[str, object] | str] = [
        "hello",
        tap("lodge"),
        tap(agency),
        tap("theft" if agency == "UPP" else "cleanliness"),
        text,
        tap("skip"),
        tap("submit"),
    ]
    for step in steps:
        body = (
            graph.message_body(number, step, name=name)
            if isinstance(step, str)
            else graph.message_body(number, name=name, message=dict(step))
        )
        graph.deliver(body)


def run_demo(database_url: str, *, port: int, rate: float, fresh: bool, console: Console) -> None:
    import uvicorn

    from sevadesk.web.app import create_app

    if fresh:
        _remove_sqlite_file(database_url)
    fake_x = FakeX(agency_username="RailMinIndia")
    x_server = BackgroundServer(create_fake_x(fake_x, DEMO_X_BEARER, DEMO_X_USER)).start()
    graph = FakeGraph(DEMO_GRAPH_TOKEN, DEMO_APP_SECRET)
    graph_server = BackgroundServer(create_fake_graph(graph)).start()
    graph.webhook_url = f"http://127.0.0.1:{port}/webhooks/whatsapp"
    # The real clients, pointed at the local fakes by their base URLs.
    settings = get_settings().model_copy(
        update={
            "database_url": database_url,
            "port": port,
            "public_url": f"http://127.0.0.1:{port}",
            "x_api_base_url": x_server.url,
            "x_bearer_token": DEMO_X_BEARER,
            "x_user_token": DEMO_X_USER,
            "x_ingest": "stream",
            "whatsapp_base_url": graph_server.url,
            "whatsapp_token": DEMO_GRAPH_TOKEN,
            "whatsapp_phone_number_id": graph.phone_number_id,
            "whatsapp_app_secrets": DEMO_APP_SECRET,
            "whatsapp_verify_token": DEMO_VERIFY,
            "whatsapp_bot": True,
        }
    )
    engine = open_database(database_url)
    with engine.begin() as conn:
        summary = apply_org(conn, load_org_file(ORG_FILE))
        token = issue_token(conn, "admin", "demo")
    # A first burst, posted in the last half hour and read with recent search (as the desk
    # catches up when it starts), so the page is not empty when the browser opens.
    burst = TrafficGenerator(seed=1, start=datetime.now(UTC) - timedelta(minutes=30)).events()
    for _ in range(60):
        data = next(burst)["data"]
        if not any(r["type"] == "retweeted" for r in data.get("referenced_tweets", [])):
            fake_x.citizen_post(
                data["text"],
                f"u{data['author_id']}",
                user_id=data["author_id"],
                created_at=datetime.fromisoformat(data["created_at"].replace("Z", "+00:00")),
            )
    client = XClient.from_settings(settings)
    XSearchPoller(client, engine, settings, SystemClock()).poll_once()
    client.close()
    Pipeline(engine, None, settings).drain()

    url = f"http://127.0.0.1:{port}/"
    console.print(
        f"[bold]sevadesk demo[/] · {summary.units} offices loaded · replaying ~{rate:g} posts/s"
    )
    console.print(
        f"  live wallboard (staff, signed in): [link]{url}[/]   officers' desk: {url}desk   public record: {url}public"
    )
    console.print(f"  API docs: {url}api/docs   complaint form: {url}complaint")
    console.print(
        f"  logins (password [bold]{DEMO_PASSWORD}[/]): admin, rly.supervisor, drm.lko, upp.control, "
        "lucknow.police, kanpur.police, passport.desk"
    )
    console.print(f"  API token for admin: {token}")
    console.print(f"  try: curl -H 'Authorization: Bearer {token}' '{url}api/v1/tickets?limit=5'")
    console.print(
        f"  fake X API: {x_server.url} (the desk's replies: {x_server.url}/_fake/replies) · "
        f"fake WhatsApp Graph API: {graph_server.url}"
    )
    console.print("  Ctrl-C stops.")

    stop = threading.Event()
    feeder = threading.Thread(
        target=_feed,
        args=(fake_x, graph, rate, stop, f"{url}healthz"),
        name="demo-feed",
        daemon=True,
    )
    feeder.start()
    try:
        uvicorn.run(create_app(settings, engine), host="127.0.0.1", port=port, log_level="warning")
    finally:
        stop.set()
        feeder.join(timeout=5)
        x_server.stop()
        graph_server.stop()
