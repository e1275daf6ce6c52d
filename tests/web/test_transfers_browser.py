"""Transfers in a real browser (Playwright driving Debian's chromium): Lucknow offers two
tickets to Kanpur through the picker (found by typing part of the office's name, never
defaulting to the top of the tree); Kanpur's officer sees them in "Offered to us" with the
count, opens one read-only and accepts it (it joins the inbox), returns the other with a
reason, and Lucknow sees "returned: <reason>"; an officer of Agra cannot open the offered
ticket; a resolved ticket is reopened with a reason. Screenshots at desktop width and 390 px."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from sevadesk.config import Settings
from sevadesk.fakes.serve import BackgroundServer
from sevadesk.pipeline.runner import Pipeline
from sevadesk.web.app import create_app
from tests.web.test_desk_browser import CHROMIUM, SHOTS, pytestmark, sign_in
from tests.web.transfer_world import PHONE, add_agra, lucknow_tickets

__all__ = ["pytestmark"]  # the marks of the desk's browser tests (SQLite, skip without chromium)

RETURN_REASON = "Hazratganj is in Lucknow, not Kanpur"


@pytest.fixture
def refs(org_engine: Engine, pipeline: Pipeline) -> list[str]:
    add_agra(org_engine)
    return lucknow_tickets(pipeline, org_engine)


@pytest.fixture
def server(org_engine: Engine, settings: Settings, refs: list[str]) -> Iterator[str]:
    with BackgroundServer(create_app(settings, org_engine)) as running:
        yield running.url


@pytest.fixture
def officer() -> Iterator[Callable[[], Any]]:
    """A new browser window (its own cookies) for each officer of the story."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield lambda: browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        browser.close()


def shoot(page: Any, name: str) -> None:
    """The page at desktop width and at 390 px (a phone); no page may scroll sideways."""
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    page.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    assert overflow <= 390, f"{name} is {overflow} px wide at 390 px"


def offer_to_kanpur(page: Any, server: str, ref: str, typed: str, reason: str) -> None:
    page.goto(f"{server}/desk/t/{ref}")
    assert page.input_value("#unit") == ""  # no default: never the root, never a guess
    page.fill("#unit-search", typed)
    assert page.input_value("#unit") == "UPP-KANPUR"
    assert page.text_content("#unit-matches") == "1 office matches"
    page.press("#unit-search", "Enter")  # chooses and moves on to the reason, sends nothing
    assert page.evaluate("() => document.activeElement.id") == "transfer-reason"
    page.keyboard.type(reason)
    page.click("form.transfer-picker button[type=submit]")
    page.wait_for_selector("#offer-pending")


