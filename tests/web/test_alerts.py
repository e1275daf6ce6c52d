"""The desk's alerts over HTTP: an SOS that reached no officer on duty is alerted to its unit
and seen by everyone covering it, and no one else; read state is each officer's own; the
count tabs poll costs no database query while nothing changes."""

from __future__ import annotations

import re
import warnings

import pytest
from sqlalchemy import Engine, func, select

from sevadesk.config import Settings
from sevadesk.domain.clock import FrozenClock
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from sevadesk.store.users_repo import actor_by_username
from sevadesk.web.app import create_app
from sevadesk.web.ui.alerts import AlertCounts
from tests.factories import lines, tweet
from tests.web.signin import sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SOS = "@Uppolice a man with a knife is threatening people in Hazratganj, Lucknow 226001"


@pytest.fixture
def app(org_engine: Engine, settings: Settings, clock: FrozenClock):  # type: ignore[no-untyped-def]
    return create_app(settings, org_engine, clock)


def client_for(app, username: str, password: str) -> tuple[TestClient, str]:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    return client, sign_in(client, username, password)


@pytest.fixture
def sos(pipeline: Pipeline) -> None:
    summary = pipeline.ingest("x", "test", lines(tweet(SOS, author_id="42")))
    assert summary.tickets_opened == 1


def count(client: TestClient) -> dict[str, int]:
    answer = client.get("/desk/alerts/count")
    assert answer.status_code == 200
    return answer.json()  # type: ignore[no-any-return]


def test_an_unstaffed_sos_is_alerted_to_everyone_covering_its_unit(app, sos: None) -> None:  # type: ignore[no-untyped-def]
    lucknow, _ = client_for(app, "lko.agent", "lko-password")
    admin, _ = client_for(app, "admin", "admin-password")
    kanpur, _ = client_for(app, "knp.agent", "knp-password")
    assert count(lucknow)["sos_unread"] == 1 and count(admin)["sos_unread"] == 1
    assert count(kanpur) == {"unread": 0, "sos_unread": 0, "newest_sos": 0, "muted": False}
    page = lucknow.get("/desk/alerts").text
    assert "SOS with no officer on duty" in page and 'href="/desk/t/UPP-000001"' in page
    assert "UPP-000001" not in kanpur.get("/desk/alerts").text
    # The bell is on every desk page, with the count.
    assert re.search(r'id="bell-count"[^>]*>1<', lucknow.get("/desk").text)


