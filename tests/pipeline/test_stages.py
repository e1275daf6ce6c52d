"""Each pipeline stage on its own: journal, dedupe, thread."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select

from sevadesk.channels.x.payloads import parse_stream_event
from sevadesk.pipeline import journal
from sevadesk.pipeline.batch import Item
from sevadesk.pipeline.dedupe import dedupe
from sevadesk.pipeline.runner import Pipeline
from sevadesk.pipeline.thread import ThreadPolicy, mark_agency_posts, thread
from sevadesk.store import tables as t
from tests.factories import BASE_TIME, line, lines, tweet

POLICY = ThreadPolicy(follow_up_window=timedelta(minutes=30), reopen_window=timedelta(hours=72))


def item(event: dict, citizen_id: int | None = None) -> Item:
    return Item(journal_id=0, msg=parse_stream_event(event), citizen_id=citizen_id)


def test_journal_stores_each_payload_once_and_returns_only_work_to_do(engine: Engine) -> None:
    payloads = lines(tweet("a"), tweet("b"))
    with engine.begin() as conn:
        first = journal.append(conn, "x", "test", [*payloads, payloads[0]], BASE_TIME)
    assert len(first) == 2
    with engine.begin() as conn:
        journal.mark(conn, [first[0].id], [(first[1].id, "bad")])
    with engine.begin() as conn:
        again = journal.append(conn, "x", "test", payloads, BASE_TIME)
        rows = conn.execute(select(t.journal.c.status)).scalars().all()
    # The processed one is done; the rejected one is offered again to be re-read.
    assert [e.id for e in again] == [first[1].id]
    assert sorted(rows) == ["processed", "rejected"]


def test_dedupe_drops_repeats_in_the_batch_and_in_the_database(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    stored = tweet("@RailMinIndia fan broken in S1 of 12004", id="900")
    pipeline.ingest("x", "test", [line(stored)])
    fresh = tweet("@RailMinIndia lights off in S2 of 12004", id="901")
    batch = [item(stored), item(fresh), item(fresh)]
    with org_engine.connect() as conn:
        kept = dedupe(conn, batch)
    assert [i.msg.external_id for i in kept] == ["901"]
    assert [i.duplicate for i in batch] == [True, False, True]


def test_thread_joins_replies_and_follow_ups_but_not_strangers(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    first = tweet("@RailMinIndia no water in B4 of 12951", id="1000", author_id="1")
    pipeline.ingest("x", "test", [line(first)])
    with org_engine.connect() as conn:
        ticket_id, citizen_id = conn.execute(select(t.tickets.c.id, t.tickets.c.citizen_id)).one()
    reply = item(
        tweet("any update?", author_id="1", minutes=90, reply_to="1000", conversation_id="1000"),
        citizen_id,
    )
    follow_up = item(tweet("@RailMinIndia coach is B4", author_id="1", minutes=10), citizen_id)
    stranger = item(
        tweet("@RailMinIndia same in B5", author_id="2", minutes=10, conversation_id="1000"), 999
    )
    late = item(tweet("@RailMinIndia new problem", author_id="1", minutes=300), citizen_id)
    with org_engine.connect() as conn:
        thread(conn, [reply, follow_up, stranger, late], POLICY)
    assert reply.ticket_id == ticket_id  # replies to a ticketed post
    assert follow_up.ticket_id == ticket_id  # same citizen inside the window
    assert stranger.ticket_id is None  # someone else in the conversation is a new ticket
    assert late.ticket_id is None  # outside the window


def test_posts_from_the_agencys_own_handles_are_marked() -> None:
    ours = item(tweet("Your complaint is registered", username="RailwaySeva"))
    theirs = item(tweet("no water", username="citizen_a"))
    mark_agency_posts([ours, theirs], frozenset({"railwayseva"}))
    assert (ours.from_agency, theirs.from_agency) == (True, False)
