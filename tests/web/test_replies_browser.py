"""Replies in a real browser (Playwright driving Debian's chromium): a refused reply keeps
its draft and says what to change, the counter is the channel's, the template picker
follows the ticket's language, and an incident reply shows its count before it is sent.
Screenshots at desktop width and at 390 px."""

from __future__ import annotations

import orjson
from sqlalchemy import Engine, func, select

from sevadesk.channels.whatsapp.payloads import split_webhook
from sevadesk.fakes.graph_api import FakeGraph
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from tests.factories import lines, tweet
from tests.web.test_desk_browser import SHOTS, page, pytestmark, server, sign_in

__all__ = ["page", "pytestmark", "server"]  # the browser fixtures, shared with the desk's

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def newest_ref(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(select(t.tickets.c.ref).order_by(t.tickets.c.id.desc())).scalars().first()
        )


def shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=True)
    # Nothing wider than the phone: no sideways scrolling.
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    page.set_viewport_size(DESKTOP)
    assert overflow <= PHONE["width"], f"{name} is {overflow} px wide at 390"


def count_is(page, expected: str) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "(expected) => document.querySelector('#reply-count').textContent === expected",
        arg=expected,
    )


def test_a_reply_refused_for_a_phone_number_keeps_its_draft_and_says_what_to_change(
    page,  # type: ignore[no-untyped-def]
    server: str,
    pipeline: Pipeline,
    org_engine: Engine,
) -> None:
    pipeline.ingest(
        "x",
        "test",
        lines(tweet("@RailMinIndia fan not working in coach S3 of 12951", author_id="700")),
    )
    ref = newest_ref(org_engine)
    sign_in(page, server, "rly.agent", "rly-password")
    page.goto(f"{server}/desk/t/{ref}")
    count_is(page, "0 / 280")  # an X ticket: one post, as X counts it
    draft = "The attendant is on his way; call him on 9876543210 if the fan stops again."
    page.fill("#reply-body", draft)
    page.fill("#private-body", "Attendant Ramesh, coach S3")
    page.click("#reply-form button[type=submit]")
    error = page.wait_for_selector("#reply-error")
    said = error.text_content() or ""
    assert "Your public reply contains a phone number (“98765…”)" in said
    assert "Remove it or send it as a private message." in said
    assert "private_body" not in said and "characters" not in said
    assert page.input_value("#reply-body") == draft
    assert page.input_value("#private-body") == "Attendant Ramesh, coach S3"
    shoot(page, "reply-refused")

    # The tab keeps the draft too: a reload (or a lost connection) does not lose it.
    page.goto(f"{server}/desk/t/{ref}")
    assert page.input_value("#reply-body") == draft
    fixed = "The attendant is on his way to coach S3."
    page.fill("#reply-body", fixed)
    page.fill("#private-body", "")
    page.click("#reply-form button[type=submit]")
    page.wait_for_selector(".flash")
    assert "reply_queued" in (page.text_content("ol.audit") or "")
    assert page.input_value("#reply-body") == ""  # sent: the kept draft is gone
    page.goto(f"{server}/desk/t/{ref}")
    assert page.input_value("#reply-body") == ""


def test_the_counter_is_4096_on_whatsapp_and_280_on_x(
    page,  # type: ignore[no-untyped-def]
    server: str,
    pipeline: Pipeline,
    org_engine: Engine,
) -> None:
    graph = FakeGraph("token", "secret")
    batch = split_webhook(graph.message_body("919812345678", "Coach S3 fan not working, 12951"))
    pipeline.ingest("whatsapp", "wa-webhook", [orjson.dumps(m).decode() for m in batch.messages])
    wa = newest_ref(org_engine)
    pipeline.ingest(
        "x", "test", lines(tweet("@RailMinIndia no water in coach B4 of 12951", author_id="701"))
    )
    x = newest_ref(org_engine)
    sign_in(page, server, "admin", "admin-password")
    page.goto(f"{server}/desk/t/{wa}")
    long = ("The fan will be repaired at Kota. " * 10).strip()  # 339: too long for X only
    page.fill("#reply-body", long)
    count_is(page, f"{len(long)} / 4096")
    assert "4,096" in (page.text_content("#reply-limit") or "")
    assert not page.eval_on_selector("#reply-count", "e => e.classList.contains('over')")
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / "reply-whatsapp-390.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{server}/desk/t/{x}")
    page.fill("#reply-body", long)
    count_is(page, "339 / 280")
    assert page.eval_on_selector("#reply-count", "e => e.classList.contains('over')")
    page.click("#reply-form button[type=submit]")
    said = page.text_content("#reply-error") or ""
    assert "339 characters as X counts them; one post holds 280. Shorten it by 59" in said


