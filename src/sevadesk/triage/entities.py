"""Find what routing and masking need in a post: PNR, train, PIN, phone, Aadhaar, vehicle, FIR,
e-mail and identity documents.

Indian numbers collide (a PNR and a mobile number are both ten digits), so context decides:
a ten-digit number after "PNR" is a PNR, one that starts with 6-9 is otherwise a mobile
number (TRAI numbering: mobile numbers start with 6, 7, 8 or 9).

Patterns read the folded text (`folding.fold`): Devanagari, full-width and other Unicode
digits as ASCII, odd spaces and dashes plain, with the original's offsets, so a span masks
what the citizen wrote. Personal numbers may be split by spaces, dots or hyphens anywhere
("98765.43210", "98 76 54 32 10"); spelled-out numbers and e-mail written around filters
are found by `personal`.
"""

from __future__ import annotations

import re

from sevadesk.domain import post_text
from sevadesk.domain.messages import Entity
from sevadesk.triage import personal, verhoeff
from sevadesk.triage.folding import fold

# Each number pattern starts with a lookahead for its first character: Python's re tries a
# pattern at every position of the text, and the lookahead rejects a position in one step
# where the lookbehind and optional prefixes would take several (about 3x faster here).
_NOT_DIGIT_BEFORE = r"(?<![\d])"
_NOT_DIGIT_AFTER = r"(?![\d])"

_PNR_CONTEXT = re.compile(
    r"(?:pnr|पीएनआर)\s*(?:no\.?|number|num|#|:|-|नंबर|संख्या)?\s*[:\-#]?\s*$", re.I
)
_TEN = re.compile(r"(?=\d)" + _NOT_DIGIT_BEFORE + r"(\d{10})" + _NOT_DIGIT_AFTER)
# After "PNR", ten digits split as a ticket prints them ("PNR No. 861-9415968") or in halves
# ("pnr-81130 54810"); the railway tweets hold four such: three were lost, one read as a phone.
_PNR_SPLIT = re.compile(
    r"(?=\d)" + _NOT_DIGIT_BEFORE + r"(\d{3}[\s\-]\d{7}|\d{5}[\s\-]\d{5})" + _NOT_DIGIT_AFTER
)
# Between the digits of a personal number: nothing, one or two spaces, or a dot or hyphen
# with a space either side ("98765.43210", "98765 - 43210", "9 8 7 6 5 4 3 2 1 0").
_GAP = r"(?:\s{0,2}[.\-]\s{0,2}|\s{1,2})?"
_MOBILE = re.compile(
    r"(?=[+(\d])"
    + _NOT_DIGIT_BEFORE
    + r"(?:\(?(?:\+|00)?91\)?[\s.\-]{0,2}|0)?([6-9](?:"
    + _GAP
    + r"\d){9})"
    + _NOT_DIGIT_AFTER
)
# An Aadhaar is printed in groups of four: split anywhere else, twelve digits are more often
# a phone number with its country code ("+91 98765 43210").
_AADHAAR = re.compile(
    r"(?=[2-9])"
    + _NOT_DIGIT_BEFORE
    + r"(?<!\+)([2-9]\d{3}"
    + _GAP
    + r"\d{4}"
    + _GAP
    + r"\d{4})"
    + _NOT_DIGIT_AFTER
)
_TRAIN = re.compile(r"(?=[0-2])" + _NOT_DIGIT_BEFORE + r"([0-2]\d{4})" + _NOT_DIGIT_AFTER)
_TRAIN_CONTEXT = re.compile(
    r"(?:train|trn|tr\.|ट्रेन|गाड़ी|गाडी|गाड़ी|express|exp|mail|rajdhani|shatabdi|vande)\s*"
    r"(?:no\.?|number|num|#|:|-|संख्या|नंबर)?\s*[:\-#]?\s*$",
    re.I,
)
# Words that make a post a railway post (a number in it may be a train, a code a station).
RAIL_HINTS = (
    "train",
    "pnr",
    "coach",
    "berth",
    "station",
    "stn",
    " jn",
    "junction",
    "rail",
    "platform",
    "irctc",
    "ट्रेन",
    "रेल",
    "कोच",
    "स्टेशन",
    "गाड़ी",
    "प्लेटफार्म",
    "प्लेटफॉर्म",
)
_RAIL_HINT = re.compile("|".join(map(re.escape, RAIL_HINTS)))


