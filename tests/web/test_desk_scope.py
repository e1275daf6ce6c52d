"""Every desk route keeps to the officer's scope and refuses forms without the CSRF token."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from sevadesk.config import Settings
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from sevadesk.web.app import create_app
from tests.factories import lines, tweet
from tests.web.signin import sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def client(org_engine: Engine, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, org_engine)) as c:
        yield c


@pytest.fixture
def kanpur_ref(pipeline: Pipeline, org_engine: Engine) -> str:
    pipeline.ingest(
        "x", "test", lines(tweet("@Uppolice chain snatching in Kanpur, PIN 208001", author_id="9"))
    )
    with org_engine.connect() as conn:
        return str(conn.execute(select(t.tickets.c.ref)).scalar_one())


def events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.ticket_events)).scalar_one())


def test_pages_need_a_session(client: TestClient) -> None:
    for path in ("/desk", "/desk/t/UPP-000001", "/desk/events"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/desk/login"


FORMS = {
    "reply": {"body": "We are on it."},
    "status": {"status": "in_progress"},
    "category": {"category": "traffic"},
    "assign": {"username": "lko.agent"},
    "transfer": {"unit": "UPP-LUCKNOW", "reason": "wrong district"},
    "note": {"note": "looking"},
    "detach": {"reason": "not the same train"},
    "merge": {"into": "UPP-000009"},
    "no-such-form": {},  # not a form at all: also a 404, and nothing happens
}


def test_every_ticket_form_is_checked_below() -> None:
    from sevadesk.web.ui.desk import _TICKET_FORMS

    # The reply form has a route of its own (web/ui/replies.py): refused, it keeps the draft.
    assert set(_TICKET_FORMS) | {"reply"} == set(FORMS) - {"no-such-form"}


@pytest.mark.parametrize(("path", "form"), FORMS.items())
def test_no_action_reaches_a_ticket_outside_the_scope(
    client: TestClient, kanpur_ref: str, org_engine: Engine, path: str, form: dict[str, str]
) -> None:
    csrf = sign_in(client, "lko.agent", "lko-password")
    before = events(org_engine)
    assert client.get(f"/desk/t/{kanpur_ref}").status_code == 404
    answer = client.post(
        f"/desk/t/{kanpur_ref}/{path}", data={**form, "csrf": csrf}, follow_redirects=False
    )
    assert answer.status_code == 404
    assert events(org_engine) == before
    assert kanpur_ref not in client.get("/desk").text


def test_a_form_without_the_sessions_csrf_token_is_refused(
    client: TestClient, kanpur_ref: str, org_engine: Engine
) -> None:
    sign_in(client, "knp.agent", "knp-password")
    before = events(org_engine)
    answer = client.post(f"/desk/t/{kanpur_ref}/note", data={"note": "x", "csrf": "forged"})
    assert answer.status_code == 403 and events(org_engine) == before
    csrf = sign_in(client, "knp.agent", "knp-password")
    ok = client.post(
        f"/desk/t/{kanpur_ref}/note",
        data={"note": "called the citizen", "csrf": csrf},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and events(org_engine) == before + 1


def test_signing_out_ends_the_session(client: TestClient) -> None:
    csrf = sign_in(client, "lko.agent", "lko-password")
    client.post("/desk/logout", data={"csrf": csrf}, follow_redirects=False)
    assert client.get("/desk", follow_redirects=False).status_code == 303


def test_queues_and_search_filter_the_inbox(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    pipeline.ingest(
        "x",
        "test",
        lines(
            tweet("@Uppolice my phone was snatched near Hazratganj, Lucknow 226001", author_id="1"),
            tweet(
                "@Uppolice fake call centre cheated me of Rs 5000 online, Gomti Nagar, Lucknow 226010",
                author_id="2",
                username="citizen_b",
                minutes=1,
            ),
        ),
    )
    with org_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.tickets)).scalar_one() == 2
    sign_in(client, "lko.agent", "lko-password")
    assert "Hazratganj" in client.get("/desk?q=hazratganj").text
    assert "Gomti" not in client.get("/desk?q=hazratganj").text
    sos = client.get("/desk?queue=sos&fragment=1").text
    assert "Hazratganj" in sos and "Gomti" not in sos  # a snatching is an SOS; a fraud is not
    assert "Gomti" in client.get("/desk?category=cyber_fraud&fragment=1").text
    assert "No tickets here" in client.get("/desk?queue=mine").text
    assert client.get("/desk?queue=mine&fragment=1").text.count("<tr") == 1
    assert client.get("/desk?queue=nonsense").status_code == 200  # unknown queues are ignored


def test_merging_moves_the_messages_and_audits_both_tickets(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    pipeline.ingest(
        "x",
        "test",
        lines(
            tweet("@Uppolice my phone was snatched near Hazratganj, Lucknow 226001", author_id="1"),
            tweet(
                "@Uppolice phone snatching at Hazratganj crossing, Lucknow 226001, please act",
                author_id="2",
                minutes=40,
            ),
        ),
    )
    with org_engine.connect() as conn:
        first, second = (
            conn.execute(select(t.tickets.c.ref).order_by(t.tickets.c.id)).scalars().all()
        )
    csrf = sign_in(client, "lko.agent", "lko-password")
    answer = client.post(
        f"/desk/t/{second}/merge",
        data={"csrf": csrf, "into": first.lower()},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and "error" not in answer.headers["location"]
    with org_engine.connect() as conn:
        rows = dict(conn.execute(select(t.tickets.c.ref, t.tickets.c.status)).all())
        count = conn.execute(
            select(t.tickets.c.message_count).where(t.tickets.c.ref == first)
        ).scalar_one()
        actions = set(conn.execute(select(t.ticket_events.c.action)).scalars())
    assert rows[second] == "merged" and count == 2 and {"merged", "merged_in"} <= actions
    again = client.post(
        f"/desk/t/{first}/merge", data={"csrf": csrf, "into": second}, follow_redirects=False
    )
    assert "error=" in again.headers["location"]  # not into a merged ticket


def test_the_incident_view_lists_its_tickets_and_answers_them_all(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    pipeline.ingest(
        "x",
        "test",
        lines(
            *[
                tweet(
                    f"@RailMinIndia train 12951 coach B{i} has no water at all",
                    author_id=str(50 + i),
                    minutes=i,
                )
                for i in range(4)
            ]
        ),
    )
    with org_engine.connect() as conn:
        ref = conn.execute(select(t.incidents.c.ref)).scalar_one()
        tickets = (
            conn.execute(select(t.tickets.c.ref).where(t.tickets.c.incident_id.is_not(None)))
            .scalars()
            .all()
        )
    csrf = sign_in(client, "rly.agent", "rly-password")
    page = client.get(f"/desk/incidents/{ref}").text
    assert all(f'data-ref="{r}"' in page for r in tickets)
    body = "Water will be filled at Kota."
    check = client.post(f"/desk/incidents/{ref}/reply", data={"csrf": csrf, "body": body})
    # First the count (nothing queued), then the officer confirms it.
    assert f"This reply goes to {len(tickets)} citizens" in check.text
    confirm = {
        name: re.search(rf'name="{name}" value="([^"]+)"', check.text).group(1)  # type: ignore[union-attr]
        for name in ("confirm", "audience")
    }
    client.post(f"/desk/incidents/{ref}/reply", data={"csrf": csrf, "body": body, **confirm})
    with org_engine.connect() as conn:
        queued = conn.execute(
            select(func.count())
            .select_from(t.outbox)
            .where(t.outbox.c.body == "Water will be filled at Kota.")
        ).scalar_one()
    assert queued == len(tickets) >= 3
    sign_in(client, "lko.agent", "lko-password")
    assert client.get(f"/desk/incidents/{ref}").status_code == 404  # outside a police agent's scope


def test_full_text_search_finds_words_in_any_script_and_survives_any_input(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from sevadesk.store.users_repo import actor_by_username
    from sevadesk.tickets.queries import TicketFilter, list_tickets

    pipeline.ingest(
        "x",
        "test",
        lines(
            tweet("@Uppolice हज़रतगंज में मेरा मोबाइल छीन लिया गया, लखनऊ 226001", author_id="1"),
            tweet(
                "@Uppolice my bike was stolen in Gomti Nagar, Lucknow 226010, please help",
                author_id="2",
                username="citizen_b",
                minutes=1,
            ),
        ),
    )
    sign_in(client, "lko.agent", "lko-password")
    assert "मोबाइल" in client.get("/desk?q=मोबाइल").text
    assert "Gomti" in client.get("/desk?q=gomt").text  # the last word is a prefix
    assert "Gomti" not in client.get("/desk?q=bike+मोबाइल").text  # every word required
    assert "Gomti" not in client.get("/desk?q=ike").text  # words, not substrings
    with org_engine.connect() as conn:
        gomti = conn.execute(
            select(t.tickets.c.ref).where(t.tickets.c.summary.like("%Gomti%"))
        ).scalar_one()
    found = client.get("/desk", params={"q": gomti.lower(), "fragment": "1"}).text
    assert (
        f'data-ref="{gomti}"' in found and found.count("<tr") == 1
    )  # a reference finds its ticket

    with org_engine.connect() as conn:
        agent = actor_by_username(conn, "lko.agent")
    assert agent is not None

    @settings(max_examples=60, deadline=None)
    @given(st.text(max_size=30))
    def hostile(text: str) -> None:
        with org_engine.connect() as conn:
            list_tickets(conn, agent, TicketFilter(search=text), 10, None)

    hostile()
    for text in ['"', "NEAR(a b)", "a OR b*", "-x", "*", "\\'", "a AND"]:
        assert client.get("/desk", params={"q": text}).status_code == 200


def test_the_inbox_filters_by_label_and_sorts(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    pipeline.ingest(
        "x",
        "test",
        lines(
            tweet(
                "@RailMinIndia kumbh special train coach B2 no water, very crowded", author_id="1"
            ),
            tweet(
                "@RailMinIndia train 12951 coach S4 fan not working",
                author_id="2",
                username="citizen_b",
                minutes=1,
            ),
        ),
    )
    with org_engine.connect() as conn:
        refs = conn.execute(select(t.tickets.c.ref).order_by(t.tickets.c.id)).scalars().all()
    assert len(refs) == 2
    sign_in(client, "rly.agent", "rly-password")
    labelled = client.get("/desk?label=kumbh&fragment=1").text
    assert refs[0] in labelled and refs[1] not in labelled
    newest = client.get("/desk?fragment=1").text
    oldest = client.get("/desk?sort=oldest&fragment=1").text
    assert newest.index(refs[1]) < newest.index(refs[0]) and oldest.index(refs[0]) < oldest.index(
        refs[1]
    )
    assert client.get("/desk?sort=due").status_code == 200
    assert client.get("/desk?sort=priority").status_code == 200


def test_submitting_the_same_reply_form_twice_queues_one_reply(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    pipeline.ingest(
        "x", "test", lines(tweet("@Uppolice my phone was snatched near Hazratganj, Lucknow 226001"))
    )
    with org_engine.connect() as conn:
        ref = conn.execute(select(t.tickets.c.ref)).scalar_one()
    sign_in(client, "lko.agent", "lko-password")
    page = client.get(f"/desk/t/{ref}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    key = re.search(r'name="key" value="([^"]+)"', page)
    assert csrf and key
    form = {"csrf": csrf.group(1), "key": key.group(1), "body": "Police are on the way."}
    client.post(f"/desk/t/{ref}/reply", data=form)
    client.post(f"/desk/t/{ref}/reply", data=form)  # a double click, or the browser resending
    with org_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.outbox)).scalar_one() == 1


def test_the_ticket_page_shows_its_incident_and_takes_it_out(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    campaign = "no drinking water at the waiting hall, taps dry, passengers thirsty since morning"
    pipeline.ingest(
        "x",
        "test",
        lines(*[tweet(f"@RailMinIndia {campaign}", author_id=str(80 + n)) for n in range(3)]),
    )
    with org_engine.connect() as conn:
        ref, incident = conn.execute(
            select(t.tickets.c.ref, t.incidents.c.ref)
            .join(t.incidents, t.incidents.c.id == t.tickets.c.incident_id)
            .order_by(t.tickets.c.id)
        ).first()
    csrf = sign_in(client, "rly.agent", "rly-password")
    page = client.get(f"/desk/t/{ref}")
    assert (
        f'href="/desk/incidents/{incident}"' in page.text and f"/desk/t/{ref}/detach" in page.text
    )
    answer = client.post(
        f"/desk/t/{ref}/detach",
        data={"csrf": csrf, "reason": "another halt"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and "flash=1" in answer.headers["location"]
    assert f'href="/desk/incidents/{incident}"' not in client.get(f"/desk/t/{ref}").text


def test_the_workspace_offers_only_the_officers_and_offices_the_user_may_use(
    client: TestClient, kanpur_ref: str, org_engine: Engine
) -> None:
    csrf = sign_in(client, "knp.agent", "knp-password")
    page = client.get(f"/desk/t/{kanpur_ref}").text
    assignees = re.findall(r"<option>([^<]+)</option>", page.split('id="assignee"')[1])
    targets = re.findall(
        r'<option value="([^"]+)"', page.split('id="unit"')[1].split("</select>")[0]
    )
    assert (
        "knp.agent" in assignees and "lko.agent" not in assignees and "rly.agent" not in assignees
    )
    # Transfers go to the organisation's other offices, never to another agency.
    assert set(targets) == {"UPP", "UPP-Z-LKO", "UPP-LUCKNOW"}
    refused = client.post(
        f"/desk/t/{kanpur_ref}/transfer",
        data={"csrf": csrf, "unit": "RLY-NR-LKO", "reason": "about a train"},
        follow_redirects=False,
    )
    assert "error=" in refused.headers["location"] and "organisation" in refused.headers["location"]
    with org_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.transfer_offers)).scalar_one() == 0
