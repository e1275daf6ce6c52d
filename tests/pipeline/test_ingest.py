"""Posts become routed tickets end to end, exactly once, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from tests.factories import line, lines, tweet


def _count(engine: Engine, table: t.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _ticket(engine: Engine, ref: str | None = None) -> dict:
    with engine.connect() as conn:
        q = select(t.tickets, t.units.c.code.label("unit")).join(
            t.units, t.units.c.id == t.tickets.c.unit_id
        )
        if ref:
            q = q.where(t.tickets.c.ref == ref)
        return dict(conn.execute(q.order_by(t.tickets.c.id)).mappings().first())


def test_a_complaint_to_a_handle_opens_a_ticket_at_the_unit_that_owns_it(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    summary = pipeline.ingest(
        "x", "test", lines(tweet("@RailMinIndia coach B4 of 12951 has no water, PNR 4512345678"))
    )

    assert summary.tickets_opened == 1 and summary.new == 1
    ticket = _ticket(org_engine)
    assert ticket["ref"] == "RLY-000001"
    assert ticket["unit"] == "RLY"
    assert ticket["route_reason"] == "handle"
    assert ticket["status"] == "new"
    assert ticket["category"] == "water"


def test_a_hashtag_routes_when_no_handle_is_mentioned(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    pipeline.ingest(
        "x",
        "test",
        lines(
            tweet("my phone was snatched near the market and the FIR is not registered #UPPolice")
        ),
    )
    ticket = _ticket(org_engine)
    assert (ticket["unit"], ticket["route_reason"]) == ("UPP", "hashtag")
    assert ticket["ref"].startswith("UPP-")


def test_jurisdiction_inside_the_addressed_organisation_wins_over_the_handle(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    pipeline.ingest(
        "x", "test", lines(tweet("@Uppolice my phone was snatched near PIN 208001, please act"))
    )
    ticket = _ticket(org_engine)
    assert ticket["unit"] == "UPP-KANPUR"
    assert ticket["route_reason"] == "jurisdiction"
    assert "208001" in ticket["route_detail"]


def test_a_post_addressing_nobody_goes_to_the_default_unit(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    pipeline.ingest(
        "x",
        "test",
        lines(
            tweet("No water supply in our colony for 5 days, my complaint is pending, please help")
        ),
    )
    ticket = _ticket(org_engine)
    assert (ticket["unit"], ticket["route_reason"]) == ("ROOT", "default")


def test_ingesting_the_same_events_twice_creates_nothing_new(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    batch = lines(
        tweet("@RailMinIndia toilet in S7 of 12004 is filthy", author_id="1"),
        tweet("@Uppolice noise from a wedding hall every night in Lucknow", author_id="2"),
    )
    first = pipeline.ingest("x", "test", batch)
    counts = [_count(org_engine, tb) for tb in (t.journal, t.messages, t.tickets, t.ticket_events)]
    second = pipeline.ingest("x", "test", batch)

    assert first.tickets_opened == 2
    assert (second.new, second.tickets_opened, second.duplicates) == (0, 0, 2)
    assert [
        _count(org_engine, tb) for tb in (t.journal, t.messages, t.tickets, t.ticket_events)
    ] == counts


def test_the_same_post_seen_by_two_paths_is_one_message(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    post = tweet("@RailMinIndia AC not working in B2 of 12229", id="111")
    # The same tweet, serialised differently (another ingestion path adds matching rules).
    other_path = {**post, "matching_rules": [{"id": "9", "tag": "search-catch-up"}]}
    pipeline.ingest("x", "stream", [line(post)])
    summary = pipeline.ingest("x", "search", [line(other_path)])
    assert (summary.new, summary.duplicates) == (0, 1)
    assert _count(org_engine, t.messages) == 1 and _count(org_engine, t.tickets) == 1


def test_a_broken_line_is_rejected_with_its_position_and_the_rest_is_kept(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    batch = [
        line(tweet("@RailMinIndia fan not working in S3 of 12951", author_id="1")),
        "{not json",
        line({"data": {"id": "12", "text": "no author"}}),
        line(tweet("@Uppolice illegal parking blocking our gate in Lucknow", author_id="2")),
    ]
    summary = pipeline.ingest("x", "test", batch)
    assert summary.rejected == 2
    assert sorted(r.position for r in summary.rejections) == [1, 2]
    assert any("author_id" in r.reason for r in summary.rejections)
    assert summary.tickets_opened == 2
    with org_engine.connect() as conn:
        statuses = sorted(conn.execute(select(t.journal.c.status)).scalars())
    assert statuses == ["processed", "processed", "rejected", "rejected"]


def test_a_retweet_collapses_onto_the_original(pipeline: Pipeline, org_engine: Engine) -> None:
    original = tweet(
        "@RailMinIndia stale food served in pantry of 12301, PNR 4512345678", author_id="1"
    )
    retweets = [tweet("", author_id=str(100 + i), retweet_of=original) for i in range(3)]
    summary = pipeline.ingest("x", "test", lines(original, *retweets))
    assert summary.tickets_opened == 1
    assert _count(org_engine, t.messages) == 1


def test_a_reply_to_a_ticketed_post_joins_that_ticket(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    first = tweet("@RailMinIndia water not available in B4 of 12951", author_id="1")
    pipeline.ingest("x", "test", lines(first))
    reply = tweet(
        "still no water, two hours now",
        author_id="1",
        minutes=120,
        reply_to=first["data"]["id"],
        conversation_id=first["data"]["id"],
    )
    summary = pipeline.ingest("x", "test", lines(reply))
    assert (summary.threaded, summary.tickets_opened) == (1, 0)
    assert _ticket(org_engine)["message_count"] == 2


def test_a_follow_up_within_the_window_joins_and_one_after_it_opens_a_new_ticket(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    pipeline.ingest(
        "x",
        "test",
        lines(tweet("@Uppolice my bike was stolen from Lucknow station parking", author_id="7")),
    )
    soon = pipeline.ingest(
        "x",
        "test",
        lines(tweet("@Uppolice bike number UP32AB1234, please help", author_id="7", minutes=10)),
    )
    later = pipeline.ingest(
        "x",
        "test",
        lines(tweet("@Uppolice another theft today near my house", author_id="7", minutes=300)),
    )
    assert (soon.threaded, soon.tickets_opened) == (1, 0)
    assert later.tickets_opened == 1
    assert _count(org_engine, t.tickets) == 2


def test_follow_ups_in_the_same_batch_join_the_ticket_opened_in_that_batch(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    first = tweet("@RailMinIndia coach S3 of 15707 has no lights", author_id="3")
    reply = tweet(
        "please send electrician",
        author_id="3",
        minutes=1,
        reply_to=first["data"]["id"],
        conversation_id=first["data"]["id"],
    )
    summary = pipeline.ingest("x", "test", lines(first, reply))
    assert (summary.tickets_opened, summary.threaded) == (1, 1)
    ticket = _ticket(org_engine)
    assert ticket["message_count"] == 2
    with org_engine.connect() as conn:
        ticket_ids = set(conn.execute(select(t.messages.c.ticket_id)).scalars())
    assert ticket_ids == {ticket["id"]}


def test_praise_and_spam_are_stored_but_open_no_ticket(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    summary = pipeline.ingest(
        "x",
        "test",
        lines(
            tweet("Thank you @RailMinIndia for the quick help, great job", author_id="1"),
            tweet(
                "@RailMinIndia earn money from home, click here for crypto giveaway", author_id="2"
            ),
        ),
    )
    assert (summary.new, summary.tickets_opened, summary.not_actionable) == (2, 0, 2)
    with org_engine.connect() as conn:
        kinds = sorted(conn.execute(select(t.triage_results.c.kind)).scalars())
    assert kinds == ["feedback", "spam"]


def test_an_agency_reply_on_x_counts_as_the_first_response(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    first = tweet("@RailMinIndia AC not working in A1 of 12951 PNR 4512345678", author_id="1")
    pipeline.ingest("x", "test", lines(first))
    answer = tweet(
        "@citizen_a Your complaint is registered.",
        author_id="999",
        username="RailwaySeva",
        minutes=5,
        reply_to=first["data"]["id"],
        conversation_id=first["data"]["id"],
    )
    summary = pipeline.ingest("x", "test", lines(answer))
    assert summary.threaded == 1 and summary.tickets_opened == 0
    ticket = _ticket(org_engine)
    assert ticket["first_response_at"] is not None
    assert ticket["first_response_at"].minute == 5


def test_personal_data_is_masked_in_the_ticket_summary(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    pipeline.ingest(
        "x", "test", lines(tweet("@Uppolice threatened by neighbour, call me 9876543210, Lucknow"))
    )
    ticket = _ticket(org_engine)
    assert "9876543210" not in ticket["summary"]
    assert "[phone]" in ticket["summary"]


class _FailsOnOnePost:
    """The shipped triager with a bug that one post sets off."""

    def __init__(self) -> None:
        from sevadesk.triage.model_triager import ModelTriager

        self.inner = ModelTriager()
        self.version = self.inner.version

    def triage_batch(self, texts, addressed=None):  # type: ignore[no-untyped-def]
        if any("BOOM" in text for text in texts):
            raise KeyError("CSTM")
        return self.inner.triage_batch(texts, addressed)


def test_a_post_triage_fails_on_opens_a_ticket_for_a_person_and_the_batch_goes_on(
    org_engine: Engine,
    settings,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    pipeline = Pipeline(org_engine, _FailsOnOnePost(), settings, clock)
    summary = pipeline.ingest(
        "x",
        "test",
        lines(
            tweet("@RailMinIndia coach B4 of 12951 has no water", id="1"),
            tweet("@RailMinIndia BOOM at station, call 9876543210", id="2", author_id="5002"),
        ),
    )

    assert summary.tickets_opened == 2 and summary.rejected == 0
    assert pipeline.drain().new == 0  # nothing left pending to fail again
    with org_engine.connect() as conn:
        failed = conn.execute(
            select(t.tickets.c.kind, t.tickets.c.summary).where(
                t.tickets.c.summary.not_like("%no water%")
            )
        ).one()
    assert failed.kind == "grievance"
    assert "9876543210" not in failed.summary


def test_a_crash_between_journal_and_processing_loses_nothing(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    from sevadesk.pipeline import journal

    with org_engine.begin() as conn:
        journal.append(
            conn,
            "x",
            "webhook",
            lines(
                tweet(
                    "@RailMinIndia toilet in coach S1 of 12555 is choked and stinking, please clean it, PNR 4512345678"
                )
            ),
            pipeline.clock.now(),
        )
    summary = pipeline.drain()
    assert summary.tickets_opened == 1
    assert pipeline.drain().new == 0


def test_the_organisations_triage_rules_apply_to_new_tickets(
    org_engine: Engine, settings, clock
) -> None:  # type: ignore[no-untyped-def]
    from sevadesk.routing.orgfile import parse_org
    from sevadesk.store.org_repo import apply_org

    spec = parse_org(
        {
            "units": [
                {
                    "code": "RLY",
                    "name": "Railways",
                    "kind": "ministry",
                    "ticket_prefix": "RLY",
                    "handles": ["RailMinIndia"],
                }
            ],
            "triage": {
                "rules": [
                    {
                        "id": "kumbh",
                        "keywords": ["kumbh"],
                        "category": "crowding",
                        "urgency": "high",
                    }
                ]
            },
        }
    )
    with org_engine.begin() as conn:
        apply_org(conn, spec)
    pipeline = Pipeline(org_engine, None, settings, clock)  # the shipped model with the org's rules
    pipeline.ingest(
        "x",
        "test",
        lines(
            tweet("@RailMinIndia no space to stand at Prayagraj for Kumbh, train 12418 is packed")
        ),
    )
    ticket = _ticket(org_engine)
    assert (ticket["category"], ticket["urgency"], ticket["priority"]) == ("crowding", "high", "p2")
    with org_engine.connect() as conn:
        version = conn.execute(select(t.triage_results.c.model_version)).scalar()
    assert version.startswith("triage-lr-")


def test_a_complaint_with_the_organisations_complaint_hashtag_is_read_as_addressed(
    org_engine: Engine, settings, clock
) -> None:  # type: ignore[no-untyped-def]
    from sevadesk.routing.orgfile import parse_org
    from sevadesk.store.org_repo import apply_org

    police = {
        "code": "UPP",
        "name": "UP Police",
        "kind": "state_police",
        "ticket_prefix": "UPP",
        "handles": ["Uppolice"],
        "hashtags": ["UPPolice"],
    }
    complaint = "chain snatching near the market, nobody helps #UPPolice"
    for n, triage in enumerate([{}, {"addressing_hashtags": ["#UPPolice"]}]):
        with org_engine.begin() as conn:
            apply_org(conn, parse_org({"units": [police], "triage": triage}))
        pipeline = Pipeline(org_engine, None, settings, clock)
        pipeline.ingest("x", "test", lines(tweet(complaint, id=f"{n}", author_id=f"9{n}")))
    # Without the setting the model reads a post with no handle as talk; with it, as a
    # complaint to the desk.
    with org_engine.connect() as conn:
        actionable = conn.execute(
            select(t.triage_results.c.actionable).order_by(t.triage_results.c.message_id)
        ).scalars()
        assert list(actionable) == [False, True]
    assert _count(org_engine, t.tickets) == 1


def test_routing_rules_route_prioritise_label_and_acknowledge(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    pipeline.ingest(
        "x",
        "test",
        lines(
            tweet(
                "@RailMinIndia huge crowd for Kumbh, no water in coach S3 of 12004, PNR 4512345678",
                id="4242",
            )
        ),
    )
    ticket = _ticket(org_engine)
    assert (ticket["unit"], ticket["route_reason"], ticket["priority"]) == (
        "RLY-NR-LKO",
        "rule",
        "p2",
    )
    assert ticket["labels"] == ["kumbh"]
    assert "kumbh-desk" in ticket["route_detail"]
    with org_engine.connect() as conn:
        ack = conn.execute(select(t.outbox)).mappings().one()
    assert ack["body"] == f"Registered as {ticket['ref']}."
    assert (ack["idempotency_key"], ack["in_reply_to_id"], ack["created_by"]) == (
        f"ack:{ticket['ref']}",
        "4242",
        "system",
    )
    assert ticket["first_response_at"] is None  # an automatic acknowledgement is not a response


def test_a_rule_can_keep_a_post_out_of_the_desk(pipeline: Pipeline, org_engine: Engine) -> None:
    summary = pipeline.ingest(
        "x",
        "test",
        lines(
            tweet(
                "@RailMinIndia my movie review: the train scenes were dirty and broken, PNR 4512345678"
            )
        ),
    )
    assert (summary.new, summary.tickets_opened, summary.ignored) == (1, 0, 1)
