"""150 posts about one delayed train become one incident that one reply answers."""

from __future__ import annotations

import warnings
from datetime import timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from sevadesk.config import Settings
from sevadesk.domain.clock import FrozenClock
from sevadesk.pipeline.runner import Pipeline
from sevadesk.routing import similar
from sevadesk.store import tables as t
from sevadesk.store.users_repo import issue_token
from sevadesk.tickets.actions import sla_pass
from sevadesk.web.app import create_app
from tests.factories import BASE_TIME, lines, tweet

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

DELAYED = [
    "@RailMinIndia train 12004 running 4 hours late, no announcement at all",
    "@RailMinIndia 12004 is late again, stuck near Kanpur for 2 hours",
    "@RailMinIndia why is train 12004 so late today? passengers suffering",
    "@RailMinIndia train 12004 bahut late hai, 3 ghante se khadi hai",
    "@RailMinIndia delay in 12004, we will miss our connecting train",
]


def test_a_mass_delay_becomes_one_incident_and_one_reply_reaches_everyone(
    pipeline: Pipeline, org_engine: Engine, settings: Settings, clock: FrozenClock
) -> None:
    posts = [
        tweet(DELAYED[n % len(DELAYED)] + f" #{n}", author_id=str(1000 + n), minutes=n)
        for n in range(150)
    ]
    other = tweet(
        "@RailMinIndia no water in coach B4 of train 12951, PNR 4512345678", author_id="9"
    )
    for start in range(0, 150, 50):
        pipeline.ingest("x", "test", lines(*posts[start : start + 50]))
    pipeline.ingest("x", "test", lines(other))
    with org_engine.connect() as conn:
        incidents = conn.execute(select(t.incidents)).mappings().all()
        linked = conn.execute(
            select(func.count()).select_from(t.tickets).where(t.tickets.c.incident_id.is_not(None))
        ).scalar()
        tickets = conn.execute(select(func.count()).select_from(t.tickets)).scalar()
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident["key"] == "delay:train:12004"
    assert (
        linked == incident["ticket_count"] == tickets - 1 >= 140
    )  # the water complaint stays apart
    with org_engine.begin() as conn:
        token = issue_token(conn, "rly.agent", "test")
    with TestClient(create_app(settings, org_engine, clock)) as client:
        auth = {"Authorization": f"Bearer {token}"}
        detail = client.get(f"/api/v1/incidents/{incident['ref']}", headers=auth).json()
        assert detail["ticket_count"] == linked and len(detail["tickets"]) == linked
        body = {
            "body": "12004 was held by a signal failure near Kanpur; it is moving now. We regret the delay.",
            "idempotency_key": "kanpur-signal",
        }
        first = client.post(
            f"/api/v1/incidents/{incident['ref']}/replies", headers=auth, json=body
        ).json()
        again = client.post(
            f"/api/v1/incidents/{incident['ref']}/replies", headers=auth, json=body
        ).json()
    assert first["replies_queued"] == linked and again["replies_queued"] == 0
    with org_engine.connect() as conn:
        outbox = conn.execute(select(func.count()).select_from(t.outbox)).scalar()
    assert outbox == linked


