"""Districts and railway stations as triage entities: found where a post names them (a code, a
name, a PIN, a Hindi spelling), with the span it used, and not in everyday words."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sevadesk.triage.entities import extract
from sevadesk.triage.model_triager import ModelTriager
from sevadesk.triage.places import gazetteer, place_entities
from sevadesk.triage.text import tokens

TRIAGER = ModelTriager()


def places(text: str) -> list[tuple[str, str, str]]:
    """(kind, value, the words the post used) of each district and station entity."""
    return [
        (e.kind, e.value, text[e.start : e.end])
        for e in TRIAGER.triage_one(text).entities
        if e.kind in ("district", "station")
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Posts from indian-railways-tweets-llm-labeled (rows 218, 277, 360, 213, 347).
        (
            "Sir/ma'am, I am at old delhi station to board train 12413. train is delayed 7+ hrs. "
            "The train is standing still at Gurgaon station",
            [("station", "DLI", "old delhi"), ("station", "GGN", "Gurgaon")],
        ),
        (
            "Hi, @IndianRailMedia @RailMinIndia @RailwaySeva @NWRailways my pnr is 2534964632. "
            "I need clarification on this, do I need to reach the station? As my ticket is book "
            "from NDLS to AGC.",
            [("station", "NDLS", "NDLS"), ("station", "AGC", "AGC")],
        ),
        (
            "my pnr number 8512390565 my train is stop at palanpur jn almost 3 hour",
            [("station", "PNU", "palanpur")],
        ),
        (
            "Train no. 13021 seat no. B10/32 . my destination was Muzaffarpur junction. I lost my "
            "Addidas shoes in Train",
            [("station", "MFP", "Muzaffarpur")],
        ),
        (
            "अयोध्या-दिल्ली वंदेभारत को गोरखपुर तक बढ़ाना ही चाहिए।",
            [("district", "Ayodhya", "अयोध्या"), ("district", "Gorakhpur", "गोरखपुर")],
        ),
        # A district once, however many times it is named: by its strongest evidence (a PIN
        # before a district's name, which comes before a locality).
        (
            "@Uppolice chain snatching in Hazratganj, Lucknow 226001",
            [("district", "Lucknow", "226001")],
        ),
        ("@Uppolice chain snatching in Hazratganj today", [("district", "Lucknow", "Hazratganj")]),
        # The strongest evidence claims its words: the station, not a post office called
        # "Central".
        (
            "@RailMinIndia no water at Kanpur Central station",
            [("station", "CNB", "Kanpur Central")],
        ),
    ],
)
def test_stations_and_districts_in_real_posts(
    text: str, expected: list[tuple[str, str, str]]
) -> None:
    assert places(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # Post offices are called "Airport", "Railway Station", "Future" and "Kharab" too.
        "@AmericanAir stuck at the airport again, the future of this airline looks grim",
        "@RailMinIndia railway station par bahut bheed hai, AC kharab hai, karwai karo",
        "#IndianRailways I am aware that trains are late in fog",
        # Romanised Hindi everyday words that are post offices' names (ghanta, udhar, magar).
        "@RailMinIndia train ek ghanta late hai, udhar koi nahi aaya magar ticket checker aaya",
        # Acronyms that are also station codes, in railway posts (indian-railways-tweets-llm-labeled, row 1222;
        # the other two written by the team).
        "Sir why final year engineering students are not eligible for RRB(Railway recruitment "
        "board) JE Exam???",
        "@RailMinIndia chain snatching in the train, SSP GRP ne FIR nahi likhi",
        "@RailMinIndia refund for PNR 4512345678 not credited to my SBI account, status was CNF",
        # Parties, news agencies and auditors (indian-railways-tweets-llm-labeled, rows 183,
        # 805, 1522), and a state that is also a post office's name (row 513).
        "After Railway Budget merged with Union budget by BJP govt, no accountability. "
        "@RailMinIndia means not only Vande Bharat.",
        "Indian Railways successfully completed 180 kmph speed trial of new design Vistadome "
        "tourist coach. (Photo: ANI)",
        "Some Facts about #IndianRailways According to CAG Report 1.Just don't eat that food",
        "The cleanliness level of East coast railway. In frame is Odisha Sampark kranti "
        "express (12819)- coach S7 @RailMinIndia @EastCoastRail",
        # One-word post offices named like English words and given names (Saver, Anwar):
        # us-airline-sentiment and twcs-customer-support-sample.
        "@AmericanAir switched to AA direct flight. Award is saver level.",
        "we has respond you via DM, see you there! - Anwar",
    ],
)
def test_everyday_words_are_not_places(text: str) -> None:
    assert places(text) == []


@pytest.mark.parametrize(
    "text",
    [
        # Romanised Hindi: "went", "a guy", "a market"; a railway zone; a given name.
        "Mahesh Yadav ka bag chori ho gaya coach S4 mein",
        "train chali gayi aur banda wahi reh gaya",
        "sabzi mandi ke paas light nahi hai",
        "South Central Railway ki train late hai",
        "Anand Kumar here, my refund not received",
        "@IRCTC insect in puri served in 12802",
        # Part of a longer name.
        "trains from North India are always late",
        "travelling in Puri Express coach S4, no water",
        # us-airline-sentiment: Delhi's "East" and "South", Nagaland's Mon, Chhattisgarh's
        # Korea and Gujarat's Dang, with no place word beside them.
        "@united any plans of restating nonstop service between IAD and South Florida?",
        "@united When are you coming back to @IFlyOAKland? You have a huge East Bay customer "
        "base due to SFO and *I* miss you!",
        "Driving to LA for a red eye Mon w kids",
        "Trying to bk a tix to Asia. Your website &amp; customer service dont want my "
        "business. Korea Air it is.",
        "@united dang... I thought I was in a teleportation device! Ua514",
    ],
)
def test_names_that_are_everyday_words_are_not_places_without_a_place_word(text: str) -> None:
    assert places(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # evaluation/routing_holdout.csv, row 6.
        ("@Uppolice illegal sand mining at night near Banda, trucks everywhere", "Banda"),
        ("mera bag gaya se chori hua", "Gaya"),  # no capitals anywhere to go by
        ("stuck in Puri since morning, no train", "Puri"),
        ("@Uppolice जिला बस्ती में चोरी", "Basti"),
        ("@DelhiPolice chain snatching in South Delhi", "South"),
        ("Gaya district me light nahi", "Gaya"),
        ("Chain snatching in Banda Police ne kuch nahi kiya", "Banda"),
        # Mumbai, not Delhi's South district.
        ("stuck in South Mumbai since morning", "Mumbai"),
    ],
)
def test_names_that_are_everyday_words_are_places_beside_a_place_word(
    text: str, expected: str
) -> None:
    assert [v for kind, v, _ in places(text) if kind == "district"] == [expected]


NEED_CONTEXT = sorted(" ".join(name) for name in gazetteer().need_context)


@pytest.mark.parametrize("name", NEED_CONTEXT)
def test_every_name_that_needs_a_place_word_is_found_with_one_and_only_then(name: str) -> None:
    district = gazetteer().names[tuple(tokens(name))][1]
    written = name.title() if name.isascii() else name
    assert places(f"problem here {written} since morning") == []
    assert places(f"problem in {written} since morning") == [("district", district, written)]
    assert places(f"problem in {name} since morning".lower()) == [("district", district, name)]


# Districts whose own name means them: an alias may send a name elsewhere ("Lakhimpur", a
# district in Assam, means Lakhimpur Kheri to UP police; aliases.yaml).
# Names that are also everyday words count only beside a place word (tested above).
DISTRICTS = sorted(
    d
    for d in gazetteer().state_of
    if gazetteer().names.get(tuple(tokens(d)), ("", ""))[1] == d
    and tuple(tokens(d)) not in gazetteer().need_context
)


@settings(max_examples=200, deadline=None)
@given(
    district=st.sampled_from(DISTRICTS),
    before=st.text(alphabet=" .,!?-(", max_size=8),
    after=st.text(alphabet=" .,!?-)", max_size=8),
)
def test_a_district_named_anywhere_is_found_with_its_words(
    district: str, before: str, after: str
) -> None:
    text = f"problem here{before} {district}{after} since morning"
    found = place_entities(text, gazetteer().resolve(text, extract(text)))
    assert [(e.kind, e.value) for e in found] == [("district", district)]
    # The span covers the name's words ("Kaimur (Bhabua)" → "Kaimur (Bhabua").
    assert tokens(text[found[0].start : found[0].end]) == tokens(district)


def test_stored_localities_are_already_normalised() -> None:
    """The gazetteer splits stored locality names on spaces instead of tokenising them."""
    import csv
    import gzip

    from sevadesk.triage.places import REFERENCE

    with gzip.open(REFERENCE / "localities.csv.gz", "rt", encoding="utf-8") as fh:
        names = [row["locality"] for row in csv.DictReader(fh)]
    assert len(names) > 90_000
    assert [n for n in names if tokens(n) != n.split()] == []
