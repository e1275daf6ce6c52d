"""The inbox at volume, without a browser: bulk actions keep to the scope and the status
machine, queue counts, saved views, the changed-rows delta, one watcher for every stream,
and who else has a ticket open."""

from __future__ import annotations

import asyncio
import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, event, func, select, update

from sevadesk.config import Settings
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from sevadesk.store.credentials import hash_password
from sevadesk.store.users_repo import actor_by_username
from sevadesk.tickets.queries import queue_counts
from sevadesk.web.app import create_app
from sevadesk.web.live_changes import ChangeWatcher, PollingSource, read_mark
from sevadesk.web.ui.deadlines import deadline
from sevadesk.web.ui.i18n import translator
from tests.factories import lines, tweet
from tests.web.signin import sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def client(org_engine: Engine, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, org_engine)) as c:
        yield c


def add_officer(engine: Engine, username: str, unit: str, name: str) -> None:
    with engine.begin() as conn:
        unit_id = conn.execute(select(t.units.c.id).where(t.units.c.code == unit)).scalar_one()
        conn.execute(
            t.users.insert().values(
                username=username,
                display_name=name,
                role="agent",
                unit_id=unit_id,
                password_hash=hash_password(f"{username}-password"),
                languages=[],
                active=True,
            )
        )


def lucknow_and_kanpur(pipeline: Pipeline, engine: Engine, n: int = 3) -> tuple[list[str], str]:
    posts = [
        tweet(
            f"@Uppolice my mobile was snatched near Hazratganj, Lucknow 226001 case {i}",
            author_id=str(100 + i),
            minutes=i,
        )
        for i in range(n)
    ]
    posts.append(
        tweet("@Uppolice chain snatching in Kanpur, PIN 208001", author_id="900", minutes=9)
    )
    pipeline.ingest("x", "test", lines(*posts))
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.tickets.c.ref, t.units.c.code)
            .join(t.units, t.units.c.id == t.tickets.c.unit_id)
            .order_by(t.tickets.c.id)
        ).all()
    lucknow = [r.ref for r in rows if r.code.startswith("UPP-LUCKNOW")]
    kanpur = [r.ref for r in rows if r.code.startswith("UPP-KANPUR")]
    assert len(lucknow) == n and len(kanpur) == 1, rows
    return lucknow, kanpur[0]


def audit(engine: Engine, ref: str, action: str) -> list[dict]:  # type: ignore[type-arg]
    e, c = t.ticket_events.c, t.tickets.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(e.actor, e.before, e.after)
            .join(t.tickets, c.id == e.ticket_id)
            .where(c.ref == ref, e.action == action)
        ).all()
    return [dict(r._mapping) for r in rows]


def flash(page: str) -> str:
    found = re.search(r'id="bulk-result">([^<]*)<', page)
    assert found, "the inbox says what the bulk action did"
    return found.group(1).replace("&#39;", "'")