def test_the_template_picker_on_a_hindi_ticket_offers_the_hindi_templates(
    page,  # type: ignore[no-untyped-def]
    server: str,
    pipeline: Pipeline,
    org_engine: Engine,
) -> None:
    pipeline.ingest(
        "x",
        "test",
        lines(tweet("@RailMinIndia कोच S3 में पंखा नहीं चल रहा, ट्रेन 12951", author_id="702")),
    )
    ref = newest_ref(org_engine)
    sign_in(page, server, "rly.agent", "rly-password")
    page.goto(f"{server}/desk/t/{ref}")
    codes = page.eval_on_selector_all(
        "#template-picker option[data-code]",
        "os => os.map(o => o.dataset.code + ':' + o.dataset.language)",
    )
    assert "dm_pnr:hi" in codes and "forwarded:hi" in codes
    assert "dm_pnr:en" not in codes and not any(c.startswith("share_pnr") for c in codes)
    page.fill("#reply-body", "नमस्ते।")
    page.select_option("#template-picker", label="dm pnr (hi · X)")
    body = page.input_value("#reply-body")
    # Inserted after what was typed, its variables filled from the ticket.
    assert body.startswith("नमस्ते।\n") and f"संदर्भ {ref}।" in body and "{" not in body
    shoot(page, "reply-template-hindi")


def test_an_incident_reply_shows_the_count_and_asks_for_confirmation_before_sending(
    page,  # type: ignore[no-untyped-def]
    server: str,
    pipeline: Pipeline,
    org_engine: Engine,
) -> None:
    texts = [
        "@RailMinIndia coach B3 of 12951 is very dirty, toilets stinking",
        "@RailMinIndia toilets in coach B3 of 12951 are filthy and stinking",
        "@RailMinIndia cockroaches and dirt everywhere in coach B3 of 12951, very unhygienic",
        "@RailMinIndia garbage all over coach B3 in train 12951, please send cleaning staff",
        "@RailMinIndia passenger unconscious in coach B3 of 12951, need a doctor urgently",
    ]
    pipeline.ingest(
        "x",
        "test",
        lines(*[tweet(p, author_id=str(720 + n), minutes=n) for n, p in enumerate(texts)]),
    )
    with org_engine.connect() as conn:
        iref = conn.execute(select(t.incidents.c.ref)).scalar_one()

    def outbox() -> int:
        with org_engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.outbox)).scalar_one())

    sign_in(page, server, "rly.agent", "rly-password")
    page.goto(f"{server}/desk/incidents/{iref}")
    assert page.locator("table.tickets tbody tr").count() == 4  # the SOS is not among them
    page.fill("#incident-body", "Cleaning staff will attend coach B3 at Kanpur Central.")
    page.click("#check-recipients")
    page.wait_for_selector("#confirm-send")
    assert "This reply goes to 4 citizens (4 tickets) on X." in (
        page.text_content("#confirm-count") or ""
    )
    assert outbox() == 0  # nothing sent before the officer confirms
    shoot(page, "incident-confirm")
    page.click("#confirm-button")
    page.wait_for_selector("#incident-sent")
    assert "Reply queued for 4 tickets (4 citizens)." in (page.text_content("#incident-sent") or "")
    assert outbox() == 4


def test_an_admin_manages_the_templates_in_the_desk(
    page,  # type: ignore[no-untyped-def]
    server: str,
) -> None:
    sign_in(page, server, "admin", "admin-password")
    page.goto(f"{server}/desk/admin")
    page.click("#manage-templates")
    page.wait_for_selector("#tp-add")
    assert page.locator(".tp-row[data-code=dm_pnr][data-language=hi][data-channel=x]").count() == 1
    page.fill("#new-code", "platform_change")
    page.fill("#new-language", "hi")
    page.select_option("#new-channel", "whatsapp")
    page.fill("#new-body", "ट्रेन अब प्लेटफ़ॉर्म 4 पर आएगी। संदर्भ {ref}।")
    page.click("#tp-add button[type=submit]")
    assert "platform_change" in (page.text_content("#tp-done") or "")
    assert page.locator(".tp-row[data-code=platform_change]").count() == 1
    page.click(".tp-row[data-code=dm_pnr][data-language=hi] summary")  # open one to edit
    shoot(page, "reply-templates-admin")
