"""Alerts in a real browser (Playwright driving Debian's chromium): an SOS arriving while an
officer has the inbox open raises the bell's count and the tab title's SOS count within
seconds and rings; marking it read clears both; the sound, once muted, stays muted after a
reload; the ticket page writes its times in IST. Screenshots of the bell's panel at desktop
width and at 390 px."""

from __future__ import annotations

import re

from sevadesk.pipeline.runner import Pipeline
from tests.factories import lines, tweet
from tests.web.test_desk_browser import CHROMIUM, SHOTS, page, pytestmark, server, sign_in

__all__ = ["page", "pytestmark", "server"]  # the fixtures and marks of the desk's browser tests

SOS = "@Uppolice a man with a knife is threatening people in Hazratganj, Lucknow 226001"
GUN = "@Uppolice someone fired a gun outside Hazratganj market, Lucknow 226001, people injured"

RINGS = "() => Number(document.documentElement.dataset.sosRings || 0)"


def test_an_sos_rings_the_bell_and_counts_in_the_tab_title(
    page,  # type: ignore[no-untyped-def]
    server: str,
    pipeline: Pipeline,
) -> None:
    assert CHROMIUM
    sign_in(page, server, "lko.agent", "lko-password")
    assert page.title() == "Inbox · sevadesk"
    assert page.locator("#bell-count").is_hidden()

    summary = pipeline.ingest("x", "test", lines(tweet(SOS, author_id="41")))
    assert summary.tickets_opened == 1
    # Live: the poll sees it within a few seconds, without a reload.
    page.wait_for_function("() => document.title === '(1) SOS · Inbox · sevadesk'", timeout=8_000)
    assert page.text_content("#bell-count") == "1"
    assert page.evaluate(RINGS) == 1  # the sound played once

    page.click("#bell > summary")  # the panel fetches its alerts as it opens
    page.wait_for_selector("#bell-panel li.alert")
    alert = page.locator("#bell-panel li.alert.unread.sos")
    assert alert.count() == 1
    text = alert.text_content() or ""
    assert "SOS" in text and "UPP-000001" in text and "no officer on duty" in text
    assert re.search(r"\d\d:\d\d IST", text)
    page.screenshot(path=str(SHOTS / "alerts-bell.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / "alerts-bell-390.png"))
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= 390, f"the page is {overflow} px wide at 390"
    page.set_viewport_size({"width": 1280, "height": 900})

    # Mark read: the count and the title clear, and it stays cleared on the next poll.
    alert.locator("button.read").click()
    page.wait_for_url(f"{server}/desk")
    assert page.locator("#bell-count").is_hidden()
    assert page.title() == "Inbox · sevadesk"
    page.wait_for_timeout(2_500)
    assert page.title() == "Inbox · sevadesk"

    # Mute: kept on the server, so it survives a reload.
    page.click("#bell > summary")
    assert page.text_content("#bell-sound") == "SOS sound: on"
    page.click("#bell-sound")
    page.wait_for_url(f"{server}/desk")
    page.reload()
    assert "muted" in (page.get_attribute("#bell > summary", "title") or "")
    page.click("#bell > summary")
    assert page.get_attribute("#bell-sound", "aria-pressed") == "true"
    assert page.text_content("#bell-sound") == "SOS sound: muted"

    page.click("#bell > summary")  # closed again

    # Muted, a new SOS still counts in the title, silently.
    pipeline.ingest("x", "test", lines(tweet(GUN, author_id="42")))
    page.wait_for_function("() => document.title.startsWith('(1) SOS · ')", timeout=8_000)
    assert page.evaluate(RINGS) == 0

    # The alert links to its ticket, whose times are in IST with the zone shown.
    page.click("#bell > summary")
    page.click("#bell-panel li.alert.unread a[href^='/desk/t/']")
    page.wait_for_selector("ol.audit")
    audit = page.text_content("ol.audit") or ""
    assert re.search(r"\d\d [A-Z][a-z]{2} \d\d:\d\d IST", audit), audit
    assert "UTC" not in (page.text_content("main") or "")
    assert page.title().startswith("(1) SOS · ")  # the count follows the officer
    page.screenshot(path=str(SHOTS / "alerts-ticket.png"), full_page=True)

    page.goto(f"{server}/desk/alerts")
    assert page.locator("#alerts-page li.alert").count() == 2
    page.screenshot(path=str(SHOTS / "alerts-page.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / "alerts-page-390.png"), full_page=True)