def about_railways(lowered: str) -> bool:
    """Whether a post (lower-cased) says a word that makes it a railway post."""
    return _RAIL_HINT.search(lowered) is not None


_HAS_DIGIT = re.compile(r"\d")
_PIN = re.compile(r"(?=[1-8])" + _NOT_DIGIT_BEFORE + r"([1-8]\d{2}\s?\d{3})" + _NOT_DIGIT_AFTER)
_PIN_CONTEXT = re.compile(r"(?:pin|pincode|pin code|postal code|पिन|पिनकोड)\s*[:\-#]?\s*$", re.I)
_VEHICLE = re.compile(
    # The lookahead rejects most positions before the 38-way alternation is tried.
    r"(?<![A-Za-z0-9])(?=[A-Za-z]{2}[\s\-]?\d|\d{2}[\s\-]?BH)("
    r"(?:AN|AP|AR|AS|BR|CG|CH|DD|DL|DN|GA|GJ|HP|HR|JH|JK|KA|KL|LA|LD|MH|ML|MN|MP|MZ|NL|OD|OR|PB|PY|RJ|"
    r"SK|TN|TR|TS|UK|UA|UP|WB)[\s\-]?\d{1,2}[\s\-]?(?:[A-Z]{1,3}[\s\-]?){0,2}\d{4}"
    r"|\d{2}[\s\-]?BH[\s\-]?\d{4}[\s\-]?[A-Z]{1,2}"
    r")(?![A-Za-z0-9])",
    re.I,
)
# "FIR No. 123/2024", "FIR 0456 of 2023", "F.I.R. number 456", "case crime no. 12/24": the
# number with its year, or three digits and more alone.
_FIR = re.compile(
    r"(?:FIR|F\.I\.R\.?|एफआईआर|e-?FIR|case\s+crime|crime)\s*"
    r"(?:no\.?|number|num|#|:|-|संख्या|नंबर)?\s*[:\-#]?\s*"
    r"(\d{1,6}\s*/\s*(?:19|20)?\d{2}(?!\d)|\d{1,6}\s+of\s+(?:19|20)\d{2}|\d{3,6}(?![\d/]))",
    re.I,
)
# A link's path is full of numbers (story ids, dates, page numbers) that are not the post's
# PNR, train or PIN. Mobile, Aadhaar and email are still found inside one ("wa.me/91…"):
# masking errs on the side of hiding. Links are found by twitter-text's rules
# (`sevadesk.domain.post_text`), as X itself finds them.
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})")


def _may_hold_email(text: str) -> bool:
    """An "@" with something of an address before it; a handle's "@" follows a space."""
    at = text.find("@", 1)
    while at != -1:
        before = text[at - 1]
        if before.isalnum() or before in "._+-":
            return "." in text
        at = text.find("@", at + 1)
    return False


def _in_handle(text: str, start: int) -> bool:
    """Whether the number at `start` is part of a handle: "@pgt122123" names an account, not
    PIN 122123, and "@sk230668" no vehicle. (Asked only of the few numbers a post holds: a
    scan of every post for handles cost a fifth of entity extraction.)"""
    i = start
    while i and (text[i - 1].isalnum() or text[i - 1] == "_"):
        i -= 1
    return i > 0 and text[i - 1] == "@" and not (i > 1 and text[i - 2].isalnum())


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    """Whether `span` shares a character with any of `taken` (one span, one entity)."""
    first, last = span
    for start, end in taken:  # noqa: SIM110 (a loop: any() over a generator costs more)
        if first < end and start < last:
            return True
    return False


