"""Posts to police, telecom, post, passport, health and municipal handles, written by the team (not from
../shared/data, never trained on): the model learnt mostly from railway and airline posts, and
these guard against it reading other agencies' complaints as noise."""

from __future__ import annotations

import pytest

from sevadesk.triage.model_triager import ModelTriager

TRIAGER = ModelTriager()

ACTIONABLE = [
    ("@Uppolice my scooty was stolen from outside the bank in Aliganj, please register FIR", "sos"),
    ("@DoT_India no network in our village for 3 days, Jio tower not working", "grievance"),
    (
        "@IndiaPostOffice speed post booked on 2 Nov still not delivered, tracking shows in transit",
        "grievance",
    ),
    ("@passportsevamea my police verification is pending for 45 days", "grievance"),
    ("@Airtel_Presence broadband down since morning, complaint no 12345 no response", "grievance"),
    (
        "@noidapolice society ke bahar roz raat ko sharabi hungama karte hai, kuch kijiye",
        "grievance",
    ),
    ("@Uppolice हमारे मोहल्ले में रोज रात को चोरी हो रही है कृपया कार्रवाई करें", "sos"),
    ("@RailMinIndia सर ट्रेन 12555 में एसी काम नहीं कर रहा है", "grievance"),
    (
        "@CPGRAMS my grievance closed without any action, pension not received for 6 months",
        "grievance",
    ),
    ("@BSNLCorporate landline dead for two weeks, lineman not coming", "grievance"),
    ("@Uppolice someone is following my daughter from school every day, we are scared", "sos"),
    (
        "@NHAI_Official huge potholes on NH 27 near Gorakhpur, accidents happening daily",
        "grievance",
    ),
    ("@LkoNagarNigam हमारी गली में सड़क पर बड़े गड्ढे हैं, रोज लोग गिरते हैं", "grievance"),
    ("@Uppolice मेरे घर के पास रोज़ रात को तेज़ आवाज़ में डीजे बजता है, कृपया कार्रवाई करें", "grievance"),
]
# The category a complaint to each agency gets (keywords, Hindi spellings of loanwords too).
CATEGORIES = [
    ("@NHAI_Official huge potholes on NH 27 near Gorakhpur", "roads"),
    ("@Uppolice मेरे घर के पास रोज़ रात को तेज़ आवाज़ में डीजे बजता है", "noise_nuisance"),
    ("@passportsevamea मेरा पासपोर्ट पुलिस वेरिफिकेशन के बाद भी पेंडिंग है", "verification"),
    ("@IndiaPostOffice मेरा पार्सल 15 दिन से डिलीवर नहीं हुआ", "delivery"),
    ("@BSNLCorporate लैंडलाइन दस दिन से बंद है", "network_outage"),
]
NOT_ACTIONABLE = [
    "@Uppolice thank you for the quick action, very proud of UP police",
    "UP Police recruitment 2024 notification out, check details here https://t.co/abc",
    "Happy Diwali to all UP police personnel #UPPolice",
]


@pytest.mark.parametrize(("text", "kind"), ACTIONABLE)
def test_complaints_to_other_agencies_are_actionable(text: str, kind: str) -> None:
    result = TRIAGER.triage_one(text)
    assert (result.actionable, result.kind) == (True, kind)


@pytest.mark.parametrize("text", NOT_ACTIONABLE)
def test_thanks_news_and_greetings_are_not(text: str) -> None:
    assert not TRIAGER.triage_one(text).actionable


@pytest.mark.parametrize(("text", "category"), CATEGORIES)
def test_complaints_to_other_agencies_get_their_category(text: str, category: str) -> None:
    assert TRIAGER.categories([text]) == [category]
