"""Agents' replies reach X through the outbox: once, in the thread, safely."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from sevadesk.channels.x.client import XClient
from sevadesk.channels.x.sender import XSender
from sevadesk.channels.x.stream import XSearchPoller
from sevadesk.config import Settings
from sevadesk.delivery.worker import OutboxWorker, backoff_seconds
from sevadesk.domain.clock import FrozenClock, SystemClock
from sevadesk.fakes.x_api import FakeX
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from sevadesk.store.users_repo import actor_by_username
from sevadesk.tickets.actions import PublicReplyBlocked, queue_reply


class World:
    def __init__(self, engine: Engine, settings: Settings, fake: FakeX, long_reply: str = "link"):
        self.engine, self.fake = engine, fake
        self.clock = FrozenClock(SystemClock().now())
        self.client = XClient.from_settings(settings)
        self.poller = XSearchPoller(self.client, engine, settings, self.clock)
        self.pipeline = Pipeline(engine, None, settings, self.clock)
        sender = XSender(self.client, "https://seva.example.gov.in", long_reply)
        self.worker = OutboxWorker(engine, {"x": sender}, self.clock, 3, random.Random(7))

    def citizen_posts(self, text: str, username: str = "asha", reply_to: str | None = None) -> str:
        tid = self.fake.citizen_post(text, username, in_reply_to=reply_to)
        self.poller.poll_once()
        self.pipeline.drain()
        return tid

    def ticket_of(self, tweet_id: str) -> str:
        with self.engine.connect() as conn:
            return str(
                conn.execute(
                    select(t.tickets.c.ref)
                    .join(t.messages, t.messages.c.ticket_id == t.tickets.c.id)
                    .where(t.messages.c.external_id == tweet_id)
                ).scalar_one()
            )

    def reply(self, ref: str, body: str, key: str = "k1", private: str | None = None) -> dict:
        with self.engine.begin() as conn:
            actor = actor_by_username(conn, "rly.agent")
            assert actor is not None
            entry, _ = queue_reply(conn, actor, ref, body, key, self.clock.now(), private)
        return entry

    def outbox(self, key: str = "k1") -> dict:
        with self.engine.connect() as conn:
            # Keys are kept per ticket: stored as "<ref>:<key>".
            outbox = t.outbox.c
            row = conn.execute(
                select(t.outbox).where(outbox.idempotency_key.endswith(f":{key}", autoescape=True))
            ).one()
        return dict(row._mapping)

    def later(self, seconds: float) -> None:
        self.clock.advance(timedelta(seconds=seconds))

    def agency_posts(self) -> list[dict]:
        return [tw for tw in self.fake.tweets if tw["author_id"] == self.fake.agency["id"]]


@pytest.fixture
def world(org_engine: Engine, x_settings: Settings, fake_x: tuple[FakeX, str]) -> Iterator[World]:
    w = World(org_engine, x_settings, fake_x[0])
    yield w
    w.client.close()


def test_an_agent_reply_is_posted_once_in_the_citizens_thread(world: World) -> None:
    tid = world.citizen_posts("@RailMinIndia coach B4 of 12951 has no water, PNR 4512345678")
    ref = world.ticket_of(tid)
    world.reply(ref, "Sorry for the trouble; the water is being refilled at Kota.")
    world.reply(ref, "Sorry for the trouble; the water is being refilled at Kota.")  # same key
    assert world.worker.run_once() == 1
    assert world.worker.run_once() == 0
    assert world.fake.posted == [
        {
            "text": "Sorry for the trouble; the water is being refilled at Kota.",
            "reply": {"in_reply_to_tweet_id": tid},
        }
    ]
    entry = world.outbox()
    assert entry["status"] == "sent" and entry["external_id"] == world.agency_posts()[0]["id"]
    # The citizen answers the desk's reply: it joins the same ticket.
    answer = world.citizen_posts(
        "@RailMinIndia still no water at Sawai Madhopur", reply_to=entry["external_id"]
    )
    assert world.ticket_of(answer) == ref


def test_a_timeout_after_posting_is_checked_before_any_retry(world: World) -> None:
    tid = world.citizen_posts("@RailMinIndia 12951 AC not working in B2")
    world.reply(world.ticket_of(tid), "Technician will attend at the next halt.")
    world.fake.slow_posts(20.0)  # X stores the post but answers after the client gives up
    world.worker.run_once()
    assert world.outbox()["status"] == "unknown"
    world.later(60)
    world.worker.run_once()
    assert world.outbox()["status"] == "sent"
    assert len(world.agency_posts()) == 1  # found on the timeline, not posted again


def test_server_errors_are_checked_retried_with_backoff_and_dead_letters_keep_the_error(
    world: World,
) -> None:
    tid = world.citizen_posts("@RailMinIndia 12951 coach S5 lights off")
    world.reply(world.ticket_of(tid), "Electrician informed.")
    world.fake.fail("/2/tweets", 503, 503, 503)
    world.worker.run_once()
    first = world.outbox()
    # X may have posted before its 5xx: unknown, looked up before any resend.
    assert first["status"] == "unknown" and first["attempts"] == 1 and "503" in first["last_error"]
    assert world.worker.run_once() == 0  # not due yet
    for _ in range(3):
        world.later(3600)
        world.worker.run_once()
    dead = world.outbox()
    assert dead["status"] == "dead" and "gave up after 3 attempts" in dead["last_error"]
    assert "none of them went out" in dead["last_error"] and "503" in dead["last_error"]
    assert world.fake.posted == []


def test_a_429_pauses_the_channel_until_the_reset(world: World) -> None:
    tid = world.citizen_posts(
        "@RailMinIndia train 12951 coach B3 bedroll is dirty and torn, please replace"
    )
    world.reply(world.ticket_of(tid), "Bedroll will be changed.")
    world.fake.rate_limit_connects(0, reset_in=30.0)
    world.fake.fail("/2/tweets", 429)
    world.worker.run_once()
    entry = world.outbox()
    assert entry["status"] == "pending" and "429" in entry["last_error"]
    # The retry is due at X's reset time, and the channel sends nothing before it.
    assert (
        timedelta(seconds=25) < entry["next_attempt_at"] - world.clock.now() < timedelta(seconds=35)
    )
    world.later(60)
    assert world.worker.run_once() == 0
    assert world.fake.posted == []


def test_backoff_grows_and_is_jittered() -> None:
    rng = random.Random(1)
    delays = [backoff_seconds(n, rng) for n in range(1, 8)]
    assert 1.0 <= delays[0] <= 2.0
    assert delays[-1] > delays[0] * 16
    assert len({round(d, 6) for d in delays}) == len(delays)


def test_a_public_reply_with_personal_data_is_refused_and_can_go_privately(world: World) -> None:
    tid = world.citizen_posts("@RailMinIndia my wallet was stolen in 12951 coach B4")
    ref = world.ticket_of(tid)
    with pytest.raises(PublicReplyBlocked, match="mobile number"):
        world.reply(ref, "Call the RPF inspector on 9876543210 please.")
    entry = world.reply(
        ref,
        "We have sent you the RPF contact by direct message.",
        private="RPF inspector Kota: 9876543210",
    )
    assert entry["private"]["kind"] == "dm"
    world.worker.run_once()
    assert world.fake.dms and world.fake.dms[0]["text"] == "RPF inspector Kota: 9876543210"
    assert "9876543210" not in " ".join(p["text"] for p in world.fake.posted)


def test_a_long_reply_is_shortened_to_a_status_link(world: World) -> None:
    tid = world.citizen_posts("@RailMinIndia 12951 pantry food was stale")
    ref = world.ticket_of(tid)
    world.reply(ref, "We are sorry. " + "The catering contractor has been penalised. " * 12)
    world.worker.run_once()
    text = world.fake.posted[0]["text"]
    assert text.endswith(f"https://seva.example.gov.in/status/{ref}") and "…" in text


def test_a_long_reply_can_be_split_into_a_thread(
    org_engine: Engine, x_settings: Settings, fake_x: tuple[FakeX, str]
) -> None:
    world = World(org_engine, x_settings, fake_x[0], long_reply="split")
    tid = world.citizen_posts("@RailMinIndia 12951 pantry food was stale")
    world.reply(
        world.ticket_of(tid), "We are sorry. " + "The catering contractor has been penalised. " * 12
    )
    world.worker.run_once()
    posts = world.fake.posted
    assert (
        len(posts) == 2
        and posts[0]["text"].endswith("(1/2)")
        and posts[1]["text"].endswith("(2/2)")
    )
    first_id = world.agency_posts()[0]["id"]
    assert posts[0]["reply"] == {"in_reply_to_tweet_id": tid}
    assert posts[1]["reply"] == {"in_reply_to_tweet_id": first_id}
    world.client.close()
