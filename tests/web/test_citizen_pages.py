"""The citizens' complaint form and status page: four languages, the agency chosen or
inferred (never silently the deployment root), a minimum meaningful length, and the office's
public answer on the status page."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from sevadesk.bot.catalogue import Catalogues
from sevadesk.config import Settings
from sevadesk.domain.clock import FrozenClock
from sevadesk.store import tables as t
from sevadesk.store.users_repo import actor_by_username
from sevadesk.tickets.actions import change_status
from sevadesk.web.app import create_app
from sevadesk.web.ui.i18n_citizen import LANGUAGES, STRINGS, accepted

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

GOOD_TAMIL = "சென்னை சென்ட்ரல் ரயில் நிலையத்தில் என் கைப்பை திருடப்பட்டது"


@pytest.fixture
def client(org_engine: Engine, settings: Settings, clock: FrozenClock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, org_engine, clock)) as c:
        yield c


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match
    return match.group(1)


def _file(client: TestClient, lang: str = "en", **fields: str):  # type: ignore[no-untyped-def]
    token = _csrf(client.get(f"/complaint?lang={lang}").text)
    data = {"csrf": token, "lang": lang, "category": "theft", **fields}
    return client.post("/complaint", data=data, follow_redirects=False)


def _unit_of(engine: Engine, ref: str) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                select(t.units.c.code)
                .join(t.tickets, t.tickets.c.unit_id == t.units.c.id)
                .where(t.tickets.c.ref == ref)
            ).scalar_one()
        )


def test_every_page_string_is_written_in_every_language() -> None:
    for lang in LANGUAGES:
        assert set(STRINGS[lang]) == set(STRINGS["en"]), lang
        if lang != "en":
            same = [k for k, v in STRINGS[lang].items() if v == STRINGS["en"][k]]
            assert not same, f"{lang}: left in English: {same}"
    assert set(LANGUAGES) <= set(Catalogues.load().languages)  # the bot's four


def test_the_browser_language_is_the_default_and_the_switcher_wins(client: TestClient) -> None:
    assert accepted("ta-IN,ta;q=0.9,en;q=0.5") == "ta"
    assert accepted("fr, mr;q=0.4, hi;q=0.8") == "hi"
    assert accepted("de") is None
    tamil = client.get("/complaint", headers={"accept-language": "ta-IN,ta;q=0.9"}).text
    assert 'lang="ta"' in tamil and "புகார் பதிவு செய்யுங்கள்" in tamil
    marathi = client.get("/complaint?lang=mr").text
    assert "तक्रार नोंदवा" in marathi and "चोरी" in marathi  # the bot's word for theft
    # The choice is remembered over the browser's language.
    later = client.get("/complaint", headers={"accept-language": "ta"}).text
    assert "तक्रार नोंदवा" in later


def test_a_one_word_complaint_is_refused_in_the_citizens_language_and_kept(
    client: TestClient, org_engine: Engine
) -> None:
    answer = _file(client, "ta", agency="RLY", description="திருட்டு")
    assert answer.status_code == 400
    assert "இன்னும் சில சொற்களில்" in answer.text  # "in a few more words"
    assert ">திருட்டு</textarea>" in answer.text  # what they typed is still there
    one_letter = _file(client, "en", agency="RLY", description="x")
    assert one_letter.status_code == 400 and "at least 3 words" in one_letter.text
    with org_engine.connect() as conn:
        assert conn.execute(select(t.tickets.c.id)).first() is None


def test_a_complaint_goes_to_the_agency_chosen_never_the_root(
    client: TestClient, org_engine: Engine
) -> None:
    answer = _file(client, "ta", agency="RLY", description=GOOD_TAMIL)
    assert answer.status_code == 303, answer.text
    ref = answer.headers["location"].split("/status/")[1].split("?")[0]
    assert _unit_of(org_engine, ref).startswith("RLY")
    page = client.get(answer.headers["location"]).text
    assert "உங்கள் புகார் பதிவு செய்யப்பட்டது" in page and ref in page


def test_without_a_choice_the_agency_is_inferred_from_a_handle_or_asked_for(
    client: TestClient, org_engine: Engine
) -> None:
    unknown = _file(client, description="My purse was stolen near the market yesterday")
    assert unknown.status_code == 400 and "Please choose the agency" in unknown.text
    assert "My purse was stolen near the market yesterday</textarea>" in unknown.text
    named = _file(client, description="@Uppolice my purse was stolen in Lucknow 226001")
    assert named.status_code == 303
    ref = named.headers["location"].split("/status/")[1].split("?")[0]
    assert _unit_of(org_engine, ref) == "UPP-LUCKNOW"  # inside the agency, by the PIN


def test_the_citizen_chooses_a_category_or_something_else(
    client: TestClient, org_engine: Engine
) -> None:
    unchosen = _file(
        client,
        "mr",
        category="",
        agency="UPP",
        description="Lucknow 226001 mein chain chhin li gayi",
    )
    assert unchosen.status_code == 400 and "कशाबद्दल आहे ते निवडा" in unchosen.text
    other = _file(
        client,
        category="other",
        agency="UPP",
        description="A stray bull blocks the lane in Lucknow 226001",
    )
    assert other.status_code == 303


def test_an_agency_link_chooses_the_agency(client: TestClient) -> None:
    page = client.get("/complaint?agency=UPP").text
    assert '<option value="UPP" selected>' in page
    root = client.get("/complaint").text
    assert 'value="ROOT"' not in root  # the deployment's root is no agency to choose


def test_the_status_page_shows_the_offices_answer_masked_with_its_time(
    client: TestClient, org_engine: Engine, clock: FrozenClock
) -> None:
    answer = _file(
        client, "hi", agency="UPP", description="Lucknow 226001 mein meri cycle chori ho gayi"
    )
    ref = answer.headers["location"].split("/status/")[1].split("?")[0]
    before = client.get(f"/status/{ref}?lang=hi").text
    assert "कार्यालय ने अभी उत्तर नहीं दिया है" in before
    with org_engine.begin() as conn:
        officer = actor_by_username(conn, "lko.agent")
        assert officer is not None
        note = "Cycle found at Hazratganj thana; call 9876543210 to collect it."
        change_status(conn, officer, ref, "resolved", note, clock.now())
    after = client.get(f"/status/{ref}").text  # the cookie keeps Hindi
    assert "Cycle found at Hazratganj thana" in after and "9876543210" not in after
    assert re.search(r'id="answer-time">\d\d-\d\d-\d{4} \d\d:\d\d IST<', after)
    assert ">निपटाई गई<" in after  # the status as the bot says it in Hindi
    assert "Lucknow 226001 mein" not in after  # the complaint's own words stay private


def test_a_whatsapp_reply_stays_private_and_the_desk_says_a_form_answer_is_public(
    client: TestClient,
    org_engine: Engine,
    pipeline,
    clock: FrozenClock,  # type: ignore[no-untyped-def]
) -> None:
    import orjson

    from sevadesk.channels.whatsapp.payloads import split_webhook
    from sevadesk.fakes.graph_api import FakeGraph
    from sevadesk.tickets.actions import queue_reply
    from tests.web.signin import sign_in

    body = FakeGraph("token", "secret").message_body(
        "919812345678", "My chain was snatched near Hazratganj, Lucknow 226001"
    )
    messages = split_webhook(body).messages
    pipeline.ingest("whatsapp", "wa-webhook", [orjson.dumps(m).decode() for m in messages])
    with org_engine.begin() as conn:
        ref = conn.execute(select(t.tickets.c.ref)).scalar_one()
        officer = actor_by_username(conn, "lko.agent")
        assert officer is not None
        queue_reply(conn, officer, ref, "Asha ji, SHO Hazratganj will call you", None, clock.now())
    page = client.get(f"/status/{ref}").text
    assert "SHO Hazratganj" not in page and "The office has not answered yet" in page
    form = _file(
        client, agency="UPP", description="Street light broken for a week in Lucknow 226001"
    )
    web_ref = form.headers["location"].split("/status/")[1].split("?")[0]
    sign_in(client, "lko.agent", "lko-password")
    assert 'id="public-reason-web"' in client.get(f"/desk/t/{web_ref}").text


def test_the_agency_chosen_wins_over_a_handle_in_the_text(
    client: TestClient, org_engine: Engine
) -> None:
    answer = _file(
        client, agency="RLY", description="@Uppolice my bag was stolen on train 12951 near Kota"
    )
    ref = answer.headers["location"].split("/status/")[1].split("?")[0]
    assert _unit_of(org_engine, ref).startswith("RLY") and ref.startswith("RLY-")