def test_a_copy_paste_campaign_without_a_train_is_one_incident(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    campaign = (
        "Please restore the stoppage at our village halt, passengers walk 10 km to board any train"
    )
    posts = [
        tweet(f"@RailMinIndia @{handle} {campaign} #{n}", author_id=str(3000 + n), minutes=n)
        for n, handle in enumerate(["RailwaySeva", "DRMLucknow", "GMNR", "RailMadad"])
    ]
    pipeline.ingest(
        "x",
        "test",
        lines(*posts, tweet("@RailMinIndia the lift at platform 1 is broken again", author_id="9")),
    )
    with org_engine.connect() as conn:
        incidents = conn.execute(
            select(t.incidents.c.key, t.incidents.c.ticket_count, t.incidents.c.title)
        ).all()
    assert len(incidents) == 1
    assert ":similar:" in incidents[0].key and incidents[0].ticket_count == 4
    assert "near-identical posts from many citizens" in incidents[0].title


def test_a_copy_waiting_from_an_earlier_batch_joins_the_campaigns_incident(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    campaign = "Please restore the stoppage at our village halt, people walk 10 km to board"
    posts = [
        tweet(f"@RailMinIndia {campaign} #{n}", author_id=str(4000 + n), minutes=n)
        for n in range(6)
    ]
    # Two are too few for an incident; the copy waits in the database, in no incident, until
    # the next batch brings the third and the rest.
    pipeline.ingest("x", "test", lines(*posts[:2]))
    pipeline.ingest("x", "test", lines(*posts[2:]))

    with org_engine.connect() as conn:
        incidents = conn.execute(select(t.incidents.c.id, t.incidents.c.ticket_count)).all()
        linked = conn.execute(
            select(t.tickets.c.incident_id).where(t.tickets.c.incident_id.is_not(None))
        ).all()
    assert [row.ticket_count for row in incidents] == [6]
    assert len(linked) == 6


OUTAGE = [
    "@RailMinIndia no drinking water at the waiting hall, taps dry, passengers thirsty since morning",
    "@RailMinIndia waiting hall taps dry since morning, no drinking water for passengers",
    "@RailwaySeva drinking water taps dry in the waiting hall since morning, passengers suffering",
    "@RailMinIndia passengers thirsty, waiting hall drinking water taps are dry since morning!!",
    "@RailMinIndia since morning the waiting hall has no drinking water, all taps dry",
]


def test_paraphrases_of_one_problem_become_one_incident_and_other_posts_stay_apart(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    first = [tweet(text, author_id=str(4000 + n), minutes=n) for n, text in enumerate(OUTAGE[:3])]
    unrelated = [
        tweet(
            "@RailMinIndia no drinking water in coach S5, pantry staff rude and overcharging",
            author_id="4100",
            minutes=4,
        ),
        tweet("@RailMinIndia refund for my cancelled ticket not received yet", author_id="4101"),
    ]
    pipeline.ingest("x", "test", lines(*first, *unrelated))
    later = [
        tweet(text, author_id=str(4010 + n), minutes=30 + n) for n, text in enumerate(OUTAGE[3:])
    ]
    pipeline.ingest("x", "test", lines(*later))
    with org_engine.connect() as conn:
        incidents = conn.execute(
            select(t.incidents.c.id, t.incidents.c.key, t.incidents.c.ticket_count)
        ).all()
        members = (
            conn.execute(
                select(t.messages.c.text)
                .join(t.tickets, t.tickets.c.id == t.messages.c.ticket_id)
                .where(t.tickets.c.incident_id.is_not(None))
            )
            .scalars()
            .all()
        )
    assert len(incidents) == 1 and ":similar:" in incidents[0].key
    assert incidents[0].ticket_count == 5
    assert sorted(members) == sorted(OUTAGE)


def test_posts_naming_one_station_are_one_incident(pipeline: Pipeline, org_engine: Engine) -> None:
    posts = [
        "@RailMinIndia escalator at Kanpur Central not working for a week",
        "@RailMinIndia Kanpur Central station escalator is broken, elderly people struggling",
        "@RailMinIndia at Kanpur Central the escalator has stopped again, please repair",
    ]
    pipeline.ingest(
        "x",
        "test",
        lines(*[tweet(p, author_id=str(5000 + n), minutes=n) for n, p in enumerate(posts)]),
    )
    with org_engine.connect() as conn:
        keys = conn.execute(select(t.incidents.c.key, t.incidents.c.ticket_count)).all()
    assert len(keys) == 1 and ":station:CNB" in keys[0].key and keys[0].ticket_count == 3


def test_signatures_are_datasketch_minhash() -> None:
    from datasketch import MinHash

    words = [
        frozenset({"water", "taps", "dry"}),
        frozenset({"escalator", "broken"}),
        frozenset({"x"}),
    ]
    for row, ws in zip(similar.signatures(words), words, strict=True):
        reference = MinHash(num_perm=similar.NUM_PERM, seed=similar.SEED, scheme="affine32")
        reference.update_batch([w.encode() for w in ws])
        assert row.tolist() == reference.hashvalues.tolist()


words = st.lists(st.text(alphabet="abcdefghij", min_size=2, max_size=6), min_size=1, max_size=30)


@given(words, words)
def test_signatures_see_sets_not_order_and_tell_disjoint_sets_apart(
    one: list[str], other: list[str]
) -> None:
    a, shuffled = similar.signatures([frozenset(one), frozenset(reversed(one))])
    assert similar.similarities(a, [shuffled]).tolist() == [1.0]
    water, same, delay = similar.band_keys(["water", "water", "delay"], np.stack([a, shuffled, a]))
    assert water.tolist() == same.tolist()
    # The problem is part of every band key: posts about other problems never collide.
    assert not set(water.tolist()) & set(delay.tolist())
    apart = frozenset(f"{w}z" for w in other)  # shares no word with `one`
    (b,) = similar.signatures([apart])
    assert similar.similarities(a, [b])[0] < similar.SIMILAR


def test_copies_add_no_bands_and_the_sla_pass_forgets_old_sketches(
    pipeline: Pipeline, org_engine: Engine, clock: FrozenClock
) -> None:
    pipeline.ingest(
        "x", "test", lines(*[tweet(p, author_id=str(6000 + n)) for n, p in enumerate(OUTAGE[:2])])
    )
    copy = OUTAGE[0].replace("@RailMinIndia", "@RailwaySeva 12") + "!!"
    pipeline.ingest("x", "test", lines(tweet(copy, author_id="6009")))
    with org_engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(t.incident_bands)).scalar()
        tickets = conn.execute(select(func.count()).select_from(t.tickets)).scalar()
    assert tickets == 3 and before == 2 * similar.BANDS  # the copy adds no bands
    with org_engine.begin() as conn:
        sla_pass(conn, clock.now() + timedelta(hours=7))
    with org_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.incident_bands)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(t.incident_sketches)).scalar() == 0


