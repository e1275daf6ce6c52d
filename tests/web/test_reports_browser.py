"""The reports page as a supervisor sees it in chromium: a chart with its axis, dates and
legend, counts beside percentages, and no sideways scrolling on a phone."""

from __future__ import annotations

from sqlalchemy import Engine

from sevadesk.pipeline.runner import Pipeline
from tests.factories import lines, tweet
from tests.web.test_desk_browser import SHOTS, page, pytestmark, server, sign_in

__all__ = ["page", "pytestmark", "server"]  # the browser fixtures, shared with the desk's


def test_the_reports_page_reads_on_a_desktop_and_a_phone(
    page,  # type: ignore[no-untyped-def]
    server: str,
    pipeline: Pipeline,
    org_engine: Engine,
) -> None:
    pipeline.ingest(
        "x",
        "test",
        lines(
            tweet("@Uppolice my phone was snatched near Hazratganj, Lucknow 226001", author_id="1"),
            tweet("@Uppolice chain snatching in Kanpur, PIN 208001", author_id="2", minutes=1),
        ),
    )
    sign_in(page, server, "admin", "admin-password")
    page.goto(f"{server}/desk/reports?days=30")  # the posts are dated a few weeks back
    assert page.locator("#chart .y-tick").count() >= 2
    assert 2 <= page.locator("#chart .x-tick").count() <= 8  # dates that do not overlap
    assert "Tickets opened (2)" in (page.text_content("#chart .legend") or "")
    page.screenshot(path=str(SHOTS / "reports-desktop.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server}/desk/reports?unit=UPP-Z-LKO&days=30")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SHOTS / "reports-phone.png"), full_page=True)
