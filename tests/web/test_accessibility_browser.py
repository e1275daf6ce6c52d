"""Every desk and public page in a real browser (Playwright driving Debian's chromium), as a
district officer, a supervisor, an admin and an anonymous citizen: axe-core finds no serious
or critical accessibility problem (in the light and the dark colour scheme), no page is wider
than a 390 px phone, and each is photographed at 1280 and 390 px into the SHOTS directory.

To check a new page, add a row to PAGES; `act` puts it in the state to check (a panel
opened, tickets selected, a form sent)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from sevadesk.pipeline.runner import Pipeline
from sevadesk.routing.orgfile import UserSpec, load_org_file
from sevadesk.store import tables as t
from sevadesk.store.org_repo import apply_org
from sevadesk.store.users_repo import actor_by_username
from sevadesk.tickets.actions import queue_reply, transfer
from tests.conftest import TEST_ORG
from tests.factories import lines, tweet
from tests.web.test_desk_browser import CHROMIUM, SHOTS, pytestmark, server

__all__ = ["pytestmark", "server"]  # the marks and server fixture of the desk's browser tests

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Who signs in for a row; None is an anonymous visitor.
WHO = {
    "district": ("lko.agent", "lko-password"),  # a district officer (Lucknow police)
    "supervisor": ("lko.supervisor", "supervisor-password"),  # of the Lucknow zone
    "admin": ("admin", "admin-password"),  # of the whole deployment
}


@dataclass(frozen=True)
class Page:
    """One page to check. `path` may name {ticket} (a Lucknow ticket with an officer's public
    answer), {incident} (the railway incident), {rly_ticket} (a ticket of it), {offered} (a
    Kanpur ticket offered to Lucknow); `ready` is a selector the page shows once it has what
    it is checked with; `status` the answer expected; `act` what is done on the page before
    it is checked (its result is `ready`); `excluded` axe rules not failed here, each with
    the reason."""

    name: str
    path: str
    who: str | None
    ready: str = "main"
    status: int = 200
    act: Callable[[Any], None] | None = None
    excluded: tuple[tuple[str, str], ...] = ()


REFUSED_DRAFT = "The beat officer will call you; or ring him on 9876543210 today."


def _open_bell(page: Any) -> None:
    page.click("#bell > summary")  # the panel fetches its alerts as it opens
    page.wait_for_selector("#bell-panel li.alert")


def _select_tickets(page: Any) -> None:
    page.check("#select-all")
    page.wait_for_selector("#bulk-count:has-text('selected')")


def _refused_reply(page: Any) -> None:
    page.fill("#reply-body", REFUSED_DRAFT)
    page.click("#reply-form button[type=submit]")
    page.wait_for_selector("#reply-error")


def _incident_confirmation(page: Any) -> None:
    page.fill("#incident-body", "Water will be filled at Kanpur Central for every coach.")
    page.click("#check-recipients")
    page.wait_for_selector("#confirm-send")


# /api/docs and /api/redoc are Swagger UI's and ReDoc's own pages and markup, served as
# fastapi-offline ships them (assets from the package, no CDN); their findings are printed
# but not failed, each rule with why it is theirs, not ours.
DOCS_MARKUP = (
    ("color-contrast", "Swagger UI's / ReDoc's own colours (method badges, version stamp)"),
    ("nested-interactive", "Swagger UI puts its copy and lock buttons inside operation summaries"),
    ("select-name", "ReDoc's response content-type selects carry no label"),
    (
        "html-has-lang",
        "the docs page's <html> is written by FastAPI's get_swagger_ui_html/get_redoc_html",
    ),
)

PAGES = [
    # Public side, no sign-in.
    Page("public", "/public", None, "#record"),
    Page("public-lookup", "/public?ref={ticket}", None, "#lookup"),
    Page("complaint", "/complaint", None, "form"),
    Page("complaint-hi", "/complaint?lang=hi", None, "form"),
    Page("complaint-mr", "/complaint?lang=mr", None, "form"),
    Page("complaint-ta", "/complaint?lang=ta", None, "form"),
    Page("status", "/status/{ticket}", None, "#status"),
    Page("status-ta", "/status/{ticket}?lang=ta", None, "#answer .answer"),
    Page("status-unknown", "/status/UPP-9999999", None, "main", 404),
    Page("login", "/desk/login", None, "#username"),
    Page("api-docs", "/api/docs", None, ".swagger-ui .opblock", excluded=DOCS_MARKUP),
    Page("api-redoc", "/api/redoc", None, "redoc h1", excluded=DOCS_MARKUP),
    # A district officer's desk: every queue of the inbox, a ticket, what is not theirs.
    Page("live", "/", "district", "#rows tr"),
    Page("inbox-district", "/desk", "district", "table.tickets"),
    Page("inbox-mine", "/desk?queue=mine", "district", "table.tickets"),
    Page("inbox-unit", "/desk?queue=unit", "district", "table.tickets"),
    Page("inbox-unassigned", "/desk?queue=unassigned", "district", "table.tickets"),
    Page("inbox-sos", "/desk?queue=sos", "district", "table.tickets"),
    Page("inbox-breaching", "/desk?queue=breaching", "district", "table.tickets"),
    Page("inbox-search", "/desk?q=snatched&sort=oldest", "district", "table.tickets"),
    Page("inbox-bulk", "/desk", "district", "#bulk", act=_select_tickets),
    Page("inbox-view", "/desk?queue=unassigned&sort=oldest", "district", "nav.views a"),
    Page("bell", "/desk", "district", "#bell-panel", act=_open_bell),
    Page("alerts", "/desk/alerts", "district", "main li.alert"),
    Page("offers", "/desk/offers", "district", "main table"),
    Page("offer", "/desk/offers/{offered}", "district", "main form"),
    Page("ticket-district", "/desk/t/{ticket}", "district", "#reply-body"),
    Page("reply-refused", "/desk/t/{ticket}", "district", "#reply-error", act=_refused_reply),
    Page("not-in-scope", "/desk/t/{rly_ticket}", "district", ".error", 404),
    Page("screened", "/desk/screened", "district", "table.screened"),
    Page("reports-district", "/desk/reports", "district", "main table"),
    Page("staffing", "/desk/reports/staffing?unit=UPP-LUCKNOW", "district", "main table"),
    # A supervisor of the zone above.
    Page("inbox-supervisor", "/desk", "supervisor", "table.tickets"),
    Page("ticket-supervisor", "/desk/t/{ticket}", "supervisor", "#reply-body"),
    Page("reports-supervisor", "/desk/reports", "supervisor", "main table"),
    # The admin: the whole deployment, the incident, the admin pages.
    Page("inbox-admin", "/desk", "admin", "table.tickets"),
    Page("incident", "/desk/incidents/{incident}", "admin", "main"),
    Page(
        "incident-confirm",
        "/desk/incidents/{incident}",
        "admin",
        "#confirm-send",
        act=_incident_confirmation,
    ),
    Page("ticket-incident", "/desk/t/{rly_ticket}", "admin", "#reply-body"),
    Page("reports-admin", "/desk/reports", "admin", "main table"),
    Page("admin", "/desk/admin", "admin", "main form"),
    Page("admin-users", "/desk/admin/users", "admin", "main form"),
    Page("admin-templates", "/desk/admin/templates", "admin", "#tp-add"),
]
# axe-core's impact levels that fail the check; the others are printed, not failed.
FAILING = ("serious", "critical")


@pytest.fixture
def world(pipeline: Pipeline, org_engine: Engine) -> dict[str, str]:
    """Lucknow's tickets (one SOS), a screened-out post, a railway incident of four tickets,
    and a supervisor of the Lucknow zone."""
    spec = load_org_file(TEST_ORG)
    spec.users.append(
        UserSpec(
            username="lko.supervisor",
            name="Lucknow zone supervisor",
            role="supervisor",
            unit="UPP-Z-LKO",
            password="supervisor-password",
        )
    )
    with org_engine.begin() as conn:
        apply_org(conn, spec)
    posts = [
        tweet("@Uppolice my mobile was snatched near Hazratganj, Lucknow 226001", author_id="1"),
        tweet(
            "@Uppolice help, a man is attacking my father with a knife in Aminabad Lucknow 226001",
            author_id="2",
            minutes=2,
        ),
        tweet("@Uppolice chain snatching in Kanpur, PIN 208001", author_id="3", minutes=3),
        tweet(
            "@Uppolice thank you Lucknow police for the quick help in Hazratganj",
            author_id="4",
            minutes=4,
        ),
        *[
            tweet(
                f"@RailMinIndia train 12951 coach B{i} has no water at all",
                author_id=str(50 + i),
                minutes=5 + i,
            )
            for i in range(4)
        ],
    ]
    pipeline.ingest("x", "test", lines(*posts))
    now = datetime.now(UTC)
    with org_engine.begin() as conn:
        kanpur = conn.execute(
            select(t.tickets.c.ref)
            .join(t.units, t.units.c.id == t.tickets.c.unit_id)
            .where(t.units.c.code == "UPP-KANPUR")
        ).scalar_one()
        knp, lko_agent = actor_by_username(conn, "knp.agent"), actor_by_username(conn, "lko.agent")
        assert knp is not None and lko_agent is not None
        transfer(conn, knp, kanpur, "UPP-LUCKNOW", "The gang is from Lucknow's Aminabad", now)
        lko_first = (
            conn.execute(
                select(t.tickets.c.ref)
                .join(t.units, t.units.c.id == t.tickets.c.unit_id)
                .where(t.units.c.code == "UPP-LUCKNOW")
                .order_by(t.tickets.c.id)
            )
            .scalars()
            .first()
        )
        assert lko_first is not None
        # The officer's public answer, shown on the status page.
        queue_reply(
            conn,
            lko_agent,
            lko_first,
            "The beat officer of Hazratganj has your complaint and will visit today.",
            None,
            now,
        )
        conn.execute(
            t.saved_views.insert().values(
                user_id=lko_agent.id,
                name="Oldest unassigned",
                query="queue=unassigned&sort=oldest",
                created_at=now,
            )
        )
    with org_engine.connect() as conn:
        lko = conn.execute(
            select(t.tickets.c.ref)
            .join(t.units, t.units.c.id == t.tickets.c.unit_id)
            .where(t.units.c.code == "UPP-LUCKNOW")
            .order_by(t.tickets.c.id)
        ).scalars()
        incident, rly_ticket = conn.execute(
            select(t.incidents.c.ref, t.tickets.c.ref)
            .join(t.tickets, t.tickets.c.incident_id == t.incidents.c.id)
            .order_by(t.tickets.c.id)
            .limit(1)
        ).one()
    return {
        "ticket": next(iter(lko)),
        "incident": incident,
        "rly_ticket": rly_ticket,
        "offered": kanpur,
    }


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        running = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield running
        running.close()


def _sign_in(page: Any, server: str, who: str) -> None:
    username, password = WHO[who]
    page.goto(f"{server}/desk/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/desk")


def _problems(
    page: Any, only_contrast: bool = False, excluded: tuple[tuple[str, str], ...] = ()
) -> tuple[list[str], list[str]]:
    """axe-core's findings on the page as it is now, as readable lines: (failing, others);
    an excluded rule's findings are among the others, with the reason."""
    from axe_playwright_python.sync_playwright import Axe

    options: dict[str, Any] = {"resultTypes": ["violations"]}
    if only_contrast:
        options["runOnly"] = {"type": "rule", "values": ["color-contrast"]}
    found = Axe().run(page, options=options).response["violations"]
    failing: list[str] = []
    others: list[str] = []
    skip = dict(excluded)
    for v in found:
        for node in v["nodes"]:
            why = "; ".join(
                check["message"] for kind in ("any", "all", "none") for check in node.get(kind, [])
            )
            line = (
                f"[{v['impact']}] {v['id']}: {v['help']} at {' '.join(node['target'])}\n"
                f"    {node['html'][:200]}\n    {why}"
            )
            if v["id"] in skip:
                others.append(f"{line}\n    (not failed: {skip[v['id']]})")
            else:
                (failing if v["impact"] in FAILING else others).append(line)
    return failing, others


