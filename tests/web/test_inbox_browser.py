"""The live inbox in a real browser (Playwright driving Debian's chromium): the selection
stays on its ticket while new posts arrive, ten tickets are assigned at once, a saved view
survives a reload, the breaching-soon queue is in deadline order with countdowns, and a
ticket page says who else has it open."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, update

from sevadesk.config import Settings
from sevadesk.fakes.serve import BackgroundServer
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from sevadesk.web.app import create_app
from tests.factories import lines, tweet
from tests.web.test_desk_browser import CHROMIUM, SHOTS, sign_in
from tests.web.test_inbox_work import add_officer

pytestmark = [
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.skipif(
        not __import__("pathlib").Path(CHROMIUM).exists(),
        reason=f"no browser at {CHROMIUM} (.ci/run installs Debian's chromium)",
    ),
]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def server(org_engine: Engine, settings: Settings) -> Iterator[str]:
    with BackgroundServer(create_app(settings, org_engine)) as running:
        yield running.url


@pytest.fixture
def browser() -> Iterator:  # type: ignore[type-arg]
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    return browser.new_context(viewport={"width": 1280, "height": 900}).new_page()


def lucknow_posts(pipeline: Pipeline, n: int, start: int = 0) -> None:
    pipeline.ingest(
        "x",
        "test",
        lines(
            *(
                tweet(
                    f"@Uppolice my mobile was snatched near Hazratganj, Lucknow 226001 (case {i})",
                    author_id=str(1000 + i),
                    minutes=i,
                )
                for i in range(start, start + n)
            )
        ),
    )


def refs_on(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.eval_on_selector_all(
        "table.tickets tbody tr[data-ref]", "rows => rows.map(r => r.dataset.ref)"
    )


def test_the_selection_stays_on_its_ticket_while_new_posts_arrive(
    page,
    server: str,
    pipeline: Pipeline,  # type: ignore[no-untyped-def]
) -> None:
    lucknow_posts(pipeline, 3)
    sign_in(page, server, "lko.agent", "lko-password")
    page.wait_for_selector("#live-status:has-text('Live')")
    before = refs_on(page)
    assert len(before) == 3
    page.keyboard.press("j")
    page.keyboard.press("j")
    chosen = before[1]
    assert page.get_attribute("tr.selected", "data-ref") == chosen

    lucknow_posts(pipeline, 2, start=10)  # two new posts, through the pipeline
    page.wait_for_selector("#new-bar:not([hidden])", timeout=10_000)
    assert (page.text_content("#new-bar") or "").startswith("2 new")
    # Nothing moved: the new rows wait behind the bar, the selection is the same ticket.
    assert refs_on(page) == before
    assert page.get_attribute("tr.selected", "data-ref") == chosen
    page.screenshot(path=str(SHOTS / "inbox-new-bar.png"), full_page=True)

    page.click("#new-show")
    after = refs_on(page)
    assert len(after) == 5 and after[2:] == before  # newest first, on top
    assert page.get_attribute("tr.selected", "data-ref") == chosen
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server}/desk/t/{chosen}")


def test_an_officer_assigns_ten_tickets_to_a_colleague_at_once(
    page,
    server: str,
    pipeline: Pipeline,
    org_engine: Engine,  # type: ignore[no-untyped-def]
) -> None:
    add_officer(org_engine, "asha", "UPP-LUCKNOW", "Asha")
    lucknow_posts(pipeline, 10)
    sign_in(page, server, "lko.agent", "lko-password")
    page.click("nav.queues a[href='/desk?queue=unassigned']")
    page.wait_for_url("**queue=unassigned")
    assert page.text_content("nav.queues [data-queue=unassigned]") == "10"
    page.check("#select-all")
    assert page.text_content("#bulk-count") == "10 selected"
    page.select_option("#bulk-action", "assign")
    page.select_option("#bulk-user", "asha")
    page.screenshot(path=str(SHOTS / "inbox-bulk.png"), full_page=True)
    page.click("#bulk button[type=submit]")
    page.wait_for_selector("#bulk-result")
    assert page.text_content("#bulk-result") == "10 changed, 0 refused"
    assert "queue=unassigned" in page.url  # back to the queue the officer was working
    assert refs_on(page) == []  # none is unassigned any more
    page.goto(f"{server}/desk")
    cells = page.eval_on_selector_all(
        "table.tickets tbody td.assignee", "cells => cells.map(c => c.textContent.trim())"
    )
    assert cells == ["asha"] * 10
    # "Assign to me" on the ticket page takes one back.
    page.click("table.tickets tbody tr[data-ref] a")
    page.click("#assign-me")
    page.wait_for_selector(".flash")
    assert "lko.agent" in (page.text_content("dl.kv") or "")
    assert (page.text_content("dl.kv .countdown-text") or "").startswith("overdue ")
    page.set_viewport_size(PHONE)
    page.goto(f"{server}/desk")
    page.keyboard.press("j")
    page.keyboard.press("x")  # x selects the highlighted ticket
    assert page.text_content("#bulk-count") == "1 selected"
    page.screenshot(path=str(SHOTS / "inbox-phone.png"), full_page=True)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the inbox is {width}px wide on a phone"


def test_a_saved_view_is_there_after_a_reload(
    page,
    server: str,
    pipeline: Pipeline,  # type: ignore[no-untyped-def]
) -> None:
    lucknow_posts(pipeline, 2)
    sign_in(page, server, "lko.agent", "lko-password")
    page.goto(f"{server}/desk?queue=unassigned&sort=oldest")
    page.fill("#view-name", "Oldest unassigned")
    page.click("form.save-view button[type=submit]")
    page.wait_for_selector("nav.views a[data-view='Oldest unassigned']")
    page.goto(f"{server}/desk")
    page.reload()
    link = page.wait_for_selector("nav.views a[data-view='Oldest unassigned']")
    link.click()
    page.wait_for_url("**/desk?queue=unassigned&sort=oldest")
    page.click("nav.views button[aria-label='Delete the view Oldest unassigned']")
    page.wait_for_load_state()
    assert page.query_selector("nav.views a[data-view='Oldest unassigned']") is None


def test_breaching_soon_is_in_deadline_order_with_countdowns(
    page,
    server: str,
    pipeline: Pipeline,
    org_engine: Engine,  # type: ignore[no-untyped-def]
) -> None:
    lucknow_posts(pipeline, 4)
    now = datetime.now(UTC)
    with org_engine.begin() as conn:
        refs = list(conn.execute(select(t.tickets.c.ref).order_by(t.tickets.c.id)).scalars())
        # minutes to the first-response deadline: one overdue, one soon, one later, one
        # outside the hour (not breaching soon at all)
        for ref, minutes in zip(refs, (45, -65, 12, 300), strict=True):
            conn.execute(
                update(t.tickets)
                .where(t.tickets.c.ref == ref)
                .values(
                    first_response_due=now + timedelta(minutes=minutes),
                    resolution_due=now + timedelta(days=3),
                    urgency="sos" if minutes == 12 else "normal",
                    priority="p1" if minutes == 12 else "p3",
                )
            )
    sign_in(page, server, "lko.agent", "lko-password")
    page.click("nav.queues a[href='/desk?queue=breaching']")
    page.wait_for_url("**queue=breaching")
    assert refs_on(page) == [refs[1], refs[2], refs[0]]
    countdowns = page.eval_on_selector_all(
        "table.tickets tbody td.due .countdown", "cells => cells.map(c => c.textContent)"
    )
    assert countdowns[0].startswith("overdue 1 h") and countdowns[1].startswith("in 1")
    assert countdowns[2].startswith("in 4")
    classes = page.eval_on_selector_all(
        "table.tickets tbody td.due", "cells => cells.map(c => c.className)"
    )
    assert ["due-over" in classes[0], "due-soon" in classes[1], "due-ok" in classes[2]] == [
        True,
        True,
        True,
    ]
    sos_row = f"tr[data-ref='{refs[2]}'] td.prio"
    assert (page.text_content(sos_row) or "").strip().startswith("SOS P1")
    page.screenshot(path=str(SHOTS / "inbox-breaching.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / "inbox-breaching-phone.png"), full_page=True)


def test_the_ticket_page_warns_that_a_colleague_is_replying(
    browser,
    server: str,
    pipeline: Pipeline,
    org_engine: Engine,  # type: ignore[no-untyped-def]
) -> None:
    add_officer(org_engine, "asha", "UPP-LUCKNOW", "Asha")
    lucknow_posts(pipeline, 1)
    with org_engine.connect() as conn:
        ref = conn.execute(select(t.tickets.c.ref)).scalar_one()
    asha = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(asha, server, "asha", "asha-password")
    asha.goto(f"{server}/desk/t/{ref}")
    asha.fill("#reply-body", "We have informed the police station")
    me = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(me, server, "lko.agent", "lko-password")
    me.goto(f"{server}/desk/t/{ref}")
    me.wait_for_selector("#presence:not([hidden])", timeout=5_000)
    assert me.text_content("#presence") == "Asha (UPP-LUCKNOW) is replying to this ticket"
    me.screenshot(path=str(SHOTS / "ticket-presence.png"), full_page=True)
    me.set_viewport_size(PHONE)
    me.screenshot(path=str(SHOTS / "ticket-presence-phone.png"), full_page=True)
    asha.close()  # the page says it left: the warning goes at the next beat
    me.wait_for_selector("#presence[hidden]", state="attached", timeout=15_000)
