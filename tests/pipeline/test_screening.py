"""Posts triage screens out are kept, each with why and the queue it waits in."""

from __future__ import annotations

from sqlalchemy import Engine, select

from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from tests.factories import lines, tweet


def _screened(engine: Engine) -> dict[str, tuple[str, str]]:
    """text → (reason, unit code) of every screened-out post."""
    s, m = t.screened_posts.c, t.messages.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(m.text, s.reason, t.units.c.code)
            .join(t.messages, m.id == s.message_id)
            .join(t.units, t.units.c.id == s.unit_id)
        ).all()
    return {r.text: (r.reason, r.code) for r in rows}


def test_each_screened_out_post_is_kept_with_its_reason_and_queue(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    official = "@RailMinIndia your complaint has been registered, matter forwarded to the concerned official"
    ignored = (
        "@RailMinIndia my movie review: the train scenes were dirty and broken, PNR 4512345678"
    )
    praise = "@Uppolice Kanpur police did great work today, thank you"
    complaint = "@Uppolice my phone was snatched near Hazratganj, Lucknow 226001"
    agency_reply = "@citizen_a we have informed the SHO"
    summary = pipeline.ingest(
        "x",
        "test",
        lines(
            tweet(official, author_id="1"),
            tweet(ignored, author_id="2", minutes=1),
            tweet(praise, author_id="3", minutes=2),
            tweet(complaint, author_id="4", minutes=3),
            tweet(agency_reply, author_id="5", username="Uppolice", minutes=4),
        ),
    )
    assert summary.tickets_opened == 1 and summary.ignored == 1
    found = _screened(org_engine)
    assert found == {
        official: ("agency", "RLY"),  # an official's words, from a handle not the agency's
        ignored: ("rule", "RLY"),  # actionable, but the organisation's rule ignores it
        praise: ("praise", "UPP-KANPUR"),  # the queue routing names: Kanpur's
    }
    # The complaint became a ticket; the agency's own post has no citizen to answer.


def test_an_organisations_triage_rule_is_the_reason(pipeline: Pipeline, org_engine: Engine) -> None:
    with org_engine.begin() as conn:
        conn.execute(
            t.org_settings.insert().values(
                key="triage",
                value={"rules": [{"id": "quiz", "keywords": ["quiz contest"], "kind": "noise"}]},
            )
        )
    pipeline.reload_router()  # the organisation's triage settings apply from the next batch
    text = "@Uppolice theft at the quiz contest in Hazratganj, Lucknow 226001"
    summary = pipeline.ingest("x", "test", lines(tweet(text, author_id="9")))
    assert summary.tickets_opened == 0
    assert _screened(org_engine) == {text: ("rule", "UPP-LUCKNOW")}