def test_an_agent_takes_a_wrongly_grouped_ticket_out_and_it_stays_out(
    pipeline: Pipeline, org_engine: Engine, settings: Settings, clock: FrozenClock
) -> None:
    posts = [tweet(text, author_id=str(7000 + n), minutes=n) for n, text in enumerate(OUTAGE[:4])]
    pipeline.ingest("x", "test", lines(*posts))
    c = t.tickets.c
    with org_engine.connect() as conn:
        iref, count = conn.execute(select(t.incidents.c.ref, t.incidents.c.ticket_count)).one()
        wrong = (
            conn.execute(select(c.ref).where(c.incident_id.is_not(None)).order_by(c.id))
            .scalars()
            .first()
        )
    assert count == 4
    with org_engine.begin() as conn:
        token = issue_token(conn, "rly.agent", "test")
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(settings, org_engine, clock)) as client:
        url = f"/api/v1/tickets/{wrong}/incident/detach"
        assert client.post(url, headers=auth, json={"reason": ""}).status_code == 422
        done = client.post(url, headers=auth, json={"reason": "a different waiting hall"})
        assert done.status_code == 200, done.text
        assert done.json()["incident"] == iref
        assert client.post(url, headers=auth, json={"reason": "again"}).status_code == 422
        detail = client.get(f"/api/v1/incidents/{iref}", headers=auth).json()
        assert detail["ticket_count"] == 3 and wrong not in {x["ref"] for x in detail["tickets"]}
        assert detail["title"].endswith("(3 reports)")
    # A later copy of its words joins the incident; the detached ticket is not pulled back.
    pipeline.ingest("x", "test", lines(tweet(OUTAGE[4], author_id="7099", minutes=20)))
    with org_engine.connect() as conn:
        back = conn.execute(select(c.incident_id).where(c.ref == wrong)).scalar()
        count = conn.execute(select(t.incidents.c.ticket_count)).scalar()
        events = conn.execute(
            select(t.ticket_events.c.action, t.ticket_events.c.note)
            .join(t.tickets, t.tickets.c.id == t.ticket_events.c.ticket_id)
            .where(c.ref == wrong, t.ticket_events.c.action == "incident_detached")
        ).all()
    assert back is None and count == 4
    assert events == [("incident_detached", "a different waiting hall")]