def test_read_state_is_each_officers_own_and_scoped(app, sos: None) -> None:  # type: ignore[no-untyped-def]
    lucknow, lucknow_csrf = client_for(app, "lko.agent", "lko-password")
    admin, admin_csrf = client_for(app, "admin", "admin-password")
    kanpur, kanpur_csrf = client_for(app, "knp.agent", "knp-password")
    alert_id = int(re.findall(r'data-alert="(\d+)"', lucknow.get("/desk/alerts").text)[0])

    # Someone outside the unit's scope cannot touch it; a form without the token is refused.
    refused = kanpur.post(f"/desk/alerts/{alert_id}/read", data={"csrf": kanpur_csrf})
    assert refused.status_code == 404
    assert lucknow.post(f"/desk/alerts/{alert_id}/read", data={"csrf": "x"}).status_code == 403
    assert count(lucknow)["unread"] == 1

    done = lucknow.post(
        f"/desk/alerts/{alert_id}/read",
        data={"csrf": lucknow_csrf, "next": "/desk?queue=sos"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/desk?queue=sos"
    assert count(lucknow)["unread"] == 0
    assert count(admin)["unread"] == 1  # the admin has not read it

    admin.post("/desk/alerts/read-all", data={"csrf": admin_csrf})
    assert count(admin)["unread"] == 0
    assert 'class="alert unread' not in admin.get("/desk/alerts").text


def test_the_sound_setting_is_kept_per_user(app) -> None:  # type: ignore[no-untyped-def]
    lucknow, csrf = client_for(app, "lko.agent", "lko-password")
    admin, _ = client_for(app, "admin", "admin-password")
    lucknow.post("/desk/alerts/sound", data={"csrf": csrf, "muted": "1"})
    assert count(lucknow)["muted"] is True and count(admin)["muted"] is False
    again, _ = client_for(app, "lko.agent", "lko-password")  # a new sign-in, a new browser
    assert count(again)["muted"] is True
    lucknow.post("/desk/alerts/sound", data={"csrf": csrf, "muted": "0"})
    assert count(lucknow)["muted"] is False


def test_polling_tabs_cost_no_query_until_a_notification_arrives(
    org_engine: Engine, pipeline: Pipeline
) -> None:
    ticks = [0.0]
    cache = AlertCounts(org_engine, monotonic=lambda: ticks[0])
    with org_engine.connect() as conn:
        officers = [actor_by_username(conn, name) for name in ("lko.agent", "admin")]
    assert officers[0] is not None and officers[1] is not None
    tabs = [officers[i % 2] for i in range(200)]  # 200 open tabs of two officers
    for tab in tabs:
        cache.count(tab)  # type: ignore[arg-type]
    first = cache.queries
    assert first == 3  # the newest id once, then each officer's count once
    for second in range(1, 11):  # ten seconds of every tab polling every second
        ticks[0] = float(second)
        for tab in tabs:
            assert cache.count(tab).unread == 0  # type: ignore[arg-type]
    assert cache.queries == first + 10  # one cheap "newest id" a second for the process

    pipeline.ingest("x", "test", lines(tweet(SOS, author_id="42")))
    ticks[0] = 11.0
    assert cache.count(officers[0]).sos_unread == 1  # type: ignore[arg-type]
    with org_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.notifications)).scalar() == 1


def test_two_hundred_polling_tabs_cost_one_query_a_second(app, org_engine: Engine) -> None:  # type: ignore[no-untyped-def]
    """Over HTTP, sessions included: 200 tabs (two officers, 100 tabs each) polling the count
    ask the database about once a second in all, not once per tab."""
    import time

    from sqlalchemy import event

    officers = [
        client_for(app, "lko.agent", "lko-password")[0],
        client_for(app, "admin", "admin-password")[0],
    ]
    statements = [0]

    def counted(*_args: object) -> None:
        statements[0] += 1

    event.listen(org_engine, "before_cursor_execute", counted)
    try:
        started = time.monotonic()
        polls = 0
        for _round in range(5):
            for tab in range(200):
                assert count(officers[tab % 2])["unread"] == 0
                polls += 1
        elapsed = time.monotonic() - started
    finally:
        event.remove(org_engine, "before_cursor_execute", counted)
    # The first poll of each officer looks up the session and counts; after that, the newest
    # notification id once a second for the whole process (a statement or two on SQLite's
    # connection), and each session again every 15 s.
    print(f"\n{polls} polls in {elapsed:.1f} s: {statements[0]} SQL statements")
    assert polls == 1000
    assert statements[0] <= 10 + 2 * (int(elapsed) + 1), (statements[0], elapsed)


def test_every_kind_of_notification_reads_as_words() -> None:
    from sevadesk.web.ui.alerts import kind_label
    from sevadesk.web.ui.i18n import translator

    en, hi = translator("en"), translator("hi")
    assert kind_label("sos", en) == "SOS"
    assert kind_label("sla_breach", en) == "SLA breach"
    assert kind_label("sos_escalated", hi) == "SOS पर किसी ने ध्यान नहीं दिया"
    # Kinds other parts of the desk write (transfer offers and their outcomes), and any new one.
    assert kind_label("offer_received", en) == "Transfer offer · received"
    assert kind_label("offer_returned", hi) == "ट्रांसफ़र प्रस्ताव · returned"
    assert kind_label("duty_handover", en) == "Duty handover"