def _check(page: Any, entry: Page, url: str) -> list[str]:
    """The page's failures, each line naming the page, the width and the colour scheme."""
    failures: list[str] = []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.set_viewport_size(DESKTOP)
        answer = page.goto(url)
        assert answer is not None and answer.status == entry.status, (url, answer and answer.status)
        if entry.act is not None:
            entry.act(page)
        page.wait_for_selector(entry.ready)
        suffix = "" if scheme == "light" else "-dark"
        page.screenshot(path=str(SHOTS / f"a11y-{entry.name}{suffix}.png"), full_page=True)
        failing, others = _problems(page, scheme == "dark", entry.excluded)
        failures += [f"{entry.name} (1280, {scheme}) {line}" for line in failing]
        for line in others:
            print(f"{entry.name} (1280, {scheme}) {line}")
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(50)  # one frame for the layout at the new width
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            # The outermost elements past the right edge that no scroll box of theirs clips.
            wide = page.evaluate(
                """() => [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > 391)
                    .filter(e => {
                        for (let a = e.parentElement; a && a !== document.body; a = a.parentElement)
                            if (getComputedStyle(a).overflowX !== 'visible') return false;
                        return true;
                    })
                    .slice(0, 5)
                    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                         + (e.className && typeof e.className === 'string'
                            ? '.' + e.className.trim().split(/ +/).join('.') : ''))"""
            )
            failures.append(
                f"{entry.name} (390, {scheme}) is {width} px wide; wider than the screen: {wide}"
            )
        page.screenshot(path=str(SHOTS / f"a11y-{entry.name}-390{suffix}.png"), full_page=True)
        failing, others = _problems(page, True, entry.excluded)
        failures += [f"{entry.name} (390, {scheme}) {line}" for line in failing]
    page.emulate_media(color_scheme="light")
    return failures


def test_every_page_is_accessible_and_fits_a_phone(
    browser: Any, server: str, world: dict[str, str]
) -> None:
    failures: list[str] = []
    checked = 0
    for who in (None, *WHO):
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        if who is not None:
            _sign_in(page, server, who)
        for entry in (e for e in PAGES if e.who == who):
            failures += _check(page, entry, server + entry.path.format(**world))
            checked += 1
        context.close()
    assert checked == len(PAGES)
    assert not failures, f"{len(failures)} problem(s):\n" + "\n".join(failures)
