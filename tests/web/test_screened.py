"""Nothing screened out is lost: posts triage kept from becoming tickets wait in the Screened
out queue of the unit routing names for them, scoped like tickets; an officer makes a ticket
of one (through the normal path, once however often asked) or confirms it as noise; both are
audited, counted in the reports and read by `seva train` as labels."""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from sevadesk.config import Settings
from sevadesk.domain.clock import FrozenClock
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from sevadesk.store.users_repo import issue_token
from sevadesk.triage.training import corrections
from sevadesk.web.app import create_app
from tests.factories import BASE_TIME, lines, tweet
from tests.web.signin import sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

LUCKNOW_PRAISE = "@Uppolice thank you Lucknow police for the quick help in Hazratganj"
KANPUR_PRAISE = "@Uppolice Kanpur police did great work today, thank you"
KUMBH_PRAISE = "@RailMinIndia thank you for the wonderful kumbh special trains"
LUCKNOW_COMPLAINT = "@Uppolice my phone was snatched near Hazratganj, Lucknow 226001"


@pytest.fixture
def client(org_engine: Engine, settings: Settings, clock: FrozenClock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, org_engine, clock)) as c:
        yield c


def auth(engine: Engine, username: str) -> dict[str, str]:
    with engine.begin() as conn:
        return {"Authorization": f"Bearer {issue_token(conn, username, 'test')}"}


@pytest.fixture
def posts(pipeline: Pipeline) -> None:
    """Three posts triage screens out (praise for Lucknow, for Kanpur, for a kumbh train) and
    one complaint that becomes a ticket."""
    summary = pipeline.ingest(
        "x",
        "test",
        lines(
            tweet(LUCKNOW_PRAISE, author_id="11", minutes=0),
            tweet(KANPUR_PRAISE, author_id="12", minutes=1),
            tweet(KUMBH_PRAISE, author_id="13", minutes=2),
            tweet(LUCKNOW_COMPLAINT, author_id="14", minutes=3),
        ),
    )
    assert (summary.tickets_opened, summary.not_actionable) == (1, 3)


def screened(client: TestClient, headers: dict[str, str], **params: object) -> list[dict]:  # type: ignore[type-arg]
    answer = client.get("/api/v1/screened", headers=headers, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]  # type: ignore[no-any-return]


def test_each_district_sees_only_the_posts_addressed_to_it(
    client: TestClient, org_engine: Engine, posts: None
) -> None:
    lucknow = screened(client, auth(org_engine, "lko.agent"))
    assert [p["masked_text"] for p in lucknow] == [LUCKNOW_PRAISE]
    assert lucknow[0]["unit"] == "UPP-LUCKNOW" and lucknow[0]["reason"] == "praise"
    assert 0 <= lucknow[0]["score"] < 0.5 and lucknow[0]["ticket"] is None
    kanpur = screened(client, auth(org_engine, "knp.agent"))
    assert [p["masked_text"] for p in kanpur] == [KANPUR_PRAISE]
    everything = screened(client, auth(org_engine, "admin"))
    assert len(everything) == 3  # the complaint that became a ticket is not screened out
    assert LUCKNOW_COMPLAINT not in {p["masked_text"] for p in everything}


def test_a_sibling_district_can_neither_see_nor_decide_the_post(
    client: TestClient, org_engine: Engine, posts: None
) -> None:
    post = screened(client, auth(org_engine, "lko.agent"))[0]["id"]
    kanpur = auth(org_engine, "knp.agent")
    assert post not in {p["id"] for p in screened(client, kanpur)}
    for decision in ("ticket", "noise"):
        answer = client.post(f"/api/v1/screened/{post}/{decision}", headers=kanpur, json={})
        assert answer.status_code == 404, answer.text
    # A read-only role in scope may look but not decide.
    viewer = auth(org_engine, "upp.viewer")
    assert post in {p["id"] for p in screened(client, viewer)}
    assert client.post(f"/api/v1/screened/{post}/ticket", headers=viewer).status_code == 403
    with org_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.triage_decisions)).scalar() == 0
    assert client.post("/api/v1/screened/999999/ticket", headers=kanpur).status_code == 404