def extract(text: str) -> list[Entity]:
    """All entities in `text`, each span claimed by at most one kind, in text order."""
    text = fold(text)  # same length: every span below is a span of the original
    found: list[Entity] = []
    taken: list[tuple[int, int]] = []

    def claim(kind: str, value: str, span: tuple[int, int]) -> None:
        found.append(Entity(kind, value, *span))
        taken.append(span)

    if _may_hold_email(text):
        for m in _EMAIL.finditer(text):
            claim("email", m.group(1), m.span(1))
    lowered = text.lower()
    for kind, value, span in personal.obfuscated_emails(lowered):
        if not overlaps(span, taken):
            claim(kind, value, span)
    if not _HAS_DIGIT.search(text):
        # Every other entity has digits, but a number may be spelled out.
        for kind, value, span in personal.spelled_numbers(lowered):
            claim(kind, value, span)
        found.sort(key=lambda e: e.start)
        return found
    links = (
        [(link.start, link.end) for link in post_text.links_with_indices(text)]
        if "http" in lowered or "www." in lowered
        else []
    )

    def free(span: tuple[int, int]) -> bool:
        """Whether a number that is not personal data may be read here: not claimed, not in a
        link, not in a handle. (Personal data is looked for everywhere: masking errs on the
        side of hiding.)"""
        return (
            not overlaps(span, taken)
            and not overlaps(span, links)
            and not _in_handle(text, span[0])
        )

    if "fir" in lowered or "f.i.r" in lowered or "crime" in lowered or "एफआईआर" in text:
        for m in _FIR.finditer(text):
            if free(m.span(1)):
                number = re.sub(r"\s+of\s+", "/", m.group(1), flags=re.I)
                claim("fir", re.sub(r"\s", "", number), m.span(1))
    for m in _AADHAAR.finditer(text):
        digits = _digits(m.group(1))
        span = m.span(1)
        if len(digits) == 12 and verhoeff.is_valid(digits) and not overlaps(span, taken):
            claim("aadhaar", digits, span)
    for kind, value, span in personal.documents(text):
        if free(span):  # a link's slug or a handle is not a document ("t.co/hUCDY4824r")
            claim(kind, value, span)
    pnr = False
    for m in _TEN.finditer(text):
        span = m.span(1)
        if not free(span):
            continue
        number = m.group(1)
        if number[0] not in "6789" or _PNR_CONTEXT.search(text, max(0, span[0] - 24), span[0]):
            claim("pnr", number, span)
            pnr = True
    if not pnr and ("pnr" in lowered or "पीएनआर" in text):
        for m in _PNR_SPLIT.finditer(text):
            span = m.span(1)
            if free(span) and _PNR_CONTEXT.search(text, max(0, span[0] - 24), span[0]):
                claim("pnr", _digits(m.group(1)), span)
    for m in _MOBILE.finditer(text):
        if not overlaps(m.span(1), taken) and personal.grouped_as_a_phone(
            m.group(1), m.group().startswith("0") and m.group()[1:2].isdigit()
        ):
            claim("mobile", _digits(m.group(1)), m.span())
    for kind, value, span in personal.spelled_numbers(lowered):
        if not overlaps(span, taken):
            claim(kind, value, span)
    for m in _VEHICLE.finditer(text):
        span = m.span(1)
        if free(span):
            claim("vehicle", re.sub(r"[\s\-]", "", m.group(1)).upper(), span)
    rail: bool | None = None  # looked up at the first number that may be a train
    for m in _TRAIN.finditer(text):
        span = m.span(1)
        if not free(span):
            continue
        if rail is None:
            rail = about_railways(lowered)
        if rail or _TRAIN_CONTEXT.search(text, max(0, span[0] - 20), span[0]):
            claim("train", m.group(1), span)
    for m in _PIN.finditer(text):
        span = m.span(1)
        if not free(span):
            continue
        if " " not in m.group(1) or _PIN_CONTEXT.search(text, max(0, span[0] - 16), span[0]):
            claim("pin", _digits(m.group(1)), span)
    found.sort(key=lambda e: e.start)
    return found
