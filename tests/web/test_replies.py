"""Replies from the desk: a refused reply keeps its draft and says in plain words what to
change; the limit is the channel's; templates follow the ticket's language and channel; an
incident reply is sent only after the officer has confirmed the count (a server step)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import orjson
import pytest
from sqlalchemy import Engine, func, select

from sevadesk.channels.whatsapp.payloads import split_webhook
from sevadesk.config import Settings
from sevadesk.domain.clock import FrozenClock
from sevadesk.domain.reply_templates import TemplateRow, fill, suitable
from sevadesk.fakes.graph_api import FakeGraph
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from sevadesk.tickets.queries import reply_templates
from sevadesk.web.app import create_app
from tests.factories import lines, tweet
from tests.web.signin import sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def client(org_engine: Engine, settings: Settings, clock: FrozenClock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, org_engine, clock)) as c:
        yield c


def outbox_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.outbox)).scalar_one())


def x_ticket(pipeline: Pipeline, engine: Engine, text: str, author: str = "501") -> str:
    pipeline.ingest("x", "test", lines(tweet(text, author_id=author)))
    with engine.connect() as conn:
        return str(
            conn.execute(
                select(t.tickets.c.ref).order_by(t.tickets.c.id.desc()).limit(1)
            ).scalar_one()
        )


def whatsapp_ticket(pipeline: Pipeline, engine: Engine, text: str) -> str:
    graph = FakeGraph("token", "secret")
    batch = split_webhook(graph.message_body("919812345678", text))
    pipeline.ingest("whatsapp", "wa-webhook", [orjson.dumps(m).decode() for m in batch.messages])
    with engine.connect() as conn:
        return str(
            conn.execute(
                select(t.tickets.c.ref).where(t.tickets.c.channel == "whatsapp")
            ).scalar_one()
        )


def test_a_reply_refused_for_a_phone_number_comes_back_with_its_draft_in_plain_words(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    ref = x_ticket(pipeline, org_engine, "@RailMinIndia fan not working in coach S3 of 12951")
    csrf = sign_in(client, "rly.agent", "rly-password")
    draft = "We have informed the coach attendant, call him on 9876543210 if it stops again."
    private = "Attendant Ramesh will come to S3."
    answer = client.post(
        f"/desk/t/{ref}/reply",
        data={"csrf": csrf, "body": draft, "private_body": private, "key": "k1"},
    )
    assert answer.status_code == 422
    html = answer.text
    assert draft in html and private in html  # both boxes keep what was typed
    error = re.search(r'id="reply-error">(.*?)</p>', html, re.S)
    assert error is not None
    said = error.group(1)
    assert "Your public reply contains a phone number (“98765…”)" in said
    assert "Remove it or send it as a private message." in said
    # No internal field name, no character offsets, and the number is not repeated whole.
    assert "private_body" not in said and "characters" not in said and "9876543210" not in said
    assert outbox_count(org_engine) == 0
    # Corrected, the same form sends once.
    fixed = client.post(
        f"/desk/t/{ref}/reply",
        data={"csrf": csrf, "body": "We have informed the coach attendant.", "key": "k1"},
        follow_redirects=False,
    )
    assert fixed.status_code == 303 and fixed.headers["location"].endswith("?flash=sent")
    assert outbox_count(org_engine) == 1


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("   ", "The reply is empty."),
        (
            "Sorry. " * 50,
            "Your reply is 349 characters as X counts them; one post holds 280. Shorten it by 69",
        ),
        ("Ask {citizen_name} to wait.", "still contains {citizen_name} from the template"),
    ],
)
def test_every_refusal_of_the_reply_form_keeps_the_draft_and_says_what_to_change(
    client: TestClient, pipeline: Pipeline, org_engine: Engine, body: str, says: str
) -> None:
    ref = x_ticket(pipeline, org_engine, "@RailMinIndia fan not working in coach S3 of 12951")
    csrf = sign_in(client, "rly.agent", "rly-password")
    answer = client.post(f"/desk/t/{ref}/reply", data={"csrf": csrf, "body": body, "key": "k"})
    assert answer.status_code == 422 and says in answer.text
    if body.strip():
        assert body.strip() in answer.text
    assert outbox_count(org_engine) == 0


def test_a_closed_ticket_and_a_read_only_role_are_refused_in_plain_words(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    ref = x_ticket(
        pipeline, org_engine, "@Uppolice my bike was stolen in Gomti Nagar, Lucknow 226010"
    )
    csrf = sign_in(client, "lko.agent", "lko-password")
    client.post(
        f"/desk/t/{ref}/status", data={"csrf": csrf, "status": "rejected", "note": "a duplicate"}
    )
    closed = client.post(
        f"/desk/t/{ref}/reply", data={"csrf": csrf, "body": "Found it", "key": "a"}
    )
    assert (
        closed.status_code == 422 and "This ticket is rejected: it takes no replies." in closed.text
    )
    assert "Found it" in closed.text
    client.post("/desk/logout", data={"csrf": csrf})
    csrf = sign_in(client, "upp.viewer", "viewer-password")
    viewer = client.post(f"/desk/t/{ref}/reply", data={"csrf": csrf, "body": "Hello", "key": "b"})
    assert viewer.status_code == 422 and "can read tickets but not reply" in viewer.text
    # Another district's officer: no ticket, but the draft is handed back to copy.
    client.post("/desk/logout", data={"csrf": csrf})
    csrf = sign_in(client, "knp.agent", "knp-password")
    other = client.post(f"/desk/t/{ref}/reply", data={"csrf": csrf, "body": "Mine?", "key": "c"})
    assert other.status_code == 404 and "Mine?" in other.text and ref in other.text


def test_the_limit_is_the_channels_on_the_page_and_on_the_server(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    wa = whatsapp_ticket(pipeline, org_engine, "Train 12951 coach S3 fan not working since Kota")
    csrf = sign_in(client, "admin", "admin-password")  # a WhatsApp post the bot has not routed
    page = client.get(f"/desk/t/{wa}").text
    assert 'data-limit="4096"' in page and "0 / 4096" in page
    long = ("The fan will be repaired at the next station. " * 20).strip()  # 939: fine
    assert client.get("/desk/count", params={"text": long, "channel": "whatsapp"}).json() == {
        "weighted": len(long),
        "limit": 4096,
    }
    sent = client.post(
        f"/desk/t/{wa}/reply", data={"csrf": csrf, "body": long, "key": "w"}, follow_redirects=False
    )
    assert sent.status_code == 303
    too_long = client.post(
        f"/desk/t/{wa}/reply", data={"csrf": csrf, "body": "x" * 4100, "key": "w2"}
    )
    assert too_long.status_code == 422
    assert (
        "Your reply is 4,100 characters; WhatsApp allows 4,096. Shorten it by 4." in too_long.text
    )


def test_templates_follow_the_tickets_language_and_channel(org_engine: Engine) -> None:
    with org_engine.connect() as conn:
        path = conn.execute(
            select(t.units.c.path).where(t.units.c.code == "UPP-LUCKNOW")
        ).scalar_one()
        rly = conn.execute(select(t.units.c.path).where(t.units.c.code == "RLY")).scalar_one()

        def offered(unit: str, language: str, channel: str) -> set[tuple[str, str | None]]:
            return {(r.code, r.language) for r in reply_templates(conn, unit, language, channel)}

        hindi_x = offered(rly, "hi", "x")
        hindi_wa = offered(rly, "hi", "whatsapp")
        english_wa = offered(rly, "en", "whatsapp")
        police_hi = offered(path, "hi", "x")
        roman = offered(rly, "hi-Latn", "x")
    # A Hindi X ticket: the Hindi texts, X's DM request, the any-language one; English only
    # for a code no one has translated (ack).
    assert hindi_x == {("dm_pnr", "hi"), ("forwarded", "hi"), ("ref_only", None), ("ack", "en")}
    assert hindi_wa == {("share_pnr", "hi"), ("forwarded", "hi"), ("ref_only", None), ("ack", "en")}
    assert ("share_pnr", "en") in english_wa and not {c for c, _ in english_wa} & {"dm_pnr"}
    assert ("police_ack", "en") in police_hi and ("police_ack", "en") not in hindi_x
    assert ("dm_pnr", "en") in roman  # romanised Hindi writers read English


def test_template_variables_are_filled_and_a_specific_template_wins() -> None:
    rows = [
        TemplateRow("ack", "en", None, "shared"),
        TemplateRow("ack", "en", "x", "for X"),
        TemplateRow("ack", "en", None, "the office's own", unit_specific=True),
        TemplateRow("ack", None, None, "any language"),
    ]
    assert [r.body for r in suitable(rows, "en", "x")] == ["the office's own"]
    assert [r.body for r in suitable(rows, "hi", "whatsapp")] == ["any language"]
    values = {"ref": "RLY-000001", "office": "DRM Lucknow"}
    assert fill("{ref} is with {office}; {due}", values) == "RLY-000001 is with DRM Lucknow; {due}"


def test_the_ticket_page_offers_only_the_tickets_templates_filled_in(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    ref = x_ticket(pipeline, org_engine, "@RailMinIndia कोच S3 में पंखा नहीं चल रहा, ट्रेन 12951")
    sign_in(client, "rly.agent", "rly-password")
    page = client.get(f"/desk/t/{ref}").text
    picker = re.search(r'<select id="template-picker".*?</select>', page, re.S)
    assert picker is not None
    options = re.findall(r'data-code="([^"]+)" data-language="([^"]*)"', picker.group(0))
    assert ("dm_pnr", "hi") in options and ("dm_pnr", "en") not in options
    assert ("share_pnr", "hi") not in options  # a WhatsApp template on an X ticket
    assert f"संदर्भ {ref}।" in picker.group(0)  # {ref} filled
    assert "@" in picker.group(0) and "{citizen_name}" not in picker.group(0)


def incident_of_five(pipeline: Pipeline, engine: Engine) -> str:
    texts = [
        "@RailMinIndia coach B3 of 12951 is very dirty, toilets stinking",
        "@RailMinIndia toilets in coach B3 of 12951 are filthy and stinking",
        "@RailMinIndia cockroaches and dirt everywhere in coach B3 of 12951, very unhygienic",
        "@RailMinIndia garbage all over coach B3 in train 12951, please send cleaning staff",
        "@RailMinIndia coach B3 of 12951 is very dirty, no cleaning since Delhi",
    ]
    pipeline.ingest(
        "x",
        "test",
        lines(*[tweet(p, author_id=str(900 + n), minutes=n) for n, p in enumerate(texts)]),
    )
    with engine.connect() as conn:
        return str(conn.execute(select(t.incidents.c.ref)).scalar_one())


def test_an_incident_reply_shows_the_count_and_sends_only_when_confirmed(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    iref = incident_of_five(pipeline, org_engine)
    with org_engine.connect() as conn:
        members = conn.execute(
            select(func.count()).select_from(t.tickets).where(t.tickets.c.incident_id.is_not(None))
        ).scalar_one()
    csrf = sign_in(client, "rly.agent", "rly-password")
    body = "Cleaning staff will attend coach B3 at Kanpur Central."
    first = client.post(
        f"/desk/incidents/{iref}/reply", data={"csrf": csrf, "body": body, "key": "clean"}
    )
    assert first.status_code == 200 and outbox_count(org_engine) == 0
    assert f"This reply goes to {members} citizens ({members} tickets) on X." in first.text
    token = re.search(r'name="confirm" value="([^"]+)"', first.text)
    audience = re.search(r'name="audience" value="([^"]+)"', first.text)
    assert token and audience
    confirmed = {"csrf": csrf, "body": body, "key": "clean", "confirm": token.group(1)}
    confirmed["audience"] = audience.group(1)
    # A confirmation is for that text only: another text is shown for confirming again.
    swapped = client.post(
        f"/desk/incidents/{iref}/reply", data={**confirmed, "body": "Something else entirely."}
    )
    assert swapped.status_code == 422 and "confirm again" in swapped.text
    assert outbox_count(org_engine) == 0
    sent = client.post(f"/desk/incidents/{iref}/reply", data=confirmed, follow_redirects=False)
    assert sent.status_code == 303 and outbox_count(org_engine) == members
    assert f"Reply queued for {members} tickets" in client.get(sent.headers["location"]).text
    # Confirmed again (a double click), nothing more is queued.
    client.post(f"/desk/incidents/{iref}/reply", data=confirmed, follow_redirects=False)
    assert outbox_count(org_engine) == members


def test_a_confirmed_incident_reply_is_held_when_the_incident_grew_since(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    iref = incident_of_five(pipeline, org_engine)
    csrf = sign_in(client, "rly.agent", "rly-password")
    body = "Cleaning staff will attend coach B3."
    first = client.post(
        f"/desk/incidents/{iref}/reply", data={"csrf": csrf, "body": body, "key": "k"}
    )
    token = re.search(r'name="confirm" value="([^"]+)"', first.text)
    audience = re.search(r'name="audience" value="([^"]+)"', first.text)
    assert token and audience
    pipeline.ingest(
        "x",
        "test",
        lines(tweet("@RailMinIndia coach B3 of 12951 toilets are filthy", author_id="999")),
    )
    held = client.post(
        f"/desk/incidents/{iref}/reply",
        data={
            "csrf": csrf,
            "body": body,
            "key": "k",
            "confirm": token.group(1),
            "audience": audience.group(1),
        },
    )
    assert held.status_code == 422 and "confirm again with the new count" in held.text
    assert outbox_count(org_engine) == 0


def test_an_admin_adds_edits_and_deletes_a_template_and_each_change_is_recorded(
    client: TestClient, org_engine: Engine
) -> None:
    csrf = sign_in(client, "admin", "admin-password")
    page = client.get("/desk/admin/templates")
    assert page.status_code == 200 and "dm_pnr" in page.text and "organisation file" in page.text
    form = {"csrf": csrf, "code": "train_late", "language": "hi", "channel": "whatsapp"}
    bad = client.post("/desk/admin/templates/save", data={**form, "body": "{reff} देर से चल रही है"})
    assert bad.status_code == 400 and "{reff}, which is not a variable" in bad.text
    added = client.post(
        "/desk/admin/templates/save", data={**form, "body": "ट्रेन देर से चल रही है। {ref}"}
    )
    assert added.status_code == 200 and "Template train_late saved." in added.text
    with org_engine.connect() as conn:
        row = conn.execute(
            select(t.reply_templates).where(t.reply_templates.c.code == "train_late")
        ).one()
    assert (row.language, row.channel, row.source, row.updated_by) == (
        "hi",
        "whatsapp",
        "desk",
        "user:admin",
    )
    twice = client.post("/desk/admin/templates/save", data={**form, "body": "दोबारा {ref}"})
    assert twice.status_code == 400 and "already exists" in twice.text
    edited = client.post(
        "/desk/admin/templates/save",
        data={**form, "id": str(row.id), "body": "ट्रेन लगभग दो घंटे देर से है। {ref}"},
    )
    assert edited.status_code == 200
    deleted = client.post("/desk/admin/templates/delete", data={"csrf": csrf, "id": str(row.id)})
    assert deleted.status_code == 200 and "Template train_late deleted." in deleted.text
    with org_engine.connect() as conn:
        history = list(
            conn.execute(
                select(t.config_changes.c.actor, t.config_changes.c.summary).order_by(
                    t.config_changes.c.id
                )
            )
        )
        gone = conn.execute(
            select(func.count())
            .select_from(t.reply_templates)
            .where(t.reply_templates.c.code == "train_late")
        ).scalar_one()
    summaries = [s for a, s in history if a == "user:admin"]
    assert [s.split(" (")[0] for s in summaries] == [
        "reply template train_late",
        "reply template train_late",
        "reply template train_late",
    ]
    assert [s.rsplit(" ", 1)[-1] for s in summaries] == ["added", "edited", "deleted"]
    assert gone == 0
    assert (
        client.post(
            "/desk/admin/templates/save",
            data={"csrf": "forged", **{k: v for k, v in form.items() if k != "csrf"}, "body": "x"},
        ).status_code
        == 403
    )


def test_only_an_organisation_admin_manages_templates(client: TestClient) -> None:
    csrf = sign_in(client, "lko.agent", "lko-password")
    assert client.get("/desk/admin/templates").status_code == 403
    answer = client.post(
        "/desk/admin/templates/save",
        data={"csrf": csrf, "code": "x1", "body": "hello"},
    )
    assert answer.status_code == 403


def test_an_open311_ticket_says_where_it_is_answered_and_takes_no_reply_message(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    from sqlalchemy import update

    ref = x_ticket(pipeline, org_engine, "@RailMinIndia fan not working in coach S3 of 12951")
    with org_engine.begin() as conn:  # as if it had come through Open311
        conn.execute(update(t.tickets).where(t.tickets.c.ref == ref).values(channel="open311"))
    csrf = sign_in(client, "rly.agent", "rly-password")
    page = client.get(f"/desk/t/{ref}").text
    assert 'id="reply-status-page"' in page and 'id="reply-body"' not in page
    assert "answered on their public status page" in page
    refused = client.post(f"/desk/t/{ref}/reply", data={"csrf": csrf, "body": "Fixed.", "key": "o"})
    assert refused.status_code == 422 and "give your answer as the reason" in refused.text
    assert 'id="kept-draft" rows="3" readonly>Fixed.<' in refused.text  # to copy into the status
    assert outbox_count(org_engine) == 0


def test_a_refusal_speaks_the_desks_language(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    ref = x_ticket(pipeline, org_engine, "@RailMinIndia fan not working in coach S3 of 12951")
    csrf = sign_in(client, "rly.agent", "rly-password")
    client.cookies.set("seva_lang", "hi")
    answer = client.post(
        f"/desk/t/{ref}/reply",
        data={"csrf": csrf, "body": "कृपया 9876543210 पर कॉल करें", "key": "h"},
    )
    assert answer.status_code == 422
    assert "आपके सार्वजनिक जवाब में फ़ोन नंबर (“98765…”) है।" in answer.text
    assert "कृपया 9876543210 पर कॉल करें" in answer.text
