"""The outbox under a faulty network: every reply goes out once, none is lost.

The fakes accept a message and then answer a 5xx or answer too late (the client has given
up: the outcome is unknown), hold WhatsApp's status webhooks back, and answer slowly while
two workers run at once. On each channel (X public replies, X direct messages, WhatsApp)
every entry must end sent, and the platform must have received it exactly once.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from sevadesk.channels.whatsapp.client import WhatsAppClient
from sevadesk.channels.whatsapp.sender import WhatsAppSender
from sevadesk.channels.x.client import XClient
from sevadesk.channels.x.sender import XSender
from sevadesk.config import Settings
from sevadesk.delivery import worker as outbox_worker
from sevadesk.delivery.receipts import Lookups
from sevadesk.delivery.worker import OutboxWorker
from sevadesk.domain.clock import FrozenClock
from sevadesk.domain.delivery import Sender
from sevadesk.fakes.graph_api import FakeGraph, create_fake_graph
from sevadesk.fakes.serve import BackgroundServer
from sevadesk.fakes.x_api import FakeX, create_fake_x
from sevadesk.store import tables as t
from sevadesk.web.app import create_app

BEARER, USER_TOKEN = "app-bearer-token", "user-access-token"
GRAPH_TOKEN, APP_SECRET, PHONE_ID = "graph-token", "app-secret-2026", "1122334455667"


class FastClock:
    """Wall-clock time running `speed` times faster: backoffs, leases and grace periods of
    minutes pass in seconds, while the fakes' delays (late webhooks, slow calls) stay real."""

    def __init__(self, speed: float) -> None:
        self.speed, self.start, self.t0 = speed, datetime.now(UTC), time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self.t0) * self.speed)


def queue(
    engine: Engine,
    clock: FrozenClock | FastClock,
    channel: str,
    kind: str,
    bodies: list[str],
    recipients: list[str | None],
    in_reply_to: list[str | None] | None = None,
) -> list[str]:
    """Outbox entries as `queue_reply` leaves them; returns their idempotency keys."""
    now = clock.now()
    keys = [f"fault-{uuid.uuid4().hex[:12]}" for _ in bodies]
    with engine.begin() as conn:
        conn.execute(
            t.outbox.insert(),
            [
                {
                    "idempotency_key": key,
                    "channel": channel,
                    "kind": kind,
                    "body": body,
                    "recipient": to,
                    "in_reply_to_id": (in_reply_to or [None] * len(bodies))[i],
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_by": "agent",
                    "created_at": now,
                }
                for i, (key, body, to) in enumerate(zip(keys, bodies, recipients, strict=True))
            ],
        )
    return keys


def statuses(engine: Engine) -> Counter[str]:
    with engine.connect() as conn:
        return Counter(conn.execute(select(t.outbox.c.status)).scalars())


