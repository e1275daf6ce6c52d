"""Each flow of the citizen bot, through the signed WhatsApp webhook, in English and Hindi."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
from sqlalchemy import select

from sevadesk.store import tables as t
from tests.bot.conftest import BotDesk, choices_of, text_of
from tests.channels.conftest import count, wait_for


def _ticket(desk: BotDesk, ref: str) -> dict:
    with desk.engine.connect() as conn:
        row = conn.execute(
            select(t.tickets, t.units.c.code.label("unit"))
            .join(t.units, t.units.c.id == t.tickets.c.unit_id)
            .where(t.tickets.c.ref == ref)
        ).one()
    return dict(row._mapping)


def _ref(text: str) -> str:
    import re

    match = re.search(r"[A-Z]{2,6}-\d{6}", text)
    assert match, text
    return match.group(0)


def test_lodging_a_complaint_in_english(desk: BotDesk) -> None:
    asha = desk.citizen()
    menu = asha.says("hello")[-1]
    assert "How can we help" in text_of(menu) and choices_of(menu)[:2] == ["lodge", "track"]
    departments = asha.picks("lodge")[-1]
    assert choices_of(departments) == ["RLY", "UPP"]
    categories = asha.taps("RLY")[-1]
    assert "water" in choices_of(categories) and choices_of(categories)[-1] == "__more__"
    assert "describe the problem" in text_of(asha.picks("water")[-1])
    where = asha.says("Coach B4 of train 12951 has no water since Kota, PNR 4512345678")[-1]
    assert "PIN code" in text_of(where)
    confirm = asha.says("PIN 226001")[-1]
    assert "Category: Water" in text_of(confirm) and "PIN 226001" in text_of(confirm)
    assert choices_of(confirm) == ["submit", "change", "cancel"]
    done = asha.taps("submit")
    ref = _ref(text_of(done[0]))
    assert "registered" in text_of(done[0]) and ref.startswith("RLY-")
    ticket = _ticket(desk, ref)
    assert ticket["category"] == "water" and ticket["channel"] == "whatsapp"
    assert ticket["unit"].startswith("RLY")


def test_lodging_a_complaint_in_hindi_with_a_shared_location_and_a_photo(desk: BotDesk) -> None:
    ravi = desk.citizen()
    menu = ravi.says("नमस्ते, मुझे शिकायत दर्ज करनी है")[-1]
    assert "हम आपकी क्या सहायता" in text_of(menu)
    ravi.picks("lodge")
    ravi.taps("UPP")
    assert "समस्या" in text_of(ravi.picks("theft")[-1])
    where = ravi.sends_photo("हज़रतगंज में मेरा मोबाइल छीन लिया गया")[-1]
    assert "पिन कोड" in text_of(where)
    confirm = ravi.shares_location(26.8500, 80.9450)[-1]  # Hazratganj, Lucknow
    assert "श्रेणी: चोरी" in text_of(confirm) and "[image]" in text_of(confirm)
    done = ravi.taps("submit")
    assert "आपकी शिकायत दर्ज हो गई है" in text_of(done[0])
    ticket = _ticket(desk, _ref(text_of(done[0])))
    assert ticket["unit"] == "UPP-LUCKNOW" and ticket["category"] == "theft"


def test_tracking_by_reference_and_my_complaints_in_english_and_hindi(desk: BotDesk) -> None:
    asha = desk.citizen()
    asha.says("hello")
    asha.picks("lodge")
    asha.taps("RLY")
    asha.picks("water")
    asha.says("No water in coach B4 of 12951")
    asha.taps("skip")
    ref = _ref(text_of(asha.taps("submit")[0]))
    asha.picks("track")
    status = text_of(asha.says(ref.lower())[0])
    assert f"{ref}: received" in status and "Office:" in status
    asha.picks("track")
    mine = text_of(asha.taps("mine")[0])
    assert ref in mine
    unknown = text_of(asha.picks("track") and asha.says("RLY-999999")[0])
    assert "no complaint RLY-999999" in unknown
    asha.picks("language")
    asha.picks("hi")
    asha.picks("track")
    assert "कार्यालय:" in text_of(asha.says(ref)[0])


def test_find_help_by_pin_in_english_and_by_location_in_hindi(desk: BotDesk) -> None:
    asha = desk.citizen()
    asha.says("hello")
    asha.picks("help")
    answer = text_of(asha.says("226001")[0])
    assert "PIN 226001" in answer and "Lucknow police" in answer and "112" in answer
    asha.picks("help")
    assert "valid PIN" in text_of(asha.says("2260011234")[0])
    ravi = desk.citizen()
    ravi.says("नमस्ते")
    ravi.picks("help")
    answer = text_of(ravi.shares_location(26.8500, 80.9450)[0])
    assert "के कार्यालय" in answer and "Lucknow police" in answer


def test_information_topics_in_english_and_hindi(desk: BotDesk) -> None:
    asha = desk.citizen()
    asha.says("hello")
    topics = asha.picks("faq")[-1]
    assert choices_of(topics) == ["lost-property", "emergency"]
    assert "RPF help line 139" in text_of(asha.taps("lost-property")[0])
    ravi = desk.citizen()
    ravi.says("नमस्ते")
    ravi.picks("faq")
    assert "महिला हेल्पलाइन 1090" in text_of(ravi.taps("emergency")[0])


def test_talking_to_a_person_then_not_fixed_reopens_as_an_appeal(desk: BotDesk) -> None:
    asha = desk.citizen()
    asha.says("hello")
    started = text_of(asha.picks("person")[0])
    ref = _ref(started)
    assert "connecting you to an officer" in started
    before = len(desk.graph.sent)
    asha.says_quietly("My bag was stolen at Charbagh station, Lucknow 226004")
    wait_for(
        lambda: count(desk.engine, t.messages, t.messages.c.direction == "in") >= 2,
        what="forwarded",
    )
    time.sleep(0.3)
    assert len(desk.graph.sent) == before  # the bot stays quiet while an officer has it
    reply = httpx.post(
        f"{desk.url}/api/v1/tickets/{ref}/replies",
        json={"body": "Please share the bag's colour.", "idempotency_key": "h1"},
        headers=desk.api,
    )
    assert reply.status_code == 201
    wait_for(
        lambda: any(
            m.get("text", {}).get("body") == "Please share the bag's colour."
            for m in desk.graph.sent
        )
    )
    resolved = httpx.post(
        f"{desk.url}/api/v1/tickets/{ref}/status",
        json={"status": "resolved", "note": "bag found"},
        headers=desk.api,
    )
    assert resolved.status_code == 200, resolved.text
    wait_for(
        lambda: any(
            "Was the problem fixed" in text_of(m) for m in desk.graph.sent if m["to"] == asha.wa_id
        )
    )
    unit_before = _ticket(desk, ref)["unit"]
    answer = text_of(asha.taps("not_fixed")[0])
    assert f"{ref} has been reopened" in answer
    after = _ticket(desk, ref)
    # Reopened as an appeal (one level up; this ticket sits at the top unit, so it stays).
    assert after["status"] == "in_progress" and after["appeal_count"] == 1
    assert after["route_reason"] == "appeal" and unit_before == after["unit"] == "ROOT"


def test_confirming_a_fix_in_hindi_closes_the_ticket(desk: BotDesk) -> None:
    ravi = desk.citizen()
    ravi.says("नमस्ते")
    ravi.picks("lodge")
    ravi.taps("UPP")
    ravi.picks("theft")
    ravi.says("मेरी साइकिल चोरी हो गई, लखनऊ")
    ravi.says("226001")
    ref = _ref(text_of(ravi.taps("submit")[0]))
    for status in ("in_progress", "resolved"):
        httpx.post(
            f"{desk.url}/api/v1/tickets/{ref}/status",
            json={"status": status, "note": "ok"},
            headers=desk.api,
        )
    wait_for(
        lambda: any(
            "क्या समस्या ठीक हो गई" in text_of(m) for m in desk.graph.sent if m["to"] == ravi.wa_id
        )
    )
    assert "धन्यवाद" in text_of(ravi.taps("fixed")[0])
    assert _ticket(desk, ref)["status"] == "closed"


def test_three_misunderstandings_offer_a_person(desk: BotDesk) -> None:
    asha = desk.citizen()
    asha.says("hello")
    first = asha.says("blah")
    assert "did not understand" in text_of(first[0]) and choices_of(first[-1])[:1] == ["lodge"]
    asha.says("qwerty")
    offer = asha.says("???")[-1]
    assert "talk to a person" in text_of(offer) and choices_of(offer) == ["person", "menu"]


def test_a_restart_mid_conversation_continues_where_it_was(start_desk) -> None:  # type: ignore[no-untyped-def]
    first = start_desk()
    asha = first.citizen()
    asha.says("hello")
    asha.picks("lodge")
    asha.taps("RLY")
    asha.picks("water")
    start_desk.stop_all()
    second = start_desk()  # a new process on the same database
    assert "PIN code" in text_of(asha.says("No water in coach B4 of 12951")[-1])
    done = asha.taps("skip")
    assert "Please confirm" in text_of(done[-1])
    assert second.url != first.url


def test_an_idle_session_expires_with_a_polite_message(start_desk) -> None:  # type: ignore[no-untyped-def]
    desk = start_desk()
    asha = desk.citizen()
    asha.says("hello")
    asha.picks("lodge")
    desk.clock.advance(timedelta(minutes=31))
    replies = asha.says("No water in coach B4")
    assert "timed out" in text_of(replies[0]) and "How can we help" in text_of(replies[-1])


def test_talking_to_a_person_in_hindi_and_the_officer_closing_it(desk: BotDesk) -> None:
    ravi = desk.citizen()
    ravi.says("नमस्ते")
    started = text_of(ravi.picks("person")[0])
    assert "अधिकारी से जोड़ रहे हैं" in started
    ref = _ref(started)
    reply = httpx.post(
        f"{desk.url}/api/v1/tickets/{ref}/replies",
        json={"body": "नमस्ते, मैं इंस्पेक्टर वर्मा हूँ। बताइए।", "idempotency_key": "hi-1"},
        headers=desk.api,
    )
    assert reply.status_code == 201
    wait_for(
        lambda: any("इंस्पेक्टर वर्मा" in text_of(m) for m in desk.graph.sent if m["to"] == ravi.wa_id)
    )
    httpx.post(
        f"{desk.url}/api/v1/tickets/{ref}/status",
        json={"status": "resolved", "note": "done"},
        headers=desk.api,
    )
    wait_for(
        lambda: any(
            "क्या समस्या ठीक हो गई" in text_of(m) for m in desk.graph.sent if m["to"] == ravi.wa_id
        )
    )
    # The conversation is back with the bot: the menu words work again.
    assert "हम आपकी क्या सहायता" in text_of(ravi.says("मेनू")[-1])


def test_a_district_can_be_picked_from_a_paged_list(desk: BotDesk) -> None:
    asha = desk.citizen()
    asha.says("hello")
    asha.picks("lodge")
    asha.taps("UPP")
    asha.picks("theft")
    asha.says("Chain snatched near the market")
    districts = asha.taps("district")[-1]
    assert choices_of(districts)[:2] == ["Kanpur", "Kanpur Nagar"]
    confirm = asha.picks("Lucknow")[-1]
    assert "Place: Lucknow" in text_of(confirm)
    ticket = _ticket(desk, _ref(text_of(asha.taps("submit")[0])))
    assert ticket["unit"] == "UPP-LUCKNOW"


def test_skipping_the_place_files_no_place_not_the_word_skip(desk: BotDesk) -> None:
    asha = desk.citizen()
    asha.says("hello")
    asha.picks("lodge")
    asha.taps("RLY")
    asha.picks("water")
    asha.says("No water in coach B4 of train 12951 since Kota")
    confirm = text_of(asha.taps("skip")[-1])
    assert "Place: -" in confirm and "skip" not in confirm.lower()
    ref = _ref(text_of(asha.taps("submit")[0]))
    m = t.messages.c
    with desk.engine.connect() as conn:
        ticket_id = conn.execute(select(t.tickets.c.id).where(t.tickets.c.ref == ref)).scalar_one()
        filed = (
            conn.execute(select(m.text).where(m.ticket_id == ticket_id, m.direction == "in"))
            .scalars()
            .all()
        )
    assert filed and not any("skip" in text.lower() or "District:" in text for text in filed)
    public = httpx.get(f"{desk.url}/status/{ref}")
    assert "skip" not in public.text.lower()
