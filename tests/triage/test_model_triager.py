"""The shipped triager: SOS in three scripts, noise stays out, admin rules win, versions recorded."""

from __future__ import annotations

import pytest

from sevadesk.triage.model_triager import ModelTriager
from sevadesk.triage.rules import TriageConfig


@pytest.fixture(scope="module")
def triager() -> ModelTriager:
    return ModelTriager()


@pytest.mark.parametrize(
    "text",
    [
        "@RailMinIndia medical emergency in coach B2 of 12628, passenger unconscious, need doctor",
        "@RailMinIndia कोच एस 4 में एक महिला बेहोश हो गई है, तुरंत डॉक्टर भेजें, ट्रेन 12555",
        "@Uppolice mere ghar mein chor ghus aaye hain, jaldi police bhejo, Aliganj Lucknow",
        "@RailwaySeva drunk men harassing girls in S6 of 12419 please send RPF",
    ],
)
def test_sos_posts_are_sos_in_every_script(triager: ModelTriager, text: str) -> None:
    result = triager.triage_one(text)
    assert (result.kind, result.urgency, result.actionable) == ("sos", "sos", True)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "@RailMinIndia girls are being teased by boys in S4 of 12555, they do not feel safe",
            marks=pytest.mark.xfail(
                strict=True,
                reason="missed by the 2026-12-07 SOS head at its cross-validated lines; MODEL_CARD Known limits",
            ),
        ),
        "@RailMinIndia my son has high fever in coach B3 of 12301, please help",
        "@RailMinIndia send some police to coach S2 of 12423, men are fighting",
        # No one says "please" or "I", yet each is someone in danger now.
        "Fire in train 12951 near Kota @RailMinIndia",
        "woman being harassed in ladies compartment of Virar local @WesternRly",
        pytest.param(
            "@Uppolice gunshots heard in sector 12 Noida",
            marks=pytest.mark.xfail(
                strict=True,
                reason="missed by the 2026-12-07 SOS head at its cross-validated lines; MODEL_CARD Known limits",
            ),
        ),
        "mobile stolen at Hazratganj #UPPolice",
        "@Uppolice robbery at SBI ATM Lucknow Hazratganj",
        "@Uppolice mera beta kal se missing hai",
        pytest.param(
            "@RailMinIndia Send some police officer for this, take immediate action",
            marks=pytest.mark.xfail(
                strict=True,
                reason="missed by the 2026-12-07 SOS head at its cross-validated lines; MODEL_CARD Known limits",
            ),
        ),
    ],
)
def test_danger_illness_and_calls_for_police_are_sos(triager: ModelTriager, text: str) -> None:
    assert triager.triage_one(text).kind == "sos"


@pytest.mark.parametrize(
    "text",
    [
        "@RailMinIndia please release emergency quota for PNR 4512345678, travelling tomorrow",
        "@RailMinIndia someone pulled the emergency chain again near Itarsi, 12627 stopped",
        "@RailMinIndia please help me find the coach position of 19321 at Jaunpur",
    ],
)
def test_railway_idioms_and_routine_help_are_not_sos(triager: ModelTriager, text: str) -> None:
    assert triager.triage_one(text).kind != "sos"


@pytest.mark.parametrize(
    "text",
    [
        "@rahul_k Your complaint has been registered on RailMadad and complaint no. has been sent "
        "through SMS on your mobile no. You may track your complaint via this link https://t.co/x",
        "@vivek05 Kindly share PNR & contact number, issue referred to concerned official "
        "@Drmjabalpur for urgent medical assistance.",
        "@RailwaySeva @kashif4m Matter forwarded to @drmljn for n/a",
    ],
)
def test_an_officials_reply_is_noise_even_when_it_names_an_emergency(
    triager: ModelTriager, text: str
) -> None:
    result = triager.triage_one(text)
    assert (result.kind, result.actionable) == ("noise", False)


def test_a_citizen_quoting_the_canned_reply_is_still_heard(triager: ModelTriager) -> None:
    result = triager.triage_one(
        "@RailMinIndia you said matter forwarded to DRM but my coach B2 of 12628 still has "
        "no water, PNR 4512345678"
    )
    assert result.actionable


def test_a_direct_message_quoting_the_canned_reply_is_never_the_agencys_own(
    triager: ModelTriager,
) -> None:
    text = "Matter forwarded to DRM 3 days ago, still no water in coach B2 of 12628"
    (public, direct) = triager.triage_batch([text, text], [False, True])
    assert not public.actionable
    assert direct.actionable


@pytest.mark.parametrize(
    "text",
    [
        # The model alone reads both as talk (P(actionable) 0.25 and 0.43).
        "side lower berth curtain torn and light fused pnr 4523456789",
        "water leaking from roof of coach, PNR 4421234567",
    ],
)
def test_a_post_that_gives_a_pnr_is_actionable(triager: ModelTriager, text: str) -> None:
    result = triager.triage_one(text)
    assert result.actionable and result.kind == "grievance"


