"""The public side and the admin's users page in a real browser (Playwright driving Debian's
chromium): the live wallboard refuses a visitor; the API docs render with the network off; a
citizen files in Tamil, is asked for more than one word, and reads the office's answer; an
admin adds a user who signs in, then deactivates them. Screenshots at 1280 and 390 px."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, select

from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from tests.factories import lines, tweet
from tests.web.test_desk_browser import CHROMIUM, SHOTS, page, pytestmark, server, sign_in

__all__ = ["page", "pytestmark", "server"]  # the fixtures and marks of the desk's browser tests

ONE_WORD = "திருட்டு"  # "theft"
GOOD_TAMIL = "சென்னை சென்ட்ரல் ரயில் நிலையத்தில் என் கைப்பை திருடப்பட்டது"
ANSWER = "கைப்பை RPF அலுவலகத்தில் உள்ளது; அடையாள அட்டையுடன் வந்து பெற்றுக்கொள்ளுங்கள்."
PASSWORD = "monsoon-tiffin-42-kites"


def _shots(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Desktop and phone screenshots; at 390 px nothing may overflow sideways."""
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("() => document.documentElement.scrollWidth")
    page.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    assert width <= 390, f"{name} is {width} px wide on a phone"


def test_the_live_page_refuses_an_anonymous_visitor(
    page,  # type: ignore[no-untyped-def]
    server: str,
    pipeline: Pipeline,
) -> None:
    assert CHROMIUM
    pipeline.ingest(
        "x", "test", lines(tweet("@Uppolice my bike was stolen in Gomti Nagar, Lucknow 226010"))
    )
    page.goto(f"{server}/")
    assert urlsplit(page.url).path == "/desk/login"  # sent to sign in, nothing shown
    assert "Gomti Nagar" not in (page.content() or "")
    feed = page.request.get(f"{server}/live/tickets.json")
    assert feed.status == 401 and "Gomti Nagar" not in feed.text()
    sign_in(page, server, "lko.agent", "lko-password")
    page.goto(f"{server}/")
    row = page.wait_for_selector("#rows tr[data-ref^='UPP-']")
    assert "Gomti Nagar" in (row.text_content() or "")


def test_the_api_docs_render_with_the_network_off(page, server: str) -> None:  # type: ignore[no-untyped-def]
    here = urlsplit(server).hostname
    elsewhere: list[str] = []

    def only_this_server(route) -> None:  # type: ignore[no-untyped-def]
        if urlsplit(route.request.url).hostname != here:
            elsewhere.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.context.route("**/*", only_this_server)
    for path in ("/api/docs", "/api/redoc"):
        html = httpx.get(f"{server}{path}").text
        assert not re.findall(r"(?:src|href)=\"(?:https?:)?//", html), path  # all from here
    page.goto(f"{server}/api/docs")
    title = page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    assert "sevadesk" in (title.text_content() or "")
    page.wait_for_selector(".opblock-tag-section")  # the operations, read from the schema
    page.screenshot(path=str(SHOTS / "api-docs.png"))
    page.goto(f"{server}/api/redoc")
    heading = page.wait_for_selector("h1:has-text('sevadesk')", timeout=15_000)
    assert heading is not None
    page.screenshot(path=str(SHOTS / "api-redoc.png"))
    assert elsewhere == [], elsewhere


