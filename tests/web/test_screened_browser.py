"""The Screened out queue in a real browser (Playwright driving Debian's chromium): a post
triage screened out is made a ticket with one key, reaches the inbox with its routing reason,
is in the audit trail and is a label in `seva train`'s training rows; another is confirmed as
noise with one click. Screenshots at desktop width and at 390 px."""

from __future__ import annotations

from sqlalchemy import Engine, select

from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from sevadesk.triage.training import corrections
from tests.factories import lines, tweet
from tests.web.test_desk_browser import CHROMIUM, SHOTS, page, pytestmark, server, sign_in

__all__ = ["page", "pytestmark", "server"]  # the fixtures and marks of the desk's browser tests

# Praise in its shape, a complaint in its words: what the model screens out and should not.
MISSED = "@Uppolice great job as always, the boys on bikes near Hazratganj Lucknow are back though"
NOISE = "@Uppolice thank you Lucknow police for the quick help in Hazratganj"


def test_an_officer_makes_a_ticket_of_a_screened_out_post_with_one_key(
    page,  # type: ignore[no-untyped-def]
    server: str,
    pipeline: Pipeline,
    org_engine: Engine,
) -> None:
    assert CHROMIUM
    summary = pipeline.ingest(
        "x",
        "test",
        lines(
            tweet(NOISE, author_id="901", minutes=0),
            tweet(MISSED, author_id="902", minutes=5),
        ),
    )
    assert (summary.tickets_opened, summary.not_actionable) == (0, 2)
    sign_in(page, server, "lko.agent", "lko-password")
    assert page.text_content("#nav-screened .badge") == "2"  # the count, on every desk page
    page.click("#nav-screened")
    page.wait_for_url(f"{server}/desk/screened")
    assert page.text_content("#screened-total") == "2"
    rows = page.locator("table.screened tbody tr[data-post]")
    assert rows.nth(0).text_content() and MISSED in (rows.nth(0).text_content() or "")
    assert "praise" in (rows.nth(0).text_content() or "")
    page.screenshot(path=str(SHOTS / "screened.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / "screened-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # The first row is selected; w types the why, Escape leaves the box, t makes the ticket.
    assert "selected" in (rows.nth(0).get_attribute("class") or "")
    page.keyboard.press("w")
    page.keyboard.type("bikers harassing women again")
    page.keyboard.press("Escape")
    page.keyboard.press("t")
    made = page.wait_for_selector("#made-ticket")
    ref = made.text_content() or ""
    assert ref.startswith("UPP-")
    assert page.text_content("#screened-total") == "1"
    assert MISSED not in (page.text_content("table.screened") or "")

    # The other one, by one click: triage was right.
    page.click("table.screened tbody tr[data-post] button.noise")
    page.wait_for_selector(".flash:has-text('noise')")
    assert page.text_content("#screened-total") == "0"

    # In the inbox, with the reason routing gave.
    page.click("header.top a[href='/desk']")
    row = page.wait_for_selector(f"table.tickets tbody tr[data-ref='{ref}']")
    assert "Hazratganj" in (row.text_content() or "")
    assert "jurisdiction" in (row.text_content() or "")
    page.screenshot(path=str(SHOTS / "screened-inbox.png"), full_page=True)

    # In the audit trail: who made it a ticket, and why.
    page.click(f"a[href='/desk/t/{ref}']")
    page.wait_for_selector("ol.audit")
    audit = page.text_content("ol.audit") or ""
    assert "promoted" in audit and "user:lko.agent" in audit
    assert "bikers harassing women again" in audit
    assert "jurisdiction" in (page.text_content("main") or "")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / "screened-ticket-390.png"), full_page=True)

    # The reports count both, per unit and day.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{server}/desk/reports")
    row = page.locator("#screened-by-day tr[data-code='UPP-LUCKNOW']")
    assert row.locator("td.screened").text_content() == "2"
    assert row.locator("td.promoted").text_content() == "1"
    page.screenshot(path=str(SHOTS / "screened-reports.png"), full_page=True)

    # And a label in the rows `seva train` trains on.
    labels, _categories = corrections(org_engine)
    mine = {(e.text, e.kind) for e in labels if e.source == "screened"}
    assert mine == {(MISSED, "grievance"), (NOISE, "feedback")}
    with org_engine.connect() as conn:
        decided = conn.execute(
            select(t.triage_decisions.c.decision, t.triage_decisions.c.actor)
        ).all()
    assert sorted(decided) == [("noise", "user:lko.agent"), ("ticket", "user:lko.agent")]