def test_newest_first_or_closest_to_the_decision_line_first_page_by_page(
    client: TestClient, org_engine: Engine, posts: None
) -> None:
    admin = auth(org_engine, "admin")
    newest = screened(client, admin)
    assert [p["posted_at"] for p in newest] == sorted(
        (p["posted_at"] for p in newest), reverse=True
    )
    closest = screened(client, admin, order="closest")
    distances = [p["distance"] for p in closest]
    assert distances == sorted(distances)
    assert all(abs(p["distance"] - abs(p["score"] - 0.5)) < 1e-3 for p in closest)
    for order, whole in (("newest", newest), ("closest", closest)):
        seen, cursor = [], None
        while True:
            params = {"order": order, "limit": 1, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/screened", headers=admin, params=params).json()
            seen += [p["id"] for p in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [p["id"] for p in whole]
    bad = client.get("/api/v1/screened", headers=admin, params={"order": "sideways"})
    assert bad.status_code == 422
    # A cursor of one order is refused by the other, in plain words.
    page = client.get("/api/v1/screened", headers=admin, params={"limit": 1}).json()
    crossed = client.get(
        "/api/v1/screened",
        headers=admin,
        params={"order": "closest", "cursor": page["next_cursor"]},
    )
    assert crossed.status_code == 400 and "cursor" in crossed.json()["detail"]


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cursor=st.text(max_size=60))
def test_any_cursor_is_read_or_refused_never_a_server_error(
    client: TestClient, org_engine: Engine, cursor: str
) -> None:
    headers = auth(org_engine, "admin")
    for order in ("newest", "closest"):
        answer = client.get(
            "/api/v1/screened", headers=headers, params={"order": order, "cursor": cursor}
        )
        assert answer.status_code in (200, 400, 422), answer.text


def test_promoting_twice_makes_one_ticket_through_the_normal_path(
    client: TestClient, org_engine: Engine, posts: None, clock: FrozenClock
) -> None:
    rly = auth(org_engine, "rly.agent")
    post = screened(client, rly)[0]
    assert post["masked_text"] == KUMBH_PRAISE
    clock.advance(timedelta(hours=2))  # decided later than it was posted
    first = client.post(
        f"/api/v1/screened/{post['id']}/ticket",
        headers=rly,
        json={"note": "asks for more kumbh trains"},
    )
    assert first.status_code == 201, first.text
    made = first.json()
    # The organisation's kumbh rule routes it and asks for an acknowledgement.
    assert made["route_reason"] == "rule" and made["unit"] == "RLY-NR-LKO"
    again = client.post(f"/api/v1/screened/{post['id']}/ticket", headers=rly)
    assert again.status_code == 200 and again.json()["ref"] == made["ref"]
    assert again.json()["created"] is False
    noise = client.post(f"/api/v1/screened/{post['id']}/noise", headers=rly)
    assert noise.status_code == 422 and made["ref"] in noise.json()["detail"]

    with org_engine.connect() as conn:
        tk = t.tickets.c
        tickets = conn.execute(select(tk.ref, tk.opened_at, tk.route_reason, tk.labels)).all()
        ticket = next(r for r in tickets if r.ref == made["ref"])
        assert sum(r.ref.startswith("RLY-") for r in tickets) == 1
        assert ticket.opened_at == BASE_TIME + timedelta(minutes=2)  # the post's own time
        assert ticket.labels == ["kumbh"]
        outbox = conn.execute(select(t.outbox.c.body, t.outbox.c.idempotency_key)).all()
        assert [o.body for o in outbox] == [f"Registered as {made['ref']}."]
        decisions = conn.execute(select(t.triage_decisions)).all()
        assert [(d.decision, d.actor, d.note) for d in decisions] == [
            ("ticket", "user:rly.agent", "asks for more kumbh trains")
        ]
    detail = client.get(f"/api/v1/tickets/{made['ref']}", headers=rly).json()
    actions = [(e["action"], e["actor"]) for e in detail["events"]]
    assert ("opened", "system") in actions and ("promoted", "user:rly.agent") in actions
    promoted = next(e for e in detail["events"] if e["action"] == "promoted")
    assert promoted["note"] == "asks for more kumbh trains"
    assert [m["text"] for m in detail["messages"]] == [KUMBH_PRAISE]
    assert screened(client, rly) == []  # it left the queue
    assert screened(client, rly, status="promoted")[0]["ticket"] == made["ref"]


def test_confirming_noise_records_the_decision_once(
    client: TestClient, org_engine: Engine, posts: None
) -> None:
    lko = auth(org_engine, "lko.agent")
    post = screened(client, lko)[0]["id"]
    for expected in (True, False):
        answer = client.post(f"/api/v1/screened/{post}/noise", headers=lko, json={"note": "praise"})
        assert answer.status_code == 200 and answer.json()["created"] is expected
    assert screened(client, lko) == []
    assert [p["id"] for p in screened(client, lko, status="noise")] == [post]
    with org_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.triage_decisions)).scalar() == 1
    # Triage was wrong after all: a post confirmed as noise can still become a ticket.
    made = client.post(f"/api/v1/screened/{post}/ticket", headers=lko)
    assert made.status_code == 201 and made.json()["unit"] == "UPP-LUCKNOW"