def test_a_citizen_files_in_tamil_and_reads_the_offices_answer(
    page,  # type: ignore[no-untyped-def]
    server: str,
    org_engine: Engine,
) -> None:
    page.goto(f"{server}/complaint?lang=ta")
    assert page.get_attribute("html", "lang") == "ta"
    assert "புகார் பதிவு செய்யுங்கள்" in (page.text_content("h1") or "")
    _shots(page, "complaint-ta")
    page.select_option("#agency", "RLY")
    page.select_option("#category", "theft")
    page.fill("#description", ONE_WORD)
    page.click("button[type=submit]")
    error = page.wait_for_selector("#form-error")
    assert "இன்னும் சில சொற்களில்" in (error.text_content() or "")
    assert page.input_value("#description") == ONE_WORD  # what they typed is kept
    assert page.input_value("#agency") == "RLY"
    page.screenshot(path=str(SHOTS / "complaint-ta-too-short.png"), full_page=True)
    with org_engine.connect() as conn:
        assert conn.execute(select(t.tickets.c.id)).first() is None

    page.fill("#description", GOOD_TAMIL)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/status/RLY-\d+.*"))
    ref = urlsplit(page.url).path.rsplit("/", 1)[1]
    assert "உங்கள் புகார் பதிவு செய்யப்பட்டது" in (page.text_content("[role=status]") or "")
    with org_engine.connect() as conn:
        unit = conn.execute(
            select(t.units.c.code)
            .join(t.tickets, t.tickets.c.unit_id == t.units.c.id)
            .where(t.tickets.c.ref == ref)
        ).scalar_one()
    assert unit.startswith("RLY")  # the agency chosen, never the deployment's root

    # The railway's officer answers in the desk, resolving it with a note.
    officer = page.context.browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(officer, server, "rly.agent", "rly-password")
    officer.goto(f"{server}/desk/t/{ref}")
    officer.select_option("#status-to", "resolved")
    officer.fill("#status-note", ANSWER)
    officer.click("form[action$='/status'] button[type=submit]")
    officer.wait_for_selector(".flash")
    officer.context.close()

    page.goto(f"{server}/status/{ref}")  # the cookie keeps Tamil
    assert ANSWER in (page.text_content("#answer") or "")
    assert re.fullmatch(r"\d\d-\d\d-\d{4} \d\d:\d\d IST", page.text_content("#answer-time") or "")
    assert page.text_content("#status") == "தீர்க்கப்பட்டது"  # resolved, as the bot says it
    assert GOOD_TAMIL not in (page.content() or "")  # the form's words stay private
    _shots(page, "status-ta")

    # The same pages in Hindi.
    page.goto(f"{server}/complaint?lang=hi&agency=UPP")
    assert page.input_value("#agency") == "UPP"
    _shots(page, "complaint-hi")
    page.goto(f"{server}/status/{ref}?lang=hi")
    assert "कार्यालय का उत्तर" in (page.text_content("main") or "")
    _shots(page, "status-hi")


def test_an_admin_adds_a_user_who_signs_in_then_deactivates_them(
    page,  # type: ignore[no-untyped-def]
    server: str,
) -> None:
    sign_in(page, server, "admin", "admin-password")
    page.click("header.top a[href='/desk/admin']")
    page.wait_for_selector("#org-text")
    assert "code: UPP-LUCKNOW" in page.input_value("#org-text")  # opens on the organisation
    page.click("#manage-users")
    page.wait_for_selector("#add-user")
    page.fill("#new-username", "knp.si")
    page.fill("#new-name", "Kanpur sub-inspector")
    page.select_option("#new-role", "agent")
    page.select_option("#new-unit", "UPP-KANPUR")
    page.fill("#new-password", PASSWORD)
    page.click("form[action='/desk/admin/users/add'] button[type=submit]")
    assert "knp.si" in (page.wait_for_selector("#users-done").text_content() or "")
    _shots(page, "admin-users")

    newcomer = page.context.browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(newcomer, server, "knp.si", PASSWORD)
    assert "knp.si" in (newcomer.text_content("header.top") or "")

    card = page.locator("li.user-card[data-username='knp.si']")
    card.locator("summary").click()
    card.locator("form[action$='/active'] button").click()
    assert "knp.si" in (page.wait_for_selector("#users-done").text_content() or "")
    assert page.locator("li.user-card[data-username='knp.si'] .deactivated").count() == 1
    assert "user_deactivated" in (page.text_content("#user-audit") or "")

    newcomer.goto(f"{server}/desk")
    assert urlsplit(newcomer.url).path == "/desk/login"  # the open session ended
    newcomer.fill("#username", "knp.si")
    newcomer.fill("#password", PASSWORD)
    newcomer.click("button[type=submit]")
    newcomer.wait_for_url(re.compile(r".*/desk/login\?error=1"))
    newcomer.context.close()
