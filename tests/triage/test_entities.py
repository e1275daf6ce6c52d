"""Entities and masking: personal data never survives masking; routing identifiers always do."""

from __future__ import annotations

import csv
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sevadesk.config import get_settings
from sevadesk.triage import verhoeff
from sevadesk.triage.entities import extract
from sevadesk.triage.folding import fold
from sevadesk.triage.masking import mask

HELPDESK = get_settings().data_dir / "indian-railways-helpdesk-tweets"


def kinds(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in extract(text):
        out.setdefault(e.kind, []).append(e.value)
    return out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "@RailMinIndia coach B4 of 12951 has no water, PNR 4512345678",
            {"train": ["12951"], "pnr": ["4512345678"]},
        ),
        ("pnr no 4512791357 need mdical emergency", {"pnr": ["4512791357"]}),
        ("PNR:8512345678 call 9876543210", {"pnr": ["8512345678"], "mobile": ["9876543210"]}),
        ("मेरा पीएनआर नंबर 2763520572 है, ट्रेन 20474", {"pnr": ["2763520572"], "train": ["20474"]}),
        ("call me on +91 98765 43210", {"mobile": ["9876543210"]}),
        ("stolen bike UP32AB1234 near PIN 226001", {"vehicle": ["UP32AB1234"], "pin": ["226001"]}),
        ("car DL 3C AB 1234 hit me", {"vehicle": ["DL3CAB1234"]}),
        ("FIR no. 123/2024 not registered", {"fir": ["123/2024"]}),
        ("mail me at asha.k@example.in", {"email": ["asha.k@example.in"]}),
        ("मेरा नंबर ९८७६५४३२१० है", {"mobile": ["9876543210"]}),
        ("call ９８７６５-４３２１０", {"mobile": ["9876543210"]}),
        ("call 98765.43210 now", {"mobile": ["9876543210"]}),
        ("ट्रेन १२९५१ पीएनआर ४५१२३४५६७८", {"train": ["12951"], "pnr": ["4512345678"]}),
        ("ram.kumar [at] gmail [dot] com", {"email": ["ram.kumar@gmail.com"]}),
        ("FIR 0456 of 2023 not acted on", {"fir": ["0456/2023"]}),
        ("my PAN ABCDE1234F", {"pan": ["ABCDE1234F"]}),
        ("DL UP32 20190012345 lost", {"driving_licence": ["UP3220190012345"]}),
        ("no numbers at all here", {}),
    ],
)
def test_examples(text: str, expected: dict[str, list[str]]) -> None:
    assert kinds(text) == expected


def test_an_aadhaar_needs_a_valid_verhoeff_check_digit() -> None:
    body = "23412341234"
    valid = body + verhoeff.check_digit(body)
    invalid = body + str((int(verhoeff.check_digit(body)) + 1) % 10)
    assert kinds(f"my aadhaar {valid[:4]} {valid[4:8]} {valid[8:]}")["aadhaar"] == [valid]
    assert "aadhaar" not in kinds(f"my aadhaar {invalid}")


@pytest.mark.skipif(not HELPDESK.exists(), reason=f"shared data not found at {HELPDESK}")
def test_pnrs_written_by_real_passengers_are_found() -> None:
    """Every 'PNR <ten digits>' in the real helpdesk tweets is extracted as a PNR."""
    checked = 0
    for path in (HELPDESK / "raw_data.csv", HELPDESK / "tweets_formatted_data.csv"):
        with path.open(encoding="utf-8", errors="replace") as fh:
            for row in csv.reader(fh):
                text = " ".join(row)
                for match in re.finditer(
                    r"pnr\s*(?:no\.?|number)?\s*[:\-]?\s*(\d{10})(?!\d)", text, re.I
                ):
                    assert match.group(1) in kinds(text).get("pnr", []), text
                    checked += 1
    assert checked >= 20


def _aadhaar(draw_digits: str) -> str:
    body = draw_digits[:11]
    return body + verhoeff.check_digit(body)


# Filler that cannot itself form digits or e-mail addresses.
filler = st.text(alphabet=st.sampled_from("abcdefghij klmnoprstuvwxyz,.!?कखगघ"), max_size=40)
aadhaar_numbers = st.builds(_aadhaar, st.from_regex(r"[2-9][0-9]{10}", fullmatch=True))
mobiles = st.from_regex(r"[6-9][0-9]{9}", fullmatch=True)
separators = st.sampled_from(["", " ", "-"])


@given(filler, aadhaar_numbers, separators, filler)
def test_every_valid_aadhaar_in_random_text_is_masked(
    before: str, number: str, sep: str, after: str
) -> None:
    written = sep.join([number[:4], number[4:8], number[8:]])
    text = f"{before} {written} {after}"
    masked = mask(text, extract(text))
    assert number not in re.sub(r"\D", "", masked)
    assert "[aadhaar]" in masked


@given(filler, st.sampled_from(["", "+91 ", "+91-", "0", "91"]), mobiles, filler)
def test_every_mobile_number_in_random_text_is_masked(
    before: str, prefix: str, number: str, after: str
) -> None:
    text = f"{before} call {prefix}{number} {after}"
    masked = mask(text, extract(text))
    assert number not in re.sub(r"\D", "", masked)
    # "91" + a mobile number can also be a valid Aadhaar; either way it is hidden.
    assert "[phone]" in masked or (prefix == "91" and "[aadhaar]" in masked)