def test_an_incident_across_two_districts_shows_and_answers_each_office_its_own_citizens(
    pipeline: Pipeline, org_engine: Engine, settings: Settings, clock: FrozenClock
) -> None:
    places = ["Kanpur Central, Kanpur 208001"] * 2 + ["Charbagh, Lucknow 226001"] * 3
    pipeline.ingest(
        "x",
        "test",
        lines(
            *[
                tweet(
                    # Not a theft: the model reads a theft on a train as an SOS, and an
                    # SOS never joins an incident.
                    f"@Uppolice traffic jam outside the station when train 12004 arrives at {place}",
                    author_id=str(n),
                    minutes=n,
                )
                for n, place in enumerate(places)
            ]
        ),
    )
    c = t.tickets.c
    with org_engine.begin() as conn:
        iref = conn.execute(select(t.incidents.c.ref)).scalar_one()  # Kanpur's: it came first
        by_unit = conn.execute(
            select(t.units.c.code, c.ref).join(t.units, t.units.c.id == c.unit_id)
        ).all()
        tokens = {u: issue_token(conn, u, "test") for u in ("knp.agent", "lko.agent", "upp.viewer")}
    lucknow = {ref for unit, ref in by_unit if unit == "UPP-LUCKNOW"}
    kanpur = {ref for unit, ref in by_unit if unit == "UPP-KANPUR"}
    assert len(lucknow) == 3 and len(kanpur) == 2

    def auth(user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[user]}"}

    with TestClient(create_app(settings, org_engine, clock)) as client:
        seen = {
            user: client.get(f"/api/v1/incidents/{iref}", headers=auth(user)).json()
            for user in tokens
        }
        reply = {"body": "Traffic police are posted there from today.", "idempotency_key": "grp"}
        answered = client.post(
            f"/api/v1/incidents/{iref}/replies", headers=auth("lko.agent"), json=reply
        )
    assert {x["ref"] for x in seen["knp.agent"]["tickets"]} == kanpur
    assert {x["ref"] for x in seen["lko.agent"]["tickets"]} == lucknow
    assert {x["ref"] for x in seen["upp.viewer"]["tickets"]} == kanpur | lucknow
    assert seen["lko.agent"]["title"].endswith("(3 reports)") and seen["lko.agent"]["unit"] is None
    assert seen["knp.agent"]["ticket_count"] == 2 and seen["knp.agent"]["unit"] == "UPP-KANPUR"
    # Lucknow's officer answers Lucknow's citizens; Kanpur's are Kanpur's to answer.
    assert answered.status_code == 200 and answered.json()["replies_queued"] == 3
    with org_engine.connect() as conn:
        replied = set(
            conn.execute(select(c.ref).join(t.outbox, t.outbox.c.ticket_id == c.id)).scalars()
        )
    assert replied == lucknow


DIRTY_COACH = [
    "@RailMinIndia coach B3 of 12951 is very dirty, toilets stinking",
    "@RailMinIndia toilets in coach B3 of 12951 are filthy and stinking",
    "@RailMinIndia cockroaches and dirt everywhere in coach B3 of 12951, very unhygienic",
    "@RailMinIndia garbage all over coach B3 in train 12951, please send cleaning staff",
]


def _incidents_and_members(engine: Engine) -> tuple[list[tuple[str, int]], dict[str, int | None]]:
    c = t.tickets.c
    with engine.connect() as conn:
        incidents = [
            (r.key, r.ticket_count)
            for r in conn.execute(select(t.incidents.c.key, t.incidents.c.ticket_count))
        ]
        members = {
            text: iid
            for text, iid in conn.execute(
                select(t.messages.c.text, c.incident_id).join(
                    t.tickets, c.id == t.messages.c.ticket_id
                )
            )
        }
    return incidents, members


