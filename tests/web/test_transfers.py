"""Transfers as the offices live them, through the desk and the API, on SQLite and PostgreSQL:
an offer is seen only by the office it is offered to (read-only until it accepts), accepted
or returned with a reason, the sender hears the outcome, the picker never starts at the top
of the tree, and a resolved ticket is reopened or appealed with a reason."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, func, select

from sevadesk.config import Settings
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from sevadesk.store.users_repo import issue_token
from sevadesk.web.app import create_app
from tests.web.signin import sign_in
from tests.web.transfer_world import PHONE, add_agra, lucknow_tickets

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@dataclass
class Desk:
    """One officer's browser session: a client with its CSRF token."""

    client: TestClient
    csrf: str

    def get(self, path: str, **kw: object):  # type: ignore[no-untyped-def]
        return self.client.get(path, **kw)  # type: ignore[arg-type]

    def post(self, path: str, data: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return self.client.post(
            path, data={**(data or {}), "csrf": self.csrf}, follow_redirects=False
        )


@dataclass
class World:
    engine: Engine
    refs: list[str]
    lko: Desk
    knp: Desk
    agra: Desk
    viewer: Desk


@pytest.fixture
def w(org_engine: Engine, pipeline: Pipeline, settings: Settings) -> Iterator[World]:
    add_agra(org_engine)
    refs = lucknow_tickets(pipeline, org_engine)
    app = create_app(settings, org_engine)
    clients = [TestClient(app) for _ in range(4)]
    for c in clients:
        c.__enter__()
    try:
        desks = [
            Desk(c, sign_in(c, user, password))
            for c, (user, password) in zip(
                clients,
                [
                    ("lko.agent", "lko-password"),
                    ("knp.agent", "knp-password"),
                    ("agra.agent", "agra-password"),
                    ("upp.viewer", "viewer-password"),
                ],
                strict=True,
            )
        ]
        yield World(org_engine, refs, *desks)
    finally:
        for c in clients:
            c.__exit__(None, None, None)


def offer(w: World, ref: str, reason: str = "the thief went to Kanpur") -> None:
    answer = w.lko.post(f"/desk/t/{ref}/transfer", {"unit": "UPP-KANPUR", "reason": reason})
    assert answer.status_code == 303 and "flash=1" in answer.headers["location"], answer.headers


def nav_count(html: str) -> int | None:
    found = re.search(r'id="offers-count">(\d+)<', html)
    return int(found.group(1)) if found else None


def offer_state(w: World) -> list[tuple[str, str]]:
    o = t.transfer_offers.c
    with w.engine.connect() as conn:
        return [
            (r.status, r.decided_by or "")
            for r in conn.execute(select(o.status, o.decided_by).order_by(o.id))
        ]


def notifications(w: World) -> list[tuple[str, str, str]]:
    n, u = t.notifications.c, t.users.c
    with w.engine.connect() as conn:
        return [
            (r.username, r.kind, r.message)
            for r in conn.execute(
                select(u.username, n.kind, n.message)
                .join(t.users, u.id == n.user_id)
                .where(n.kind.like("offer_%"))
                .order_by(n.id)
            )
        ]


def test_the_offered_office_sees_the_offer_counted_and_opens_it_read_only(w: World) -> None:
    ref = w.refs[0]
    assert nav_count(w.knp.get("/desk").text) is None
    offer(w, ref)
    inbox = w.knp.get("/desk").text
    assert nav_count(inbox) == 1
    assert f'data-ref="{ref}"' not in inbox  # not theirs yet
    queue = w.knp.get("/desk/offers").text
    row = re.search(rf'<tr data-ref="{ref}".*?</tr>', queue, re.S)
    assert row, queue
    cells = row.group(0)
    for seen in ("UPP-LUCKNOW", "Lucknow police", "lko.agent", "the thief went to Kanpur"):
        assert seen in cells
    assert "[phone]" in cells and PHONE not in cells
    # The ticket's own address leads the receiving office to the offer's read-only page.
    moved = w.knp.get(f"/desk/t/{ref}", follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == f"/desk/offers/{ref}"
    page = w.knp.get(f"/desk/offers/{ref}").text
    assert "Read-only" in page and "[phone]" in page
    assert PHONE not in page and "lko_rider" not in page  # no citizen's number or handle
    forms = set(re.findall(r'<form method="post" action="([^"]+)"', page))
    assert forms == {f"/desk/offers/{ref}/accept", f"/desk/offers/{ref}/return", "/desk/logout"}
    # The ticket's forms stay closed to the office that has not accepted it.
    before = offer_state(w)
    refused = w.knp.post(f"/desk/t/{ref}/reply", {"body": "We will look into it"})
    assert refused.status_code == 404 and offer_state(w) == before
    api = w.knp.client.get(f"/api/v1/transfers/{ref}", headers=bearer(w, "knp.agent")).json()
    assert api["from_unit"] == "UPP-LUCKNOW" and PHONE not in str(api)


def bearer(w: World, username: str) -> dict[str, str]:
    with w.engine.begin() as conn:
        return {"Authorization": f"Bearer {issue_token(conn, username, 'test')}"}


def test_an_unrelated_district_cannot_see_or_answer_the_offer(w: World) -> None:
    ref = w.refs[0]
    offer(w, ref)
    assert nav_count(w.agra.get("/desk").text) is None
    assert ref not in w.agra.get("/desk/offers").text
    for path in (f"/desk/offers/{ref}", f"/desk/t/{ref}"):
        answer = w.agra.get(path, follow_redirects=False)
        assert (
            answer.status_code == 404 and PHONE not in answer.text and "[phone]" not in answer.text
        )
    for verb, form in (("accept", {}), ("return", {"reason": "not ours"})):
        assert w.agra.post(f"/desk/offers/{ref}/{verb}", form).status_code == 404
    agra = bearer(w, "agra.agent")
    assert w.agra.client.get(f"/api/v1/transfers/{ref}", headers=agra).status_code == 404
    assert w.agra.client.get("/api/v1/transfers", headers=agra).json() == []
    assert offer_state(w) == [("pending", "")]


def test_a_viewer_above_reads_the_offer_but_cannot_answer_it(w: World) -> None:
    ref = w.refs[0]
    offer(w, ref)
    page = w.viewer.get(f"/desk/offers/{ref}").text
    assert "the thief went to Kanpur" in page and 'id="accept-offer"' not in page
    refused = w.viewer.post(f"/desk/offers/{ref}/accept")
    assert refused.status_code == 303 and "error=" in refused.headers["location"]
    assert offer_state(w) == [("pending", "")]


def test_accepting_puts_the_ticket_in_the_receiving_inbox_and_tells_the_sender(w: World) -> None:
    ref = w.refs[0]
    offer(w, ref)
    answer = w.knp.post(f"/desk/offers/{ref}/accept")
    assert answer.status_code == 303 and answer.headers["location"] == f"/desk/t/{ref}?flash=1"
    assert f'data-ref="{ref}"' in w.knp.get("/desk").text
    assert nav_count(w.knp.get("/desk").text) is None
    page = w.knp.get(f"/desk/t/{ref}").text
    assert "transfer_accepted" in page and PHONE not in page.split('id="conv"')[0]
    assert w.knp.get(f"/desk/offers/{ref}").status_code == 404  # answered: no offer waits
    # Lucknow no longer holds it, and sees who accepted it among the offers it made.
    assert w.lko.get(f"/desk/t/{ref}").status_code == 404
    sent = re.search(rf'<tr data-ref="{ref}".*?</tr>', w.lko.get("/desk/offers").text, re.S)
    assert sent and "accepted by knp.agent" in sent.group(0)
    assert notifications(w) == [
        (
            "knp.agent",
            "offer_received",
            f"{ref} offered to UPP-KANPUR by UPP-LUCKNOW (lko.agent): the thief went to Kanpur",
        ),
        ("lko.agent", "offer_accepted", f"{ref} accepted by UPP-KANPUR (knp.agent)"),
    ]
    e = t.ticket_events.c
    with w.engine.connect() as conn:
        actions = conn.execute(
            select(e.action, e.actor)
            .join(t.tickets, t.tickets.c.id == e.ticket_id)
            .where(t.tickets.c.ref == ref)
            .order_by(e.id)
        ).all()
    assert [tuple(a) for a in actions][-2:] == [
        ("transfer_offered", "user:lko.agent"),
        ("transfer_accepted", "user:knp.agent"),
    ]


def test_a_return_needs_a_reason_and_the_sender_sees_it(w: World) -> None:
    ref = w.refs[1]
    offer(w, ref, "the gang is from Kanpur")
    empty = w.knp.post(f"/desk/offers/{ref}/return", {"reason": "   "})
    assert empty.status_code == 303 and "error=" in empty.headers["location"]
    assert offer_state(w) == [("pending", "")]
    back = w.knp.post(f"/desk/offers/{ref}/return", {"reason": "Hazratganj is in Lucknow"})
    assert back.status_code == 303 and back.headers["location"] == f"/desk/offers?returned={ref}"
    assert offer_state(w) == [("returned", "user:knp.agent")]
    assert f'data-ref="{ref}"' not in w.knp.get("/desk").text
    page = w.lko.get(f"/desk/t/{ref}").text
    outcome = re.search(r'<li class="offer-returned".*?</li>', page, re.S)
    assert outcome and "returned by knp.agent" in outcome.group(0)
    assert "returned: Hazratganj is in Lucknow" in outcome.group(0)
    assert 'action="/desk/t/' + ref + '/transfer"' in page  # it may be offered elsewhere
    assert notifications(w)[-1] == (
        "lko.agent",
        "offer_returned",
        f"{ref} returned by UPP-KANPUR (knp.agent): Hazratganj is in Lucknow",
    )
    api = w.lko.client.get(f"/api/v1/tickets/{ref}/transfers", headers=bearer(w, "lko.agent"))
    assert [(o["status"], o["note"]) for o in api.json()] == [
        ("returned", "Hazratganj is in Lucknow")
    ]
    with w.engine.connect() as conn:
        bounces = conn.execute(
            select(t.tickets.c.bounce_count).where(t.tickets.c.ref == ref)
        ).scalar_one()
    assert bounces == 1


def _options(html: str) -> list[tuple[str, bool, str]]:
    select_html = re.search(r'<select id="unit" name="unit" required>(.*?)</select>', html, re.S)
    assert select_html, "the transfer picker"
    return [
        (m.group(1), " selected" in m.group(2), m.group(3))
        for m in re.finditer(r'<option value="([^"]*)"([^>]*)>([^<]*)<', select_html.group(1))
    ]


def test_the_picker_offers_the_office_the_post_names_first_and_never_the_root(w: World) -> None:
    options = _options(w.lko.get(f"/desk/t/{w.refs[0]}").text)
    assert options[0] == ("", True, "— choose an office —")
    assert [selected for _, selected, _ in options[1:]] == [False] * (len(options) - 1)
    codes = [code for code, _, _ in options[1:]]
    assert codes[0] == "UPP-KANPUR" and "PIN 208001" in options[1][2]
    assert codes[1] == "UPP-Z-LKO"  # the office above next
    assert "UPP-LUCKNOW" not in codes  # not to itself
    assert not any(c.startswith("RLY") or c == "ROOT" for c in codes)  # its own agency only
    assert len(codes) == len(set(codes))
    # An administrator of the whole deployment may send it to another agency, listed last.
    admin_client = TestClient(w.lko.client.app)
    with admin_client:
        sign_in(admin_client, "admin", "admin-password")
        admin = [code for code, _, _ in _options(admin_client.get(f"/desk/t/{w.refs[0]}").text)]
    assert admin[0] == "" and admin[1] == "UPP-KANPUR" and "RLY-NR-LKO" in admin
    assert admin.index("RLY-NR-LKO") > admin.index("UPP-AGRA")


def test_a_pending_offer_replaces_the_picker_with_its_deadline(w: World) -> None:
    offer(w, w.refs[0])
    page = w.lko.get(f"/desk/t/{w.refs[0]}").text
    assert 'id="offer-pending"' in page and "Offered to UPP-KANPUR" in page
    assert 'id="unit"' not in page


def resolve(w: World, ref: str) -> None:
    answer = w.lko.post(f"/desk/t/{ref}/status", {"status": "resolved", "note": "recovered"})
    assert "flash=1" in answer.headers["location"], answer.headers


def ticket_status(w: World, ref: str) -> tuple[str, str, int, int]:
    c = t.tickets.c
    with w.engine.connect() as conn:
        row = conn.execute(
            select(c.status, t.units.c.code, c.reopen_count, c.appeal_count)
            .join(t.units, t.units.c.id == c.unit_id)
            .where(c.ref == ref)
        ).one()
    return row.status, row.code, row.reopen_count, row.appeal_count


def test_a_resolved_ticket_is_reopened_here_with_a_reason(w: World) -> None:
    ref = w.refs[0]
    assert 'id="reopen-button"' not in w.lko.get(f"/desk/t/{ref}").text  # open: nothing to reopen
    resolve(w, ref)
    assert 'id="reopen-button"' in w.lko.get(f"/desk/t/{ref}").text
    no_reason = w.lko.post(f"/desk/t/{ref}/reopen", {"reason": ""})
    assert "error=" in no_reason.headers["location"]
    assert ticket_status(w, ref) == ("resolved", "UPP-LUCKNOW", 0, 0)
    again = w.lko.post(f"/desk/t/{ref}/reopen", {"reason": "citizen called: phone not returned"})
    assert again.headers["location"] == f"/desk/t/{ref}?flash=1"
    assert ticket_status(w, ref) == ("in_progress", "UPP-LUCKNOW", 1, 0)
    page = w.lko.get(f"/desk/t/{ref}").text
    assert "reopened</strong> — citizen called: phone not returned" in page
    # Another office's ticket is not found, as for every ticket form.
    assert w.knp.post(f"/desk/t/{w.refs[1]}/reopen", {"reason": "x"}).status_code == 404


def test_an_appeal_goes_one_level_up_and_the_district_is_told_where(w: World) -> None:
    ref = w.refs[1]
    resolve(w, ref)
    answer = w.lko.post(f"/desk/t/{ref}/appeal", {"reason": "the gang is still there"})
    assert answer.headers["location"] == f"/desk/offers?moved={ref}&to=UPP-Z-LKO"
    assert ticket_status(w, ref) == ("in_progress", "UPP-Z-LKO", 0, 1)
    assert f"{ref} went to UPP-Z-LKO on appeal" in w.lko.get(answer.headers["location"]).text


def test_a_closed_ticket_is_final(w: World) -> None:
    ref = w.refs[0]
    resolve(w, ref)
    w.lko.post(f"/desk/t/{ref}/status", {"status": "closed", "note": "confirmed"})
    page = w.lko.get(f"/desk/t/{ref}").text
    assert 'id="closed-final"' in page and 'id="reopen-button"' not in page
    for verb in ("reopen", "appeal"):
        refused = w.lko.post(f"/desk/t/{ref}/{verb}", {"reason": "not fixed"})
        assert "error=" in refused.headers["location"]
    assert ticket_status(w, ref)[0] == "closed"


def test_an_offer_deemed_accepted_tells_the_sender(w: World) -> None:
    from datetime import timedelta

    from sevadesk.tickets.actions import expire_offers

    offer(w, w.refs[0])
    o = t.transfer_offers.c
    with w.engine.begin() as conn:
        deadline = conn.execute(select(o.deadline)).scalar_one()
        assert expire_offers(conn, deadline + timedelta(seconds=1)) == 1
        deemed = conn.execute(
            select(func.count()).where(t.notifications.c.kind == "offer_accepted")
        ).scalar_one()
    assert deemed == 1
    assert "deemed accepted" in notifications(w)[-1][2]


def test_an_offer_is_withdrawn_when_its_office_resolves_the_ticket(w: World) -> None:
    ref = w.refs[0]
    offer(w, ref)
    resolve(w, ref)
    assert offer_state(w) == [("withdrawn", "user:lko.agent")]
    # Kanpur can neither open nor accept it; a late accept would have made it new again.
    assert w.knp.get(f"/desk/offers/{ref}").status_code == 404
    assert w.knp.post(f"/desk/offers/{ref}/accept").status_code == 404
    assert nav_count(w.knp.get("/desk").text) is None
    assert ticket_status(w, ref) == ("resolved", "UPP-LUCKNOW", 0, 0)
    assert notifications(w)[-1] == (
        "knp.agent",
        "offer_withdrawn",
        f"{ref} is no longer offered: its office marked it resolved",
    )
    page = w.lko.get(f"/desk/t/{ref}").text
    assert "withdrawn: its office marked the ticket resolved" in page


def test_the_transfer_pages_speak_hindi(w: World) -> None:
    ref = w.refs[1]
    offer(w, ref)
    w.knp.client.cookies.set("seva_lang", "hi")
    assert "हमें सौंपे गए" in w.knp.get("/desk/offers").text
    page = w.knp.get(f"/desk/offers/{ref}").text
    assert "टिकट स्वीकार करें" in page and "Accept the ticket" not in page
    w.knp.post(f"/desk/offers/{ref}/return", {"reason": "लखनऊ का मामला"})
    w.lko.client.cookies.set("seva_lang", "hi")
    assert "knp.agent ने लौटाया" in w.lko.get(f"/desk/t/{ref}").text


def test_the_transfer_forms_refuse_a_post_without_the_sessions_token(w: World) -> None:
    offered, resolved = w.refs
    offer(w, offered)
    resolve(w, resolved)
    forged = [
        (w.knp, f"/desk/offers/{offered}/accept", {}),
        (w.knp, f"/desk/offers/{offered}/return", {"reason": "not ours"}),
        (w.lko, f"/desk/t/{resolved}/reopen", {"reason": "not fixed"}),
        (w.lko, f"/desk/t/{resolved}/appeal", {"reason": "not fixed"}),
    ]
    for desk, path, form in forged:
        answer = desk.client.post(path, data={**form, "csrf": "forged"}, follow_redirects=False)
        assert answer.status_code == 403, path
    assert offer_state(w) == [("pending", "")]
    assert ticket_status(w, resolved) == ("resolved", "UPP-LUCKNOW", 0, 0)