@given(
    filler,
    st.from_regex(r"[1-5][0-9]{9}", fullmatch=True),
    st.from_regex(r"[0-2][0-9]{4}", fullmatch=True),
    filler,
)
def test_pnr_and_train_numbers_survive_masking(
    before: str, pnr: str, train: str, after: str
) -> None:
    text = f"{before} train {train} PNR {pnr} {after}"
    found = kinds(text)
    masked = mask(text, extract(text))
    assert found.get("pnr") == [pnr] and found.get("train") == [train]
    assert pnr in masked and train in masked


@given(
    filler,
    st.from_regex(r"[1-8][0-9]{9}", fullmatch=True),
    st.sampled_from([(3, "-"), (3, " "), (5, " "), (5, "-")]),
    st.sampled_from(["PNR ", "pnr-", "PNR No. ", "PNR: ", "पीएनआर "]),
    filler,
)
def test_a_pnr_written_in_parts_is_a_pnr_and_survives_masking(
    before: str, pnr: str, split: tuple[int, str], said: str, after: str
) -> None:
    """As a ticket prints it ("861-9415968") or in halves, after the word PNR."""
    at, sep = split
    written = pnr[:at] + sep + pnr[at:]
    text = f"{before} {said}{written} {after}"
    assert kinds(text) == {"pnr": [pnr]}
    assert written in mask(text, extract(text))


def test_pnrs_written_in_parts_by_real_passengers() -> None:
    # indian-railways-tweets-llm-labeled and the helpdesk tweets.
    assert kinds("PNR no 630 9296478 is a cancelled ticket.") == {"pnr": ["6309296478"]}
    assert kinds("Kindly take action My pnr-81130 54810") == {"pnr": ["8113054810"]}
    # Without the word PNR, two halves starting 6-9 are a phone number.
    assert kinds("call me 81130 54810") == {"mobile": ["8113054810"]}


@given(st.text(max_size=300))
def test_extraction_never_crashes_and_spans_point_at_their_text(text: str) -> None:
    for e in extract(text):
        assert 0 <= e.start < e.end <= len(text)
        # The value is what the span says in ASCII digits, separators left out (a number
        # spelled out or an address written around a filter says it in words).
        written = re.sub(r"[\s\-+.()]", "", fold(text[e.start : e.end])).upper()
        assert written.endswith(re.sub(r"[.]", "", e.value[-4:]).upper()) or e.kind in (
            "vehicle",
            "email",
            "mobile",
            "aadhaar",
        )
        if e.kind in ("mobile", "aadhaar") and not any(c.isalpha() for c in written):
            assert written.endswith(e.value[-4:])


def test_numbers_in_a_link_are_not_the_posts_pnr_train_or_pin() -> None:
    # From the railway tweets file: a news story's id was read as a PNR.
    news = (
        "एक ट्रेन के कारण प्रभावित हुआ बस्तर का पर्यटन #IndianRailways https://hamarawaaz.com/2712202101"
    )
    assert kinds(news) == {}
    assert kinds("train 12951 late https://example.in/x/226001/20474") == {"train": ["12951"]}
    # Links are X's (twitter-text's): a t.co link is the slug alone, so there is no t.co path.
    assert kinds("train 12951 late www.example.in/226001") == {"train": ["12951"]}
    # A phone number in a link is still personal data.
    assert kinds("chat on https://wa.me/919876543210 now") == {"mobile": ["9876543210"]}


links = st.builds(
    "{}{}/{}".format,
    st.sampled_from(["https://bit.ly/", "http://news.example.in/story/", "www.example.com/"]),
    st.from_regex(r"[A-Za-z]{0,3}", fullmatch=True),
    st.from_regex(r"[0-5][0-9]{4,9}", fullmatch=True),
) | st.builds(  # a t.co link is its slug alone (twitter-text stops it there, as X does)
    "https://t.co/{}{}".format,
    st.from_regex(r"[A-Za-z]{0,3}", fullmatch=True),
    st.from_regex(r"[0-5][0-9]{4,9}", fullmatch=True),
)


@given(filler, links, filler)
def test_no_pnr_train_or_pin_is_read_inside_a_link(before: str, link: str, after: str) -> None:
    text = f"{before} train {link} {after}"
    assert not [e for e in extract(text) if e.kind in ("pnr", "train", "pin")]


def test_numbers_in_a_handle_are_not_the_posts_pin_vehicle_or_train() -> None:
    # From indian-railways-tweets-llm-labeled: handles read as PIN 122123 and vehicle SK230668.
    post = "@TNRA_RailNews @vanandca @pgt122123 @gmsecr @sk230668 train 12951 coach B4 dirty"
    assert kinds(post) == {"train": ["12951"]}
    # twcs-customer-support-sample: a handle after a dot (".@" makes a reply public).
    assert kinds(".@116072 You guys really have awful customer service.") == {}
    # A phone number in a handle is still personal data.
    assert kinds("train late, call @ravi9876543210") == {"mobile": ["9876543210"]}


handles = st.builds(
    "@{}{}".format,
    st.from_regex(r"[A-Za-z_]{0,6}", fullmatch=True),
    st.from_regex(r"[0-5][0-9]{4,9}|(?:UP|MH|DL)[0-9]{2}[A-Z]{2}[0-9]{4}", fullmatch=True),
)


@given(filler, st.sampled_from([" ", " .", "("]), handles, filler)
def test_no_pnr_train_pin_or_vehicle_is_read_inside_a_handle(
    before: str, opening: str, handle: str, after: str
) -> None:
    text = f"{before} train{opening}{handle} {after}"
    assert not [e for e in extract(text) if e.kind in ("pnr", "train", "pin", "vehicle")]