def test_kanpur_accepts_one_offer_returns_another_and_lucknow_sees_why(
    officer: Callable[[], Any], server: str, refs: list[str]
) -> None:
    accepted, returned = refs
    lko = officer()
    sign_in(lko, server, "lko.agent", "lko-password")
    lko.goto(f"{server}/desk/t/{accepted}")
    # The office the post names comes first among the likely ones, with the words naming it.
    first = lko.locator("#unit optgroup").first.locator("option").first
    assert first.get_attribute("value") == "UPP-KANPUR" and "208001" in first.inner_text()
    lko.fill("#unit-search", "agra pol")
    assert lko.input_value("#unit") == "UPP-AGRA"
    assert lko.locator("#unit option:not([hidden])[data-search]").count() == 1
    shoot(lko, "transfer-picker-search")
    lko.press("#unit-search", "ArrowUp")  # the only match: the choice stays
    assert lko.input_value("#unit") == "UPP-AGRA"
    lko.fill("#unit-search", "")
    assert lko.input_value("#unit") == ""
    lko.fill("#unit-search", "UPP-K")  # by code too
    assert lko.input_value("#unit") == "UPP-KANPUR"
    lko.fill("#unit-search", "")
    shoot(lko, "transfer-picker")
    offer_to_kanpur(lko, server, accepted, "kanp", "the thief took a bus to Kanpur")
    offer_to_kanpur(lko, server, returned, "Kanpur police", "the gang is from Kanpur")

    knp = officer()
    sign_in(knp, server, "knp.agent", "knp-password")
    assert knp.text_content("#offers-count") == "2"  # on every desk page
    assert knp.locator(f"table.tickets tr[data-ref='{accepted}']").count() == 0
    knp.click("#nav-offers")
    knp.wait_for_url(f"{server}/desk/offers")
    rows = knp.locator("#incoming-offers tbody tr[data-ref]")
    assert rows.count() == 2
    row = knp.locator(f"#incoming-offers tr[data-ref='{accepted}']").inner_text()
    for seen in ("Lucknow police", "lko.agent", "the thief took a bus to Kanpur", "[phone]"):
        assert seen in row
    assert PHONE not in row
    shoot(knp, "offers")

    # Read-only until accepted: the offer's page has Accept and Return, nothing else.
    knp.click(f"a[href='/desk/offers/{accepted}']")
    knp.wait_for_selector("#readonly-note")
    assert knp.locator("#reply-body, #status-to, #assignee, #unit").count() == 0
    assert PHONE not in knp.content()
    shoot(knp, "offer")
    knp.click("#accept-offer")
    knp.wait_for_url(f"{server}/desk/t/{accepted}?flash=1")
    assert "transfer_accepted" in (knp.text_content("ol.audit") or "")
    knp.goto(f"{server}/desk")
    knp.wait_for_selector(f"table.tickets tr[data-ref='{accepted}']")
    assert knp.text_content("#offers-count") == "1"

    # The other is returned, and a return without a reason is not sent.
    knp.goto(f"{server}/desk/offers/{returned}")
    knp.click("#return-offer")
    assert knp.url == f"{server}/desk/offers/{returned}"  # the browser asks for the reason
    knp.fill("#return-reason", RETURN_REASON)
    knp.click("#return-offer")
    knp.wait_for_selector("#returned-flash")
    assert knp.locator("#offers-count").count() == 0
    assert knp.locator(f"#incoming-offers tr[data-ref='{returned}']").count() == 0

    lko.goto(f"{server}/desk/t/{returned}")
    outcome = lko.text_content(".offers-history li.offer-returned") or ""
    assert "returned by knp.agent" in outcome and f"returned: {RETURN_REASON}" in outcome
    assert lko.locator("#unit-search").is_visible()  # it may be offered to another office
    shoot(lko, "offer-returned")
    lko.goto(f"{server}/desk/offers")
    sent = lko.locator("#sent-offers tbody")
    assert "accepted by knp.agent" in sent.locator(f"tr[data-ref='{accepted}']").inner_text()
    assert RETURN_REASON in sent.locator(f"tr[data-ref='{returned}']").inner_text()
    shoot(lko, "offers-sent")


def test_an_officer_of_an_unrelated_district_cannot_open_the_offered_ticket(
    officer: Callable[[], Any], server: str, refs: list[str]
) -> None:
    lko = officer()
    sign_in(lko, server, "lko.agent", "lko-password")
    offer_to_kanpur(lko, server, refs[0], "kanpur", "the thief took a bus to Kanpur")
    agra = officer()
    sign_in(agra, server, "agra.agent", "agra-password")
    assert agra.locator("#offers-count").count() == 0
    for path in (f"/desk/t/{refs[0]}", f"/desk/offers/{refs[0]}"):
        answer = agra.goto(f"{server}{path}")
        assert answer.status == 404
        assert f"No ticket {refs[0]} in your scope" in agra.inner_text("main")
        assert "[phone]" not in agra.content() and "Charbagh" not in agra.content()
    agra.goto(f"{server}/desk/offers")
    assert agra.locator(f"tr[data-ref='{refs[0]}']").count() == 0


def test_a_resolved_ticket_is_reopened_with_a_reason(
    officer: Callable[[], Any], server: str, refs: list[str]
) -> None:
    lko = officer()
    sign_in(lko, server, "lko.agent", "lko-password")
    lko.goto(f"{server}/desk/t/{refs[0]}")
    assert lko.locator("#reopen-button").count() == 0
    lko.select_option("#status-to", "resolved")
    lko.fill("#status-note", "phone recovered and handed over")
    lko.click("form[action$='/status'] button[type=submit]")
    lko.wait_for_selector("#reopen-button")
    shoot(lko, "reopen-appeal")
    lko.click("#reopen-button")  # no reason: the browser does not send it
    assert lko.locator("h2 .badge").first.inner_text() == "resolved"
    lko.fill("#reopen-reason", "citizen called: it was someone else's phone")
    lko.click("#reopen-button")
    lko.wait_for_selector(".flash")
    assert lko.locator("h2 .badge").first.inner_text() == "in progress"
    assert "citizen called: it was someone else's phone" in (lko.text_content("ol.audit") or "")