def run_until_settled(
    workers: list[OutboxWorker],
    engine: Engine,
    seconds: float,
    clock: FrozenClock | None = None,
) -> None:
    """Run the workers (each in its own thread when there are several) until every entry is
    sent or dead, or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    stop = threading.Event()

    def loop(w: OutboxWorker) -> None:
        while not stop.is_set():
            if not w.run_once():
                time.sleep(0.02)

    threads = [threading.Thread(target=loop, args=(w,), daemon=True) for w in workers[1:]]
    for thread in threads:
        thread.start()
    try:
        while time.monotonic() < deadline:
            workers[0].run_once()
            left = statuses(engine)
            if not set(left) - {"sent", "dead"}:
                return
            if clock is not None:
                clock.advance(timedelta(seconds=30))
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)


# X ------------------------------------------------------------------------------------------


@pytest.fixture
def fake_x() -> Iterator[tuple[FakeX, str]]:
    fake = FakeX()
    with BackgroundServer(create_fake_x(fake, BEARER, USER_TOKEN)) as server:
        yield fake, server.url


def x_worker(
    engine: Engine, url: str, clock: FrozenClock, timeout: float = 0.4
) -> tuple[OutboxWorker, XClient]:
    client = XClient(url, BEARER, USER_TOKEN, timeout=timeout)
    sender: Sender = XSender(client, "https://seva.example.gov.in")
    return OutboxWorker(engine, {"x": sender}, clock, 8, random.Random(5)), client


def test_x_direct_messages_are_sent_once_through_timeouts_and_5xx_after_acceptance(
    org_engine: Engine, fake_x: tuple[FakeX, str]
) -> None:
    fake, url = fake_x
    clock = FrozenClock(datetime.now(UTC))
    worker, client = x_worker(org_engine, url, clock)
    bodies = [f"Your RPF contact is inspector no. {n} at Kota." for n in range(24)]
    queue(org_engine, clock, "x", "dm", bodies, [str(7_000_000 + n) for n in range(24)])
    # A third of the sends go through at X and are answered badly.
    fake.fail_after_accepting(
        "/2/dm_conversations", *(["timeout", 503, 500, "timeout"] * 2), delay=1.0
    )
    run_until_settled([worker], org_engine, 15, clock)
    client.close()
    sent = Counter(dm["text"] for dm in fake.dms)
    twice = sorted(b for b, n in sent.items() if n > 1)
    assert not twice, f"{len(twice)} of {len(bodies)} direct messages went twice"
    assert set(sent) == set(bodies) and statuses(org_engine) == {"sent": len(bodies)}


def test_x_public_replies_are_found_past_the_newest_hundred_posts(
    org_engine: Engine, fake_x: tuple[FakeX, str]
) -> None:
    fake, url = fake_x
    clock = FrozenClock(datetime.now(UTC))
    worker, client = x_worker(org_engine, url, clock)
    posts = [
        fake.citizen_post(f"@RailMinIndia coach B{n} of 12951 dirty", f"c{n}") for n in range(8)
    ]
    bodies = [f"Sorry; coach B{n} is being cleaned at Kota." for n in range(8)]
    queue(org_engine, clock, "x", "text", bodies, [None] * 8, list(posts))
    fake.fail_after_accepting("/2/tweets", "timeout", 503, "timeout", 502, delay=1.0)
    assert worker.run_once() == 8
    # Before the worker looks again the account posts 150 more (a busy day): the replies
    # whose answers were lost are deep in its timeline.
    fake.agency_posts(150)
    run_until_settled([worker], org_engine, 15, clock)
    client.close()
    texts = Counter(tw["text"] for tw in fake.tweets if tw["author_id"] == fake.agency["id"])
    assert all(texts[b] == 1 for b in bodies), {b: texts[b] for b in bodies}
    assert statuses(org_engine) == {"sent": 8}, "a reply X has was marked dead"


# WhatsApp -----------------------------------------------------------------------------------


@pytest.fixture
def graph() -> Iterator[tuple[FakeGraph, str]]:
    fake = FakeGraph(GRAPH_TOKEN, APP_SECRET, PHONE_ID)
    with BackgroundServer(create_fake_graph(fake)) as server:
        yield fake, server.url


@pytest.fixture
def desk(
    org_engine: Engine, settings: Settings, graph: tuple[FakeGraph, str]
) -> Iterator[tuple[FakeGraph, str]]:
    """The desk receiving Meta's status webhooks (its own outbox loop off: the test runs the
    workers)."""
    fake, graph_url = graph
    live = Settings.model_validate(
        {
            **settings.model_dump(),
            "whatsapp_base_url": graph_url,
            "whatsapp_token": GRAPH_TOKEN,
            "whatsapp_phone_number_id": PHONE_ID,
            "whatsapp_app_secrets": APP_SECRET,
            "drain_interval_seconds": 0.05,
            "outbox_interval_seconds": 0,
        }
    )
    with BackgroundServer(create_app(live, org_engine)) as server:
        fake.webhook_url = f"{server.url}/webhooks/whatsapp"
        yield fake, graph_url


def wa_worker(
    engine: Engine, url: str, clock: FastClock, timeout: float, grace: float
) -> tuple[OutboxWorker, WhatsAppClient]:
    client = WhatsAppClient(url, "v21.0", PHONE_ID, GRAPH_TOKEN, timeout=timeout)
    lookups = Lookups(engine)
    sender = WhatsAppSender(client, lookups.last_inbound, lookups.sent_receipt, clock.now)
    sender.unknown_grace_seconds = grace  # how long Meta's status webhooks may take
    return OutboxWorker(engine, {"whatsapp": sender}, clock, 8, random.Random(3)), client


def sent_per_entry(fake: FakeGraph) -> Counter[str]:
    return Counter(m.get("biz_opaque_callback_data") for m in fake.accepted)


def test_whatsapp_replies_are_sent_once_when_status_webhooks_are_late(
    org_engine: Engine, desk: tuple[FakeGraph, str]
) -> None:
    fake, url = desk
    clock = FastClock(speed=80)  # ten minutes pass in 7.5 s
    worker, client = wa_worker(org_engine, url, clock, timeout=0.5, grace=600)
    n = 24
    bodies = [f"Update {i}: your complaint is with the station master." for i in range(n)]
    to = [f"9198765{i:05d}" for i in range(n)]
    fake.statuses_late(2.0)  # Meta's webhooks come 2 s (160 s here) after the send
    # The first eight go out and are answered with a timeout or a 500.
    fake.fail_after_accepting(*(["timeout", 500] * 4), delay=1.0)
    keys = queue(org_engine, clock, "whatsapp", "text", bodies[:8], to[:8])
    assert worker.run_once() == 8
    keys += queue(org_engine, clock, "whatsapp", "text", bodies[8:], to[8:])
    run_until_settled([worker], org_engine, 20)
    client.close()
    sent = sent_per_entry(fake)
    twice = [k for k in keys if sent[k] > 1]
    assert not twice, f"{len(twice)} of {n} WhatsApp replies went twice"
    assert all(sent[k] == 1 for k in keys) and statuses(org_engine) == {"sent": n}


def test_two_workers_and_a_slow_graph_api_send_each_reply_once(
    org_engine: Engine, desk: tuple[FakeGraph, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, url = desk
    clock = FastClock(speed=40)
    # Leases of a minute (1.5 s here) against 0.3 s a call: a worker that claims many entries
    # at once cannot send them all before its lease runs out.
    monkeypatch.setattr(outbox_worker, "LEASE", timedelta(minutes=1))
    fake.slow(0.3)
    one, c1 = wa_worker(org_engine, url, clock, timeout=1.0, grace=120)
    two, c2 = wa_worker(org_engine, url, clock, timeout=1.0, grace=120)
    n = 16
    keys = queue(
        org_engine, clock, "whatsapp", "text",
        [f"Reply {i}: the coach will be cleaned at the next halt." for i in range(n)],
        [f"9197654{i:05d}" for i in range(n)],
    )  # fmt: skip
    run_until_settled([one, two], org_engine, 20)
    c1.close()
    c2.close()
    sent = sent_per_entry(fake)
    twice = [k for k in keys if sent[k] > 1]
    assert not twice, f"{len(twice)} of {n} went twice"
    assert all(sent[k] == 1 for k in keys) and statuses(org_engine) == {"sent": n}


def test_a_worker_that_lost_its_lease_sends_nothing_and_writes_nothing(
    org_engine: Engine, fake_x: tuple[FakeX, str]
) -> None:
    fake, url = fake_x
    clock = FrozenClock(datetime.now(UTC))
    slow, c1 = x_worker(org_engine, url, clock)
    fast, c2 = x_worker(org_engine, url, clock)
    queue(org_engine, clock, "x", "dm", ["Your FIR copy is ready at the station."], ["7000001"])
    row = slow._due(10)[0]
    claimed = slow._claim(row)  # the slow worker takes it, then stalls past its lease
    assert claimed is not None
    clock.advance(slow.lease + timedelta(seconds=1))
    assert fast.run_once() == 1  # the other worker takes it over and sends it
    slow._deliver(claimed, row.status)  # the stalled worker wakes up: it must not send
    c1.close()
    c2.close()
    assert [dm["text"] for dm in fake.dms] == ["Your FIR copy is ready at the station."]
    assert statuses(org_engine) == {"sent": 1}


def test_a_lookup_that_fails_leaves_the_outcome_unknown_and_sends_nothing(
    org_engine: Engine, fake_x: tuple[FakeX, str]
) -> None:
    fake, url = fake_x
    clock = FrozenClock(datetime.now(UTC))
    worker, client = x_worker(org_engine, url, clock)
    queue(org_engine, clock, "x", "dm", ["Inspector Meena: call the RPF post."], ["7000002"])
    fake.fail_after_accepting("/2/dm_conversations", 503)
    fake.fail("/2/dm_events", 503, 503)
    for _ in range(3):  # the send, then two lookups that fail
        worker.run_once()
        clock.advance(timedelta(minutes=10))
    assert statuses(org_engine) == {"unknown": 1} and len(fake.dms) == 1
    worker.run_once()  # a lookup that answers: it went out the first time
    client.close()
    assert len(fake.dms) == 1
    assert statuses(org_engine) == {"sent": 1}