def test_bulk_assign_changes_tickets_in_scope_and_refuses_the_rest(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    add_officer(org_engine, "asha", "UPP-LUCKNOW", "Asha")
    lucknow, kanpur = lucknow_and_kanpur(pipeline, org_engine)
    csrf = sign_in(client, "lko.agent", "lko-password")
    answer = client.post(
        "/desk/bulk",
        data={
            "csrf": csrf,
            "action": "assign",
            "username": "asha",
            "ref": [*lucknow, kanpur],
            "back": "/desk?queue=unassigned",
        },
    )
    assert answer.url.path == "/desk" and "queue=unassigned" in str(answer.url)
    assert flash(answer.text) == f"3 changed, 1 refused: not in your scope ({kanpur})"
    with org_engine.connect() as conn:
        who = dict(
            conn.execute(
                select(t.tickets.c.ref, t.users.c.username).outerjoin(
                    t.users, t.users.c.id == t.tickets.c.assignee_id
                )
            ).all()
        )
    assert all(who[ref] == "asha" for ref in lucknow) and who[kanpur] is None
    for ref in lucknow:  # audited per ticket, by the officer who did it
        assert audit(org_engine, ref, "assigned")[-1]["actor"] == "user:lko.agent"
    assert audit(org_engine, kanpur, "assigned") == []


def test_bulk_status_goes_through_the_status_machine_and_needs_the_csrf_token(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    lucknow, _ = lucknow_and_kanpur(pipeline, org_engine)
    csrf = sign_in(client, "lko.agent", "lko-password")
    forged = client.post(
        "/desk/bulk", data={"action": "status", "status": "closed", "ref": lucknow}
    )
    assert forged.status_code == 403
    with org_engine.begin() as conn:  # one ticket is already closed: it cannot be reopened
        conn.execute(update(t.tickets).where(t.tickets.c.ref == lucknow[0]).values(status="closed"))
    answer = client.post(
        "/desk/bulk",
        data={"csrf": csrf, "action": "status", "status": "in_progress", "ref": lucknow},
    )
    text = flash(answer.text)
    assert text.startswith("2 changed, 1 refused: ") and lucknow[0] in text
    assert "closed" in text  # the status machine's reason, in its words
    assert [a["after"] for a in audit(org_engine, lucknow[1], "status_changed")] == [
        {"status": "in_progress"}
    ]
    # An in-progress ticket cannot be rejected: every one is refused, and says why.
    refused = flash(
        client.post(
            "/desk/bulk",
            data={"csrf": csrf, "action": "status", "status": "rejected", "ref": lucknow[1:]},
        ).text
    )
    assert refused.startswith("0 changed, 2 refused: a ticket that is in_progress cannot become")


def test_bulk_label_merge_and_assign_to_me(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    lucknow, _ = lucknow_and_kanpur(pipeline, org_engine)
    csrf = sign_in(client, "lko.agent", "lko-password")
    labelled = client.post(
        "/desk/bulk",
        data={"csrf": csrf, "action": "label_add", "label": "night shift", "ref": lucknow[:2]},
    )
    assert flash(labelled.text) == "2 changed, 0 refused"
    page = client.get("/desk?label=night+shift&fragment=1").text
    assert lucknow[0] in page and lucknow[1] in page and lucknow[2] not in page
    assert audit(org_engine, lucknow[0], "labelled")[0]["after"] == {"labels": ["night shift"]}

    merged = client.post(
        "/desk/bulk", data={"csrf": csrf, "action": "merge", "ref": [lucknow[2], lucknow[1]]}
    )
    assert flash(merged.text) == "1 changed, 0 refused"
    assert audit(org_engine, lucknow[1], "merged")[0]["after"]["into"] == lucknow[2]

    # Each row's "assign to me" names its ticket; it wins over whatever else is checked.
    mine = client.post(
        "/desk/bulk",
        data={"csrf": csrf, "action": "merge", "ref": lucknow, "one": lucknow[0]},
    )
    assert flash(mine.text) == "1 changed, 0 refused"
    assert audit(org_engine, lucknow[0], "assigned")[0]["after"]["assignee"] == "lko.agent"


def test_queue_counts_are_one_query_and_match_the_queues(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    lucknow, _ = lucknow_and_kanpur(pipeline, org_engine, n=4)
    now = datetime.now(UTC)
    with org_engine.begin() as conn:
        me = actor_by_username(conn, "lko.agent")
        assert me is not None
        c = t.tickets.c
        conn.execute(
            update(t.tickets).values(
                first_response_due=now + timedelta(days=1), resolution_due=now + timedelta(days=3)
            )
        )
        conn.execute(update(t.tickets).values(urgency="normal"))
        conn.execute(update(t.tickets).where(c.ref == lucknow[0]).values(assignee_id=me.id))
        conn.execute(update(t.tickets).where(c.ref == lucknow[1]).values(urgency="sos"))
        conn.execute(
            update(t.tickets)
            .where(c.ref == lucknow[2])
            .values(first_response_due=now + timedelta(minutes=20))
        )
        conn.execute(update(t.tickets).where(c.ref == lucknow[3]).values(status="closed"))
    statements: list[str] = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    with org_engine.connect() as conn:
        event.listen(org_engine, "before_cursor_execute", listen)
        try:
            counts = queue_counts(conn, me, now)
        finally:
            event.remove(org_engine, "before_cursor_execute", listen)
    assert len([s for s in statements if "tickets" in s]) == 1
    # Kanpur's ticket is outside Lucknow's scope; the closed one is in no queue.
    assert counts == {"mine": 1, "unit": 3, "unassigned": 2, "sos": 1, "breaching": 1, "all": 3}
    sign_in(client, "lko.agent", "lko-password")
    page = client.get("/desk").text
    for queue, n in counts.items():
        assert re.search(rf'data-queue="{queue}"[^>]*>{n}<', page), queue
        if queue != "all":
            listed = client.get(f"/desk?queue={queue}&fragment=1").text
            assert listed.count("data-ref=") == n, queue


def test_the_breaching_queue_is_ordered_by_the_next_deadline(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    lucknow, _ = lucknow_and_kanpur(pipeline, org_engine, n=3)
    now = datetime.now(UTC)
    dues = {lucknow[0]: 50, lucknow[1]: -30, lucknow[2]: 10}  # minutes from now
    with org_engine.begin() as conn:
        for ref, minutes in dues.items():
            conn.execute(
                update(t.tickets)
                .where(t.tickets.c.ref == ref)
                .values(
                    first_response_due=now + timedelta(minutes=minutes),
                    resolution_due=now + timedelta(days=2),
                )
            )
    sign_in(client, "lko.agent", "lko-password")
    page = client.get("/desk?queue=breaching&fragment=1").text
    order = re.findall(r'<tr data-ref="([^"]+)"', page)
    assert order == [lucknow[1], lucknow[2], lucknow[0]]
    assert "overdue 30 min" in page or "overdue 29 min" in page
    assert "due-over" in page and "due-soon" in page


def test_the_countdown_says_how_long_and_how_close() -> None:
    t_ = translator("en")
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    base = {"status": "new", "first_response_at": None}

    def ask(**dues: timedelta) -> tuple[str, str, str] | None:
        found = deadline({**base, **{k: now + v for k, v in dues.items()}}, now, t_)
        return (found.text, found.level, found.kind) if found else None

    assert ask(first_response_due=timedelta(minutes=42), resolution_due=timedelta(days=3)) == (
        "in 42 min",
        "ok",
        "first_response",
    )
    assert ask(first_response_due=timedelta(minutes=12)) == ("in 12 min", "soon", "first_response")
    assert ask(resolution_due=-timedelta(hours=1, minutes=5)) == (
        "overdue 1 h 5 min",
        "over",
        "resolution",
    )
    assert ask(resolution_due=timedelta(days=2, hours=3)) == ("in 2 d 3 h", "ok", "resolution")
    answered = deadline(
        {
            "status": "in_progress",
            "first_response_at": now,
            "first_response_due": now,
            "resolution_due": now + timedelta(hours=5),
        },
        now,
        t_,
    )
    assert answered is not None and answered.kind == "resolution"
    assert deadline({"status": "closed", "resolution_due": now}, now, t_) is None
    hindi = deadline({**base, "resolution_due": now - timedelta(minutes=5)}, now, translator("hi"))
    assert hindi is not None and hindi.text == "5 मिनट से देर"


def test_saved_views_are_per_user_and_deletable(client: TestClient, org_engine: Engine) -> None:
    csrf = sign_in(client, "lko.agent", "lko-password")
    saved = client.post(
        "/desk/views",
        data={
            "csrf": csrf,
            "name": "SOS in Hindi",
            "query": "queue=sos&language=hi&cursor=abc&x=1",
        },
    )
    assert saved.url.query == b"queue=sos&language=hi" or saved.url.query == "queue=sos&language=hi"
    page = client.get("/desk").text
    assert 'href="/desk?queue=sos&amp;language=hi" data-view="SOS in Hindi"' in page
    with org_engine.connect() as conn:
        view_id = conn.execute(select(t.saved_views.c.id)).scalar_one()
    other = TestClient(client.app)
    other_csrf = sign_in(other, "knp.agent", "knp-password")
    assert "SOS in Hindi" not in other.get("/desk").text
    other.post(f"/desk/views/{view_id}/delete", data={"csrf": other_csrf})  # not theirs
    assert "SOS in Hindi" in client.get("/desk").text
    client.post(f"/desk/views/{view_id}/delete", data={"csrf": csrf, "back": "/desk"})
    assert "SOS in Hindi" not in client.get("/desk").text


def test_a_tab_fetches_only_the_rows_that_changed_since_its_marker(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    lucknow, _kanpur = lucknow_and_kanpur(pipeline, org_engine)
    csrf = sign_in(client, "lko.agent", "lko-password")
    page = client.get("/desk").text
    mark = re.search(r'data-mark="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert client.get(f"/desk/changes?since={mark}").json()["rows"] == []
    client.post(f"/desk/t/{lucknow[1]}/status", data={"csrf": csrf, "status": "in_progress"})
    pipeline.ingest(
        "x",
        "test",
        lines(tweet("@Uppolice bike stolen in Kanpur, PIN 208001", author_id="901", minutes=20)),
    )
    delta = client.get(f"/desk/changes?since={mark}").json()
    assert [r["ref"] for r in delta["rows"]] == [lucknow[1]]  # Kanpur's new ticket: not in scope
    assert "in progress" in delta["rows"][0]["html"]
    assert delta["changed"] == [lucknow[1]]
    # A filtered tab hears that the ticket left its view.
    gone = client.get(f"/desk/changes?since={mark}&status=new").json()
    assert gone["rows"] == [] and gone["changed"] == [lucknow[1]]
    assert client.get(f"/desk/changes?since={delta['mark']}").json()["rows"] == []
    assert client.get("/desk/changes?since=nonsense").json() == {"reload": True}


def test_one_watcher_tells_every_stream_with_one_query_per_tick(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    _lucknow, _kanpur = lucknow_and_kanpur(pipeline, org_engine)
    with org_engine.connect() as conn:
        paths = dict(conn.execute(select(t.units.c.code, t.units.c.path)).all())
    queries: list[str] = []

    def count(*args: object) -> None:
        queries.append(str(args[2]))  # BEGIN counts not: SQLite's engine opens each read

    async def scenario() -> tuple[int, int, int, int]:
        watcher = ChangeWatcher(org_engine, PollingSource(org_engine, interval=0.05))
        lucknow_tabs = [watcher.subscribe(paths["UPP-LUCKNOW"]) for _ in range(100)]
        kanpur_tabs = [watcher.subscribe(paths["UPP-KANPUR"]) for _ in range(100)]
        await asyncio.sleep(0.3)  # idle: the watcher reads the marker, nobody hears anything
        event.listen(org_engine, "before_cursor_execute", count)
        await asyncio.sleep(0.5)
        idle = len([q for q in queries if q.startswith("SELECT")])
        queries.clear()
        await asyncio.to_thread(
            pipeline.ingest,
            "x",
            "test",
            lines(
                tweet(
                    "@Uppolice purse snatched in Hazratganj, Lucknow 226001",
                    author_id="555",
                    minutes=30,
                )
            ),
        )
        await asyncio.sleep(0.4)
        event.remove(org_engine, "before_cursor_execute", count)
        heard = sum(not s.queue.empty() for s in lucknow_tabs)
        not_heard = sum(not s.queue.empty() for s in kanpur_tabs)
        for q in lucknow_tabs + kanpur_tabs:
            watcher.unsubscribe(q)
        await asyncio.sleep(0.1)
        return idle, heard, not_heard, watcher.listeners

    idle, heard, not_heard, left = asyncio.run(scenario())
    # 200 listeners, 0.5 s at a 0.05 s tick: about ten marker reads, not two thousand.
    assert 5 <= idle <= 12
    assert heard == 100 and not_heard == 0  # only the scope the new ticket is in hears it
    assert left == 0
    with org_engine.connect() as conn:
        assert read_mark(conn).ticket == conn.execute(select(func.max(t.tickets.c.id))).scalar()


def test_the_ticket_page_says_who_else_is_viewing_or_replying(
    client: TestClient, pipeline: Pipeline, org_engine: Engine
) -> None:
    add_officer(org_engine, "asha", "UPP-LUCKNOW", "Asha")
    lucknow, kanpur = lucknow_and_kanpur(pipeline, org_engine)
    csrf = sign_in(client, "lko.agent", "lko-password")
    asha = TestClient(client.app)
    asha_csrf = sign_in(asha, "asha", "asha-password")
    ref = lucknow[0]
    assert client.post(f"/desk/presence/{ref}", data={"csrf": csrf}).json() == {"others": []}
    seen = asha.post(f"/desk/presence/{ref}", data={"csrf": asha_csrf, "state": "replying"})
    assert seen.json()["others"] == [
        {"name": "Lucknow agent", "unit": "UPP-LUCKNOW", "state": "viewing"}
    ]
    assert client.post(f"/desk/presence/{ref}", data={"csrf": csrf}).json()["others"] == [
        {"name": "Asha", "unit": "UPP-LUCKNOW", "state": "replying"}
    ]
    asha.post(f"/desk/presence/{ref}", data={"csrf": asha_csrf, "state": "left"})
    assert client.post(f"/desk/presence/{ref}", data={"csrf": csrf}).json()["others"] == []
    # Outside the scope: refused, and nobody learns who is looking at it.
    assert client.post(f"/desk/presence/{kanpur}", data={"csrf": csrf}).status_code == 404
    assert client.post(f"/desk/presence/{ref}", data={"state": "viewing"}).status_code == 403


def test_a_big_queue_count_stops_at_the_cap(
    client: TestClient, pipeline: Pipeline, org_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sevadesk.tickets import queries
    from sevadesk.web.ui import inbox_work

    lucknow_and_kanpur(pipeline, org_engine, n=3)
    monkeypatch.setattr(queries, "QUEUE_COUNT_CAP", 2)
    monkeypatch.setattr(inbox_work, "QUEUE_COUNT_CAP", 2)
    with org_engine.connect() as conn:
        admin = actor_by_username(conn, "admin")
        assert admin is not None
        counts = queue_counts(conn, admin, datetime.now(UTC))
    assert counts["all"] == 2 and counts["unassigned"] == 2 and counts["mine"] == 0
    sign_in(client, "admin", "admin-password")
    assert re.search(r'data-queue="all"[^>]*>2\+<', client.get("/desk").text)


@pytest.mark.parametrize("small", [20, 0], ids=["few-units", "many-units"])
def test_deadline_order_is_exact_whichever_way_it_is_read(
    pipeline: Pipeline, org_engine: Engine, monkeypatch: pytest.MonkeyPatch, small: int
) -> None:
    """Sorted by the database (a few offices) or merged from the two deadlines' indexes (a
    wide scope): the same tickets in the same order as sorting every one by its next
    deadline."""
    import random

    from sevadesk.tickets import queries
    from sevadesk.tickets.queries import TicketFilter, list_tickets
    from sevadesk.web.ui.deadlines import next_deadline

    monkeypatch.setattr(queries, "SMALL_SCOPE_UNITS", small)
    lucknow_and_kanpur(pipeline, org_engine, n=12)
    now = datetime.now(UTC)
    rng = random.Random(7)
    with org_engine.begin() as conn:
        for tid in conn.execute(select(t.tickets.c.id)).scalars().all():
            answered = rng.random() < 0.5
            conn.execute(
                update(t.tickets)
                .where(t.tickets.c.id == tid)
                .values(
                    status=rng.choice(["new", "in_progress", "closed"]),
                    first_response_at=now if answered else None,
                    first_response_due=now + timedelta(minutes=rng.randint(-300, 300)),
                    resolution_due=now + timedelta(minutes=rng.randint(-200, 600)),
                )
            )
        admin = actor_by_username(conn, "admin")
        assert admin is not None
        every, _ = list_tickets(conn, admin, TicketFilter(now=now), 100, None)
    soon = now + timedelta(hours=1)

    def truth(rows: list[dict], limit: int, breaching: bool) -> list[str]:  # type: ignore[type-arg]
        keyed = [(next_deadline({**r, "status": "new"}), r) for r in rows]
        if breaching:
            keyed = [
                (k, r)
                for k, r in keyed
                if r["status"] != "closed" and k is not None and k[0] <= soon
            ]
        keyed.sort(key=lambda kr: (kr[0] is None, kr[0][0] if kr[0] else now, kr[1]["id"]))
        return [r["ref"] for _, r in keyed[:limit]]

    with org_engine.connect() as conn:
        for limit in (3, 50):
            due, _ = list_tickets(conn, admin, TicketFilter(sort="due", now=now), limit, None)
            assert [r["ref"] for r in due] == truth(every, limit, False)
            breaching, _ = list_tickets(
                conn, admin, TicketFilter(queue="breaching", now=now), limit, None
            )
            assert [r["ref"] for r in breaching] == truth(every, limit, True)