def test_decisions_are_training_labels_and_the_latest_wins(
    client: TestClient, org_engine: Engine, posts: None
) -> None:
    admin = auth(org_engine, "admin")
    by_text = {p["masked_text"]: p["id"] for p in screened(client, admin)}
    client.post(f"/api/v1/screened/{by_text[KANPUR_PRAISE]}/noise", headers=admin)
    client.post(f"/api/v1/screened/{by_text[LUCKNOW_PRAISE]}/noise", headers=admin)
    client.post(f"/api/v1/screened/{by_text[LUCKNOW_PRAISE]}/ticket", headers=admin)
    labels, _categories = corrections(org_engine)
    screened_labels = {(e.text, e.kind) for e in labels if e.source == "screened"}
    assert screened_labels == {(KANPUR_PRAISE, "feedback"), (LUCKNOW_PRAISE, "grievance")}


def test_reports_count_screened_and_promoted_per_unit_and_day(
    client: TestClient, org_engine: Engine, posts: None
) -> None:
    admin = auth(org_engine, "admin")
    lko_post = screened(client, auth(org_engine, "lko.agent"))[0]["id"]
    client.post(f"/api/v1/screened/{lko_post}/ticket", headers=admin)
    rows = client.get("/api/v1/reports/screened", headers=admin).json()
    day = (BASE_TIME + timedelta(hours=1)).date().isoformat()
    by_unit = {(r["unit"], r["day"]): (r["screened"], r["promoted"]) for r in rows}
    assert by_unit[("UPP-LUCKNOW", day)] == (1, 1)
    assert by_unit[("UPP-KANPUR", day)] == (1, 0)
    lucknow = client.get("/api/v1/reports/screened", headers=auth(org_engine, "lko.agent")).json()
    assert {r["unit"] for r in lucknow} == {"UPP-LUCKNOW"}
    outside = client.get(
        "/api/v1/reports/screened",
        headers=auth(org_engine, "lko.agent"),
        params={"unit": "UPP-KANPUR"},
    )
    assert outside.status_code == 404

    sign_in(client, "admin", "admin-password")
    page = client.get("/desk/reports").text
    screened_today = re.search(r'data-key="screened">.*?<td class="today">(\d+)</td>', page, re.S)
    promoted_today = re.search(r'data-key="promoted">.*?<td class="today">(\d+)</td>', page, re.S)
    assert screened_today and screened_today.group(1) == "3"
    assert promoted_today and promoted_today.group(1) == "1"
    assert 'data-code="UPP-LUCKNOW" data-day="' + day + '"' in page
    export = list(csv.reader(io.StringIO(client.get("/desk/reports.csv").text)))
    header, total = export[0], export[-1]  # the report's last line is the scope's total
    assert total[header.index("name")] == "total"
    totals = {name: int(total[header.index(name)]) for name in ("screened", "promoted")}
    assert totals == {"screened": 3, "promoted": 1}


