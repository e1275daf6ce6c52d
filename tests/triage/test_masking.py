"""Personal data written to slip past a filter is masked all the same, in every digit script
and with every separator; what routing and the citizen need (trains, PNRs, times, dates,
amounts) stays. The public-reply guard refuses what masking hides."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sevadesk.tickets.public_safety import public_reply_problems
from sevadesk.triage import verhoeff
from sevadesk.triage.entities import extract
from sevadesk.triage.folding import fold
from sevadesk.triage.masking import mask

# Zero of each digit script citizens write in: ASCII, Devanagari, Bengali, Gurmukhi,
# Gujarati, Odia, Tamil, Telugu, Kannada, Malayalam, full-width, Arabic-Indic (Urdu).
ZEROS = [0x30, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xFF10, 0x6F0]
scripts = st.sampled_from(ZEROS)


def in_script(digits: str, zero: int) -> str:
    return "".join(chr(zero + int(d)) if d.isdigit() else d for d in digits)


def masked(text: str) -> str:
    return mask(text, extract(text))


def digits_left(text: str) -> str:
    """Every digit still in `text`, in ASCII, whatever script it was written in."""
    return re.sub(r"\D", "", fold(text))


# Filler that cannot itself form digits, number words or e-mail addresses.
filler = st.text(alphabet=st.sampled_from("bcfgjklmpqsvwxyz ,!?कखगघ"), max_size=30)
mobiles = st.from_regex(r"[6-9][0-9]{9}", fullmatch=True)
# How people split a mobile number's ten digits, as (group sizes, separator).
mobile_styles = st.sampled_from(
    [
        ((10,), ""),
        ((5, 5), " "),
        ((5, 5), "."),
        ((5, 5), "-"),
        ((5, 5), " - "),
        ((3, 3, 4), "-"),
        ((3, 3, 4), "."),
        ((4, 3, 3), " "),
        ((4, 2, 4), " "),
        ((2, 2, 2, 2, 2), " "),
        ((2, 2, 2, 2, 2), "-"),
        ((1,) * 10, " "),
        ((5, 5), "\u00a0"),  # a no-break space
        ((5, 5), "\u2013"),  # an en dash
    ]
)


def split(digits: str, sizes: tuple[int, ...], sep: str) -> str:
    parts, at = [], 0
    for size in sizes:
        parts.append(digits[at : at + size])
        at += size
    return sep.join(parts)


@given(filler, mobiles, mobile_styles, scripts, st.sampled_from(["", "+91 ", "0"]), filler)
def test_a_mobile_number_in_any_digits_and_any_split_is_masked(
    before: str,
    number: str,
    style: tuple[tuple[int, ...], str],
    zero: int,
    prefix: str,
    after: str,
) -> None:
    sizes, sep = style
    if prefix == "0" and sizes not in ((10,), (5, 5)):
        prefix = ""  # "0" before other splits is a landline's STD code (tested below)
    written = prefix + in_script(split(number, sizes, sep), zero)
    text = f"{before} call {written} {after}"
    out = masked(text)
    assert "[phone]" in out, text
    assert number not in digits_left(out) and written not in out
    assert public_reply_problems(text), text


def _aadhaar(body: str) -> str:
    return body + verhoeff.check_digit(body)


aadhaar_numbers = st.builds(_aadhaar, st.from_regex(r"[2-9][0-9]{10}", fullmatch=True))


@given(filler, aadhaar_numbers, st.sampled_from(["", " ", ".", "-", " . ", "\u2009"]), scripts)
def test_an_aadhaar_in_any_digits_grouped_by_any_separator_is_masked(
    before: str, number: str, sep: str, zero: int
) -> None:
    written = in_script(sep.join([number[:4], number[4:8], number[8:]]), zero)
    text = f"{before} my aadhaar is {written} please help"
    out = masked(text)
    assert "[aadhaar]" in out and number not in digits_left(out), text
    assert any("Aadhaar" in p for p in public_reply_problems(text))


ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
HINDI = ["शून्य", "एक", "दो", "तीन", "चार", "पांच", "छह", "सात", "आठ", "नौ"]
ROMAN = ["shunya", "ek", "do", "teen", "char", "paanch", "chhe", "saat", "aath", "nau"]


@given(
    mobiles,
    st.sampled_from([ONES, HINDI, ROMAN]),
    st.sampled_from([" ", ", ", "-", "  "]),
    st.booleans(),
)
def test_a_mobile_number_spelled_out_in_words_is_masked(
    number: str, words: list[str], sep: str, half_in_digits: bool
) -> None:
    said = [words[int(d)] for d in number]
    if half_in_digits:  # "98765 four three two one zero"
        said = [number[:5], *said[5:]]
    text = f"mera number {sep.join(said)} hai, please call"
    out = masked(text)
    assert "[phone]" in out and said[-1] not in out.split("[phone]")[1][:4], (text, out)
    assert public_reply_problems(text)


def test_numbers_spelled_with_tens_and_doubles() -> None:
    assert masked("call ninety eight seventy six fifty four thirty two ten") == "call [phone]"
    assert masked("call double nine eight seven six five four three two one") == "call [phone]"
    # Number words in prose are prose.
    for prose in (
        "I waited one hour and two more at platform three",
        "coach one two three were empty",
        "do one thing, call the TTE",
    ):
        assert masked(prose) == prose


locals_ = st.from_regex(r"[a-z][a-z0-9]{1,8}(?:\.[a-z][a-z0-9]{1,6})?", fullmatch=True)
providers = st.sampled_from(["gmail", "yahoo", "rediffmail", "outlook", "nic"])
tlds = st.sampled_from(["com", "in", "co.in", "gov.in"])
obfuscations = st.sampled_from(
    [
        (" [at] ", " [dot] "),
        ("[at]", "[dot]"),
        (" (at) ", " (dot) "),
        ("(at)", "(dot)"),
        (" {at} ", "."),
        (" at ", " dot "),
        (" AT ", " DOT "),
        (" @ ", "."),
        ("@ ", " dot "),
        (" [@] ", " [.] "),
        ("＠", "."),  # a full-width at sign
    ]
)


@given(filler, locals_, providers, tlds, obfuscations, filler)
def test_an_email_written_around_filters_is_masked(
    before: str, local: str, provider: str, tld: str, style: tuple[str, str], after: str
) -> None:
    at, dot = style
    written = local.replace(".", dot) + at + provider + dot + tld.replace(".", dot)
    text = f"{before} mail me at {written} {after}"
    out = masked(text)
    assert "[email]" in out and provider not in out.lower(), (text, out)
    assert any("e-mail" in p for p in public_reply_problems(text))


def test_a_website_or_a_shop_is_not_an_email() -> None:
    for text in (
        "booked at irctc.co.in yesterday",
        "members only at Target dot com at 7 AM",
        "reached at 7 dot 30",
    ):
        assert masked(text) == text


years = st.integers(1995, 2026)


@given(
    st.integers(1, 99999),
    years,
    st.sampled_from(
        [
            "FIR No. {n}/{y}",
            "FIR no {n}/{yy:02d}",
            "FIR {n:04d} of {y}",
            "fir number {n} / {y}",
            "F.I.R. No. {n}/{y}",
            "एफआईआर संख्या {n}/{y}",
            "case crime no. {n}/{y}",
        ]
    ),
    scripts,
)
def test_an_fir_number_is_masked(n: int, year: int, form: str, zero: int) -> None:
    written = form.format(n=n, y=year, yy=year % 100)
    text = f"no action on my {written} till now"
    # In any digits: "एफआईआर संख्या १२३/२०२४".
    text = re.sub(r"\d", lambda d: in_script(d.group(), zero), text)
    out = masked(text)
    assert "[fir]" in out and str(year) not in digits_left(out).replace(str(n), ""), (text, out)
    assert any("FIR" in p for p in public_reply_problems(text))


letters = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=1)
states = st.sampled_from(["UP", "MH", "DL", "KA", "TN", "WB", "RJ", "BR"])
n_digits = lambda k: st.from_regex(rf"[0-9]{{{k}}}", fullmatch=True)  # noqa: E731


@given(
    st.one_of(
        # PAN: five letters, four digits, a letter (in capitals or small letters).
        st.builds(
            "{}{}{}".format,
            st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=5, max_size=5),
            n_digits(4),
            letters,
        ).map(lambda v: ("pan", v)),
        st.builds(
            "{}{}".format,
            st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3),
            n_digits(7),
        ).map(lambda v: ("voter", v)),
        st.builds("{}{}{}".format, letters, st.sampled_from("123456789"), n_digits(6)).map(
            lambda v: ("passport", v)
        ),
        # Passport Seva file numbers: the office's code and thirteen digits.
        st.builds("{}{}".format, st.sampled_from(["DL", "BO", "LK", "HY", "KO"]), n_digits(13)).map(
            lambda v: ("passport", v)
        ),
        st.builds(
            "{}{}{}{}{}{}{}".format,
            states,
            st.sampled_from(["", " ", "-"]),
            n_digits(2),
            st.sampled_from(["", " ", "-"]),
            st.integers(1990, 2026),
            st.sampled_from(["", " ", "-"]),
            n_digits(7),
        ).map(lambda v: ("licence", v)),
    ),
    st.booleans(),
    filler,
)
def test_identity_documents_are_masked(document: tuple[str, str], lower: bool, before: str) -> None:
    label, written = document
    if lower and label in ("pan", "voter"):
        written = written.lower()
    text = f"{before} my document {written} was taken"
    out = masked(text)
    assert written not in out and re.search(r"\[(pan|voter id|passport|licence)\]", out), (
        text,
        out,
    )
    assert public_reply_problems(text), text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("PAN ABCDE1234F", "a PAN"),
        ("EPIC ABC1234567", "a voter ID"),
        ("passport K1234567", "a passport"),
        ("file DL1061234567890", "a passport"),
        ("licence UP32 20190012345", "a driving licence"),
        ("licence MH-12-2011-0012345", "a driving licence"),
        ("call ९८७६५४३२१०", "a mobile number"),
        ("write to ram.kumar [at] gmail [dot] com", "an e-mail address"),
        ("FIR 0456 of 2023", "an FIR number"),
    ],
)
def test_the_public_reply_guard_names_what_it_refuses_in_plain_words(
    text: str, reason: str
) -> None:
    problems = public_reply_problems(text)
    assert len(problems) == 1 and problems[0].startswith(reason), problems
    assert "at characters" in problems[0]


trains = st.from_regex(r"[0-2][0-9]{4}", fullmatch=True)
pnrs = st.from_regex(r"[1-8][0-9]{9}", fullmatch=True)
ordinary = st.one_of(
    trains.map("train {} is late".format),
    pnrs.map("PNR {} not confirmed".format),
    st.builds("at {:02d}:{:02d} today".format, st.integers(0, 23), st.integers(0, 59)),
    st.builds("at {}.{:02d} pm".format, st.integers(1, 12), st.integers(0, 59)),
    st.builds(
        "on {:02d}/{:02d}/{}".format,
        st.integers(1, 28),
        st.integers(1, 12),
        st.integers(2000, 2030),
    ),
    st.builds(
        "on {:02d}.{:02d}.{}".format,
        st.integers(1, 28),
        st.integers(1, 12),
        st.integers(2000, 2030),
    ),
    st.builds(
        "on {:02d}-{:02d}-{}".format,
        st.integers(1, 28),
        st.integers(1, 12),
        st.integers(2000, 2030),
    ),
    st.integers(1, 99999).map("paid Rs {} extra".format),
    st.integers(1, 99999).map("charged ₹{:,} for water".format),
    st.builds("{:.6f}, {:.6f}".format, st.floats(8, 37), st.floats(68, 97)),
    st.builds(
        "coach {}{} berth {}".format, st.sampled_from("ABS"), st.integers(1, 12), st.integers(1, 72)
    ),
    st.integers(110001, 855999).map("PIN {}".format),
    st.sampled_from(
        ["call 139 or 182", "helpline 080-22238888", "STD 06243-222853", "1800-111-139"]
    ),
)


@given(st.lists(ordinary, min_size=1, max_size=4), scripts)
def test_ordinary_numbers_stay_unmasked(parts: list[str], zero: int) -> None:
    text = " and ".join(parts)
    if zero != 0x30:
        # In other digits too (a Hindi post's "ट्रेन १२९५१").
        text = re.sub(r"\d", lambda d: in_script(d.group(), zero), text)
    assert masked(text) == text
    assert public_reply_problems(text) == []


@given(st.text(max_size=200))
def test_folding_keeps_every_offset(text: str) -> None:
    folded = fold(text)
    assert len(folded) == len(text)
    for original, plain in zip(text, folded, strict=True):
        if unicodedata.category(original) == "Nd":
            assert plain == str(unicodedata.decimal(original))