def test_an_sos_on_a_train_with_an_incident_never_joins_it(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    """A medical emergency in the dirty coach is not a cleanliness report: neither when it
    comes with the reports nor when it comes after the incident is open."""
    sos = [
        "@RailMinIndia passenger unconscious in coach B3 of 12951, need a doctor urgently",
        "@RailMinIndia old man collapsed in coach B3 of 12951, not breathing, please help",
    ]
    posts = [tweet(p, author_id=str(8000 + n), minutes=n) for n, p in enumerate(DIRTY_COACH[:3])]
    pipeline.ingest("x", "test", lines(*posts, tweet(sos[0], author_id="8090", minutes=4)))
    pipeline.ingest(
        "x",
        "test",
        lines(
            tweet(DIRTY_COACH[3], author_id="8003", minutes=10),
            tweet(sos[1], author_id="8091", minutes=11),
        ),
    )
    incidents, members = _incidents_and_members(org_engine)
    assert incidents == [("cleanliness:train:12951", 4)]
    assert all(members[p] is not None for p in DIRTY_COACH)
    assert members[sos[0]] is None and members[sos[1]] is None


def test_posts_about_one_train_but_other_problems_do_not_group(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    """Two about the dirty coach, two about the delay, three triage has no category for:
    the same train, and no incident (each problem has fewer than three reports, and posts
    without a category are never grouped by the train alone)."""
    texts = [
        *DIRTY_COACH[:2],
        "@RailMinIndia train 12951 running 3 hours late today",
        "@RailMinIndia 12951 is late again, no announcement",
        "@RailMinIndia regarding train 12951",
        "@RailMinIndia please look into train 12951 once",
        "@RailMinIndia sir train 12951 matter, kindly check",
    ]
    pipeline.ingest(
        "x",
        "test",
        lines(*[tweet(p, author_id=str(8100 + n), minutes=n) for n, p in enumerate(texts)]),
    )
    incidents, members = _incidents_and_members(org_engine)
    assert incidents == [] and len(members) == len(texts)
    assert set(members.values()) == {None}


def test_an_officer_correcting_the_category_takes_the_ticket_out_of_the_incident(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    from sevadesk.store.users_repo import actor_by_username
    from sevadesk.tickets.actions import change_category

    posts = [tweet(p, author_id=str(8200 + n), minutes=n) for n, p in enumerate(DIRTY_COACH)]
    pipeline.ingest("x", "test", lines(*posts))
    c = t.tickets.c
    with org_engine.begin() as conn:
        ref = conn.execute(select(c.ref).order_by(c.id).limit(1)).scalar_one()
        actor = actor_by_username(conn, "rly.agent")
        assert actor is not None
        change_category(conn, actor, ref, "medical", BASE_TIME)
    with org_engine.connect() as conn:
        left = conn.execute(select(c.incident_id).where(c.ref == ref)).scalar()
        count = conn.execute(select(t.incidents.c.ticket_count)).scalar()
        notes = conn.execute(
            select(t.ticket_events.c.note)
            .join(t.tickets, c.id == t.ticket_events.c.ticket_id)
            .where(c.ref == ref, t.ticket_events.c.action == "incident_detached")
        ).scalars()
        note = next(notes)
    assert left is None and count == 3 and "category corrected to medical" in note


def test_an_sos_has_no_incident_key_whatever_its_category() -> None:
    """Triage may give an emergency the category of its surroundings ("cleanliness" for a
    passenger who collapsed in a dirty coach): as an SOS it is still never grouped."""
    from sevadesk.domain.messages import Entity, TriageResult
    from sevadesk.routing.incidents import incident_key, problem_of

    def triage(kind: str, category: str | None, urgency: str) -> TriageResult:
        text = "coach B3 of 12951 filthy, a passenger collapsed"
        return TriageResult(
            "en",
            True,
            0.9,
            kind,
            category,
            urgency,
            [Entity("train", "12951", 15, 20)],
            text,
            "test",
        )

    assert incident_key(triage("grievance", "cleanliness", "normal")) == "cleanliness:train:12951"
    assert incident_key(triage("sos", "cleanliness", "sos")) is None
    assert incident_key(triage("grievance", "cleanliness", "sos")) is None
    assert problem_of(triage("sos", "cleanliness", "sos")) is None
    assert incident_key(triage("grievance", None, "normal")) is None
