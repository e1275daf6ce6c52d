"""The officers' desk in a real browser (Playwright driving Debian's chromium): sign in, see a
ticket arrive live, reply, correct its category, resolve, watch the public record change;
scope holds by URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from sevadesk.channels.x.text import weighted_length
from sevadesk.config import Settings
from sevadesk.fakes.serve import BackgroundServer
from sevadesk.pipeline.runner import Pipeline
from sevadesk.web.app import create_app
from tests.factories import lines, tweet

CHROMIUM = os.environ.get("SEVA_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(
    os.environ.get(
        "SEVA_SCREENSHOTS", Path(__file__).resolve().parents[2] / "build" / "screenshots"
    )
)

pytestmark = [
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("SEVA_REQUIRE_POSTGRES"),
        reason=f"no browser at {CHROMIUM} (.ci/run installs Debian's chromium)",
    ),
]


@pytest.fixture
def server(org_engine: Engine, settings: Settings) -> Iterator[str]:
    with BackgroundServer(create_app(settings, org_engine)) as running:
        yield running.url


@pytest.fixture
def page() -> Iterator:  # type: ignore[type-arg]
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield context.new_page()
        browser.close()


def sign_in(page, server: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/desk")
    assert "/desk/login" in page.url  # the desk asks for a sign-in first
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/desk")


def test_an_agent_sees_a_ticket_arrive_live_replies_and_resolves_it(
    page,
    server: str,
    pipeline: Pipeline,  # type: ignore[no-untyped-def]
) -> None:
    page.goto(f"{server}/public")
    before = int(page.text_content("tr[data-code=UPP] td.resolved") or "0")
    sign_in(page, server, "lko.agent", "lko-password")
    page.wait_for_selector("#live-status:has-text('Live')")
    pipeline.ingest(
        "x",
        "test",
        lines(
            tweet(
                "@Uppolice my mobile was snatched near Hazratganj, Lucknow 226001", author_id="777"
            )
        ),
    )
    row = page.wait_for_selector("table.tickets tbody tr[data-ref^='UPP-']", timeout=10_000)
    ref = row.get_attribute("data-ref")
    assert "Hazratganj" in (row.text_content() or "")
    page.screenshot(path=str(SHOTS / "inbox.png"), full_page=True)

    page.click(f"a[href='/desk/t/{ref}']")
    page.wait_for_selector("#reply-body")
    body = "हमने थाने को सूचित किया है। Status: https://seva.example.gov.in/status/track/this/complaint/here"
    page.fill("#reply-body", body)
    # The count is X's weighted length (a link counts 23), not the number of characters.
    expected = f"{weighted_length(body)} / 280"
    # A function, not an expression: Playwright would eval an expression, which the desk's
    # Content-Security-Policy (no 'unsafe-eval') refuses.
    page.wait_for_function(
        "(expected) => document.querySelector('#reply-count').textContent === expected",
        arg=expected,
    )
    assert weighted_length(body) < len(body)
    page.screenshot(path=str(SHOTS / "ticket.png"), full_page=True)
    page.click("form[action$='/reply'] button[type=submit]")
    page.wait_for_selector(".flash")
    assert "reply_queued" in (page.text_content("ol.audit") or "")

    # A wrong category is corrected on the page (and becomes a training label).
    assert page.input_value("#category-to") == "theft"
    page.select_option("#category-to", "security")
    page.click("form[action$='/category'] button[type=submit]")
    page.wait_for_selector(".flash")
    assert page.input_value("#category-to") == "security"
    assert "category_changed" in (page.text_content("ol.audit") or "")

    page.goto(f"{server}/desk/reports")
    resolved_today = "tr[data-key=resolved] td.today"
    assert page.text_content(resolved_today) == "0"
    page.go_back()
    page.select_option("#status-to", "resolved")
    page.fill("#status-note", "Phone recovered and returned")
    page.click("form[action$='/status'] button[type=submit]")
    page.wait_for_selector("h2 .badge:has-text('resolved')")
    page.goto(f"{server}/desk/reports")
    assert page.text_content(resolved_today) == "1"  # the report moved with the ticket
    page.screenshot(path=str(SHOTS / "reports.png"), full_page=True)

    page.goto(f"{server}/public?ref={ref}")
    assert int(page.text_content("tr[data-code=UPP] td.resolved") or "0") == before + 1
    assert "resolved" in (page.text_content("#lookup") or "")
    page.screenshot(path=str(SHOTS / "public.png"), full_page=True)


def test_an_agent_cannot_open_another_districts_ticket_by_url(
    page,
    server: str,
    pipeline: Pipeline,  # type: ignore[no-untyped-def]
) -> None:
    pipeline.ingest(
        "x",
        "test",
        lines(tweet("@Uppolice chain snatching in Kanpur, PIN 208001", author_id="888")),
    )
    from sqlalchemy import select

    from sevadesk.store import tables as t

    with pipeline.engine.connect() as conn:
        ref = conn.execute(select(t.tickets.c.ref)).scalar_one()
    sign_in(page, server, "lko.agent", "lko-password")
    response = page.goto(f"{server}/desk/t/{ref}")
    assert response is not None and response.status == 404
    assert f"No ticket {ref} in your scope" in (page.text_content("main") or "")
    assert page.locator(f"tr[data-ref='{ref}']").count() == 0


def test_a_wrong_password_is_refused(page, server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/desk/login")
    page.fill("#username", "lko.agent")
    page.fill("#password", "guess")
    page.click("button[type=submit]")
    page.wait_for_selector(".error")
    assert "Wrong username or password" in (page.text_content(".error") or "")
    page.screenshot(path=str(SHOTS / "login.png"))


def test_the_desk_speaks_hindi(page, server: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, server, "lko.agent", "lko-password")
    page.click("a[lang=hi]")
    page.wait_for_selector("nav.queues a:has-text('मेरी इकाई')")
    assert page.get_attribute("html", "lang") == "hi"