def test_the_desk_queue_lists_counts_and_decides_in_scope(
    client: TestClient, org_engine: Engine, posts: None
) -> None:
    csrf = sign_in(client, "lko.agent", "lko-password")
    page = client.get("/desk/screened").text
    assert LUCKNOW_PRAISE in page and KANPUR_PRAISE not in page
    assert re.search(r'id="screened-total">1<', page)
    post = re.search(r'data-post="(\d+)"', page)
    assert post
    answer = client.post(
        f"/desk/screened/{post.group(1)}/ticket",
        data={"csrf": csrf, "note": "asked for help"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and "made=UPP-" in answer.headers["location"]
    assert LUCKNOW_PRAISE not in client.get("/desk/screened").text
    # Another district's post, by URL: not found, and nothing decided.
    with org_engine.connect() as conn:
        kanpur = conn.execute(
            select(t.screened_posts.c.message_id)
            .join(t.units, t.units.c.id == t.screened_posts.c.unit_id)
            .where(t.units.c.code == "UPP-KANPUR")
        ).scalar_one()
    refused = client.post(f"/desk/screened/{kanpur}/noise", data={"csrf": csrf})
    assert refused.status_code == 404
    forged = client.post(f"/desk/screened/{kanpur}/noise", data={"csrf": "forged"})
    assert forged.status_code == 403
    with org_engine.connect() as conn:
        status = conn.execute(
            select(t.screened_posts.c.status).where(t.screened_posts.c.message_id == kanpur)
        ).scalar_one()
    assert status == "open"


def test_two_officers_promoting_at_once_make_one_ticket(
    org_engine: Engine, posts: None, clock: FrozenClock
) -> None:
    import threading

    from sevadesk.store.users_repo import actor_by_username
    from sevadesk.tickets import screened as queue

    with org_engine.connect() as conn:
        admin = actor_by_username(conn, "admin")
        lko = actor_by_username(conn, "lko.agent")
        assert admin is not None and lko is not None
        post = queue.list_screened(conn, lko)[0][0]["id"]
    refs: list[str] = []
    start = threading.Barrier(2)

    def promote(actor: object) -> None:
        start.wait()
        with org_engine.begin() as conn:
            refs.append(queue.promote(conn, actor, post, None, clock.now())["ref"])  # type: ignore[arg-type]

    workers = [threading.Thread(target=promote, args=(a,)) for a in (admin, lko)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert len(refs) == 2 and refs[0] == refs[1]
    with org_engine.connect() as conn:
        made = conn.execute(
            select(func.count()).select_from(t.tickets).where(t.tickets.c.ref == refs[0])
        ).scalar()
        decisions = conn.execute(select(func.count()).select_from(t.triage_decisions)).scalar()
    assert (made, decisions) == (1, 1)


def test_a_post_its_author_deleted_cannot_become_a_ticket(
    client: TestClient, org_engine: Engine, posts: None
) -> None:
    from sqlalchemy import update

    from sevadesk.domain.revisions import DELETED_TEXT

    lko = auth(org_engine, "lko.agent")
    post = screened(client, lko)[0]["id"]
    with org_engine.begin() as conn:
        conn.execute(update(t.messages).where(t.messages.c.id == post).values(text=DELETED_TEXT))
    answer = client.post(f"/api/v1/screened/{post}/ticket", headers=lko)
    assert answer.status_code == 422 and "deleted" in answer.json()["detail"]
    assert screened(client, lko) == []  # nothing left to decide: it leaves the queue
