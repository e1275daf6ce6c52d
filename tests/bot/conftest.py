"""The bot on a real server: signed webhooks in, the fake Graph API capturing replies."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine

from sevadesk.config import Settings
from sevadesk.domain.clock import FrozenClock, SystemClock
from sevadesk.fakes.graph_api import FakeGraph, create_fake_graph
from sevadesk.fakes.serve import BackgroundServer
from sevadesk.store.users_repo import issue_token
from sevadesk.web.app import create_app
from tests.channels.conftest import wait_for

TOKEN, SECRET = "graph-token", "app-secret"
_numbers = itertools.count(919800000001)


def bot_settings(settings: Settings, graph_url: str) -> Settings:
    return Settings.model_validate(
        {
            **settings.model_dump(),
            "whatsapp_base_url": graph_url,
            "whatsapp_token": TOKEN,
            "whatsapp_phone_number_id": "1122334455667",
            "whatsapp_app_secrets": SECRET,
            "whatsapp_verify_token": "v",
            "whatsapp_bot": True,
            "drain_interval_seconds": 0.05,
            "outbox_interval_seconds": 0.05,
        }
    )


@dataclass
class Citizen:
    """A person on WhatsApp: what they send goes through the signed webhook; what the desk
    sends them is read from the fake Graph API."""

    graph: FakeGraph
    wa_id: str = field(default_factory=lambda: str(next(_numbers)))
    seen: int = 0

    def _inbox(self) -> list[dict[str, Any]]:
        return [m for m in self.graph.sent if m.get("to") == self.wa_id]

    def _send(
        self, message: dict[str, Any] | None = None, text: str | None = None
    ) -> list[dict[str, Any]]:
        before = len(self._inbox())
        body = self.graph.message_body(self.wa_id, text, name="Asha", message=message)
        answer = self.graph.deliver(body)
        assert answer.status_code == 200, answer.text
        return self._replies(before)

    def _replies(self, before: int) -> list[dict[str, Any]]:
        # The bot answers each message with one or two messages; wait for them to settle.
        wait_for(lambda: len(self._inbox()) > before, timeout=10, what=f"a reply to {self.wa_id}")
        settled = -1
        while settled != len(self._inbox()):
            settled = len(self._inbox())
            time.sleep(0.25)
        return self._inbox()[before:]

    def says(self, text: str) -> list[dict[str, Any]]:
        return self._send(text=text)

    def says_quietly(self, text: str) -> None:
        body = self.graph.message_body(self.wa_id, text, name="Asha")
        assert self.graph.deliver(body).status_code == 200

    def taps(self, choice_id: str, title: str = "") -> list[dict[str, Any]]:
        kind = "button_reply"
        return self._send(
            {
                "type": "interactive",
                "interactive": {"type": kind, kind: {"id": choice_id, "title": title}},
            }
        )

    def picks(self, row_id: str, title: str = "") -> list[dict[str, Any]]:
        return self._send(
            {
                "type": "interactive",
                "interactive": {"type": "list_reply", "list_reply": {"id": row_id, "title": title}},
            }
        )

    def shares_location(self, lat: float, lon: float) -> list[dict[str, Any]]:
        return self._send({"type": "location", "location": {"latitude": lat, "longitude": lon}})

    def sends_photo(self, caption: str) -> list[dict[str, Any]]:
        return self._send(
            {
                "type": "image",
                "image": {
                    "id": "media-77",
                    "mime_type": "image/jpeg",
                    "sha256": "x",
                    "caption": caption,
                },
            }
        )


def text_of(message: dict[str, Any]) -> str:
    if message["type"] == "text":
        return str(message["text"]["body"])
    if message["type"] == "interactive":
        return str(message["interactive"]["body"]["text"])
    return " ".join(p["text"] for c in message["template"]["components"] for p in c["parameters"])


def choices_of(message: dict[str, Any]) -> list[str]:
    if message["type"] != "interactive":
        return []
    inter = message["interactive"]
    if inter["type"] == "button":
        return [b["reply"]["id"] for b in inter["action"]["buttons"]]
    return [r["id"] for s in inter["action"]["sections"] for r in s["rows"]]


@dataclass
class BotDesk:
    url: str
    engine: Engine
    graph: FakeGraph
    api: dict[str, str]
    clock: Any

    def citizen(self) -> Citizen:
        return Citizen(self.graph)


@pytest.fixture
def graph() -> Iterator[tuple[FakeGraph, str]]:
    fake = FakeGraph(TOKEN, SECRET)
    with BackgroundServer(create_fake_graph(fake)) as server:
        yield fake, server.url


def _start(
    engine: Engine, settings: Settings, graph: tuple[FakeGraph, str], clock: Any
) -> tuple[BackgroundServer, BotDesk]:
    fake, graph_url = graph
    server = BackgroundServer(create_app(bot_settings(settings, graph_url), engine, clock)).start()
    fake.webhook_url = f"{server.url}/webhooks/whatsapp"
    with engine.begin() as conn:
        token = issue_token(conn, "admin", "test")
    return server, BotDesk(server.url, engine, fake, {"Authorization": f"Bearer {token}"}, clock)


@pytest.fixture
def desk(org_engine: Engine, settings: Settings, graph: tuple[FakeGraph, str]) -> Iterator[BotDesk]:
    server, running = _start(org_engine, settings, graph, SystemClock())
    yield running
    server.stop()


@pytest.fixture
def start_desk(
    org_engine: Engine, settings: Settings, graph: tuple[FakeGraph, str]
) -> Iterator[Any]:
    """Start (and restart) desks on the same database, with a clock the test moves."""
    servers: list[BackgroundServer] = []
    clock = FrozenClock(SystemClock().now())

    def start() -> BotDesk:
        server, running = _start(org_engine, settings, graph, clock)
        servers.append(server)
        return running

    def stop_all() -> None:
        for server in servers:
            server.stop()

    start.stop_all = stop_all  # type: ignore[attr-defined]
    yield start
    stop_all()