@pytest.mark.xfail(
    strict=True, reason="the 2026-12-07 kind model calls this praise with a PNR actionable"
)
def test_a_pnr_in_praise_or_in_an_officials_reply_is_not_a_grievance(
    triager: ModelTriager,
) -> None:
    praise, reply = triager.triage_batch(
        [
            "pnr 4523456789 loved the food and the clean linen, thanks",
            "@ravi_k Kindly share your mobile no. for PNR 4523456789, matter forwarded to DRM",
        ]
    )
    assert (praise.kind, reply.kind) == ("feedback", "noise")


def test_news_of_an_accident_is_not_an_sos(triager: ModelTriager) -> None:
    result = triager.triage_one(
        "Six coaches of Express derail near Kanpur, no injuries reported https://t.co/abc"
    )
    assert result.kind != "sos"


@pytest.mark.parametrize(
    "text",
    [
        "Thank you @RailMinIndia, the coach was cleaned within 20 minutes. Great job!",
        "Indian Railways to run 150 special trains for Diwali, says ministry https://t.co/x",
        "Earn 5000 daily from home, click here for crypto giveaway, follow back",
    ],
)
def test_praise_news_and_spam_are_not_actionable(triager: ModelTriager, text: str) -> None:
    assert not triager.triage_one(text).actionable


def test_a_specific_complaint_is_a_grievance_with_category_and_entities(
    triager: ModelTriager,
) -> None:
    result = triager.triage_one(
        "@RailMinIndia coach B4 of 12951 has no water since morning, PNR 4512345678"
    )
    assert result.actionable and result.kind == "grievance"
    assert result.category == "water"
    assert {(e.kind, e.value) for e in result.entities} >= {
        ("pnr", "4512345678"),
        ("train", "12951"),
    }
    assert result.model_version == triager.version
    assert 0.5 <= result.score <= 1


def test_admin_rules_win_where_they_match() -> None:
    config = TriageConfig(
        rules=[
            {"id": "kumbh", "keywords": ["kumbh"], "category": "crowding", "urgency": "high"},
            {"id": "ticket-no", "pattern": r"\bRLY-\d{6}\b", "kind": "query"},
        ]
    )
    triager = ModelTriager(config=config)
    crowd = triager.triage_one(
        "@RailMinIndia huge crowd at Prayagraj for Kumbh, no space on platform 5"
    )
    assert (crowd.category, crowd.urgency) == ("crowding", "high")
    assert triager.triage_one("what happened to RLY-000123?").kind == "query"


def test_an_organisation_can_restrict_its_categories() -> None:
    police_only = ModelTriager(
        config=TriageConfig(categories=["theft", "traffic", "noise_nuisance"])
    )
    result = police_only.triage_one(
        "@Uppolice illegal parking blocking our gate every day in Aliganj"
    )
    assert result.category == "traffic"
    water = police_only.triage_one("@Uppolice no water in the police station toilet, complaint")
    assert water.category != "water"


def test_a_complaint_hashtag_addresses_the_desk_but_does_not_make_a_notice_a_complaint() -> None:
    tagged = ModelTriager(config=TriageConfig(addressing_hashtags=["ghmc"]))
    complaint, notice, thanks = tagged.triage_batch(
        [
            "Street lights not working in sector 15 for two weeks #GHMC",
            "GHMC announces property tax rebate till 30 June, pay online #GHMC",
            "Thank you #GHMC for clearing the garbage so quickly",
        ]
    )
    assert (complaint.actionable, complaint.kind) == (True, "grievance")
    assert not notice.actionable and not thanks.actionable


def test_an_organisations_threshold_moves_the_line_between_ticket_and_screened_out() -> None:
    text = "the lift is not working"  # P(actionable) about 0.37 unaddressed
    default = ModelTriager()
    assert not default.triage_one(text).actionable
    recall_first = ModelTriager(config=TriageConfig(actionable_threshold=0.2))
    assert recall_first.triage_one(text).actionable
    strict = ModelTriager(config=TriageConfig(actionable_threshold=0.99))
    assert not strict.triage_one(
        "@RailMinIndia coach B4 of 12951 has no water since Kota"
    ).actionable
    assert default.triage_one("@RailMinIndia coach B4 of 12951 has no water since Kota").actionable


def test_news_of_an_accident_is_not_sos_but_a_woman_harassed_on_her_berth_is() -> None:
    triager = ModelTriager()
    news = triager.triage_one(
        "Ex gratia of Rs 5 lakh announced for the families of those killed in the derailment"
    )
    assert news.kind != "sos"
    harassed = triager.triage_one(
        "@RailMinIndia a man on the upper berth keeps touching my wife in coach S4 of 12802,"
        " PNR 4512345678"
    )
    assert harassed.kind == "sos"
