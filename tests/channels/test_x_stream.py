"""The filtered-stream consumer against the fake X: posts become tickets, drops and 429s
lose nothing and duplicate nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from sevadesk.channels.x.client import XClient
from sevadesk.channels.x.stream import STREAM_SOURCE, XSearchPoller, XStreamConsumer
from sevadesk.config import Settings
from sevadesk.domain.clock import SystemClock
from sevadesk.fakes.x_api import FakeX
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import ledger
from sevadesk.store import tables as t
from tests.channels.conftest import count, wait_for


class Desk:
    """The stream consumer and the journal drain, each on its own thread, as in the server."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.stop = threading.Event()
        self.client = XClient.from_settings(settings)
        self.consumer = XStreamConsumer(self.client, engine, settings, SystemClock(), self.stop)
        self.pipeline = Pipeline(engine, None, settings, SystemClock())
        self.threads = [
            threading.Thread(target=self.consumer.run, daemon=True),
            threading.Thread(target=self._drain, daemon=True),
        ]

    def _drain(self) -> None:
        while not self.stop.is_set():
            if not self.pipeline.drain().new:
                self.stop.wait(0.05)

    def __enter__(self) -> Desk:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)
        self.client.close()


@pytest.fixture
def desk(org_engine: Engine, x_settings: Settings) -> Iterator[Desk]:
    with Desk(org_engine, x_settings) as running:
        yield running


def messages_in(engine: Engine) -> int:
    return count(engine, t.messages, t.messages.c.direction == "in")


def test_stream_posts_become_tickets(desk: Desk, fake_x: tuple[FakeX, str]) -> None:
    fake, _url = fake_x
    wait_for(lambda: desk.consumer.connections == 1, what="stream connected")
    assert any("@railminindia" in r["value"].lower() for r in fake.rules.values())
    fake.citizen_post("@RailMinIndia coach B4 of 12951 has no water, PNR 4512345678", "asha")
    fake.citizen_post("#UPPolice my phone was stolen at Hazratganj, Lucknow 226001", "ravi")
    fake.citizen_post("lovely weather today", "nobody")  # matches no rule: never delivered
    wait_for(lambda: count(desk.engine, t.tickets) == 2, what="two tickets")
    with desk.engine.connect() as conn:
        units = {
            r.text[:15]: r.code
            for r in conn.execute(
                select(t.messages.c.text, t.units.c.code)
                .join(t.tickets, t.tickets.c.id == t.messages.c.ticket_id)
                .join(t.units, t.units.c.id == t.tickets.c.unit_id)
            )
        }
    assert units["@RailMinIndia c"].startswith("RLY")
    assert units["#UPPolice my ph"].startswith("UPP")


def test_a_stream_torn_mid_message_is_recovered_without_loss_or_duplicates(
    desk: Desk, fake_x: tuple[FakeX, str]
) -> None:
    fake, _url = fake_x
    wait_for(lambda: desk.consumer.connections == 1, what="stream connected")
    posted = [
        fake.citizen_post(f"@RailMinIndia train 12951 fan broken coach S{i}", f"u{i}")
        for i in range(3)
    ]
    wait_for(lambda: messages_in(desk.engine) == 3, what="first three")
    fake.drop_stream_after(2)  # two more arrive whole, the third is cut in half
    posted += [
        fake.citizen_post(f"@RailMinIndia 12951 no water in coach B{i}", f"v{i}") for i in range(6)
    ]
    wait_for(lambda: desk.consumer.connections >= 2, what="reconnect")
    posted += [
        fake.citizen_post(f"@RailMinIndia 12951 toilet dirty coach A{i}", f"w{i}") for i in range(2)
    ]
    wait_for(lambda: messages_in(desk.engine) == len(posted), what="every post stored")
    time.sleep(0.5)  # anything duplicated would arrive by now
    with desk.engine.connect() as conn:
        ids = list(
            conn.execute(
                select(t.messages.c.external_id).where(t.messages.c.direction == "in")
            ).scalars()
        )
        gaps = ledger.report(conn, SystemClock().now(), 300)
    assert sorted(ids) == sorted(posted)  # none lost, none twice
    stream = next(g for g in gaps if g["source"] == STREAM_SOURCE)
    assert stream["gaps_detected"] >= 1 and stream["gaps_backfilled"] == stream["gaps_detected"]
    assert fake.search_calls >= 1  # the missed posts came back through recent search


def test_a_silent_stream_is_dropped_and_caught_up(desk: Desk, fake_x: tuple[FakeX, str]) -> None:
    fake, _url = fake_x
    wait_for(lambda: desk.consumer.connections == 1, what="stream connected")
    fake.stall_stream(3.0)  # longer than the 1 s keep-alive timeout of the test settings
    time.sleep(0.1)
    missed = fake.citizen_post("@RailMinIndia 12951 AC not working in B2", "stalled")
    wait_for(lambda: desk.consumer.connections >= 2, what="reconnect after stall")
    wait_for(lambda: messages_in(desk.engine) == 1, what="missed post recovered")
    with desk.engine.connect() as conn:
        assert conn.execute(select(t.messages.c.external_id)).scalar() == missed


def test_a_429_waits_for_the_reset_then_continues(desk: Desk, fake_x: tuple[FakeX, str]) -> None:
    fake, _url = fake_x
    wait_for(lambda: desk.consumer.connections == 1, what="stream connected")
    fake.rate_limit_connects(1, reset_in=2.0)
    fake.drop_stream_after(0)
    dropped_at = time.monotonic()
    fake.citizen_post("@RailMinIndia 12951 first post tears the stream", "x1")
    wait_for(lambda: desk.consumer.connections == 2, timeout=20, what="reconnect after 429")
    waited = time.monotonic() - dropped_at
    assert waited >= 2.0  # not before X's reset time
    fake.citizen_post("@RailMinIndia 12951 after the reset", "x2")
    wait_for(lambda: messages_in(desk.engine) == 2, what="both posts")


def test_the_search_poller_reads_from_since_id_within_the_rate_limit(
    org_engine: Engine, x_settings: Settings, fake_x: tuple[FakeX, str]
) -> None:
    fake, _url = fake_x
    first = [fake.citizen_post(f"@RailMinIndia 12951 seat {i} broken", f"p{i}") for i in range(3)]
    client = XClient.from_settings(x_settings)
    poller = XSearchPoller(client, org_engine, x_settings, SystemClock())
    assert poller.poll_once() == 3
    second = fake.citizen_post("@RailMinIndia 12951 one more", "p9")
    assert poller.poll_once() == 1  # only what is newer than the last id seen
    with org_engine.connect() as conn:
        assert ledger.last_id(conn, "x-search") == second
        assert ledger.quota_used(conn, "x", SystemClock().now()) == 4
    assert first
