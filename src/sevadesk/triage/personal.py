"""Personal data written the ways people write it to get past a filter, and the identity
documents of Indian citizens.

Each finder reads a folded text (`folding.fold`: ASCII digits, same offsets as the original)
and returns (kind, value, (start, end)): the value in a plain form, the span in the original
text, so masking hides exactly what the citizen wrote.

- numbers spelled out ("nine eight seven six …", "double five", "ninety eight", Hindi
  "नौ आठ सात …" and romanised "nau aath saat …"), alone or mixed with digit groups;
- e-mail addresses written around spam filters ("ram.kumar [at] gmail [dot] com",
  "ram(at)gmail(dot)com", "ram at gmail dot com", "ram @ gmail.com");
- PAN (ABCDE1234F), voter ID / EPIC (ABC1234567), passport numbers (K1234567) and passport
  file numbers (DL1061234567890), driving licences (UP32 20190012345, MH-12-2011-0012345).
"""

from __future__ import annotations

import re

from sevadesk.triage import verhoeff

Found = tuple[str, str, tuple[int, int]]

# Number words. English, Hindi in Devanagari, and romanised Hindi (not "no" for नौ, which
# would read "PNR no 4512345678" as eleven digits; a run must make a whole number to count).
_UNITS = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "शून्य": 0, "एक": 1, "दो": 2, "तीन": 3, "चार": 4, "पांच": 5, "पाँच": 5, "छह": 6, "छः": 6,
    "छे": 6, "सात": 7, "आठ": 8, "नौ": 9,
    "shunya": 0, "sunya": 0, "ek": 1, "do": 2, "teen": 3, "char": 4, "chaar": 4, "paanch": 5,
    "panch": 5, "chhe": 6, "chhah": 6, "saat": 7, "aath": 8, "nau": 9,
}  # fmt: skip
_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 2, "thirty": 3, "forty": 4, "fifty": 5, "sixty": 6, "seventy": 7, "eighty": 8,
    "ninety": 9,
}  # fmt: skip
_REPEAT = {"double": 2, "triple": 3}
_WORDS = sorted({*_UNITS, *_TEENS, *_TENS, *_REPEAT}, key=len, reverse=True)
_WORD_CHARS = r"\w\u0900-\u097F"
# A run of number words and digit groups, separated by spaces, commas, dots or hyphens.
_TOKEN = "(?:" + "|".join(map(re.escape, _WORDS)) + r"|\d+)"
_RUN = re.compile(rf"(?<![{_WORD_CHARS}]){_TOKEN}(?:[\s,.\-]{{1,3}}{_TOKEN})+(?![{_WORD_CHARS}])")
_RUN_TOKEN = re.compile(r"[a-z\u0900-\u097F]+|\d+")
_WORD_SET = frozenset(_WORDS)


def _spelled_digits(run: str) -> tuple[str, int] | None:
    """The digits a run of number words stands for, and how many words it had."""
    digits: list[str] = []
    words = 0
    repeat = 1
    tens: int | None = None
    for token in _RUN_TOKEN.findall(run):
        if token.isdigit():
            if tens is not None:
                digits.append(f"{tens}0")
                tens = None
            digits.append(token * repeat)
            repeat = 1
            continue
        words += 1
        if token in _REPEAT:
            repeat = _REPEAT[token]
            continue
        if tens is not None:
            if token in _UNITS and _UNITS[token] != 0 and token.isascii():
                digits.append(f"{tens}{_UNITS[token]}")
                tens = None
                continue
            digits.append(f"{tens}0")
            tens = None
        if token in _UNITS:
            digits.append(str(_UNITS[token]) * repeat)
        elif token in _TEENS:
            digits.append(str(_TEENS[token]) * repeat)
        elif token in _TENS:
            tens = _TENS[token]
        else:
            return None
        repeat = 1
    if tens is not None:
        digits.append(f"{tens}0")
    return "".join(digits), words


# How people group the ten digits of a mobile number ("98765 43210", "987-654-3210",
# "9310 38 9959", "98 76 54 32 10", one by one). Other splits are other numbers: a landline
# with its STD code ("080-22238888", "06243-222853"), a decimal ("72.93723505").
_PHONE_GROUPS = frozenset(
    {
        (10,), (5, 5), (3, 3, 4), (4, 3, 3), (3, 4, 3), (4, 2, 4), (2, 4, 4), (4, 6), (6, 4),
        (2, 2, 2, 2, 2), (3, 3, 2, 2), (1,) * 10,
    }
)  # fmt: skip
_GROUP = re.compile(r"\d+")


def grouped_as_a_phone(national: str, trunk_zero: bool) -> bool:
    """Whether ten digits with these separators are written as a mobile number is. After a
    trunk "0" only whole or in halves ("09876543210", "098765 43210"): "080-2223 8888" is
    Bengaluru's STD code and a landline."""
    groups = tuple(len(g) for g in _GROUP.findall(national))
    if trunk_zero:
        return groups in ((10,), (5, 5))
    if groups not in _PHONE_GROUPS:
        return False
    # One dot after one or two digits is a decimal point: "72.93723505", "99.99999999%".
    return not (len(groups) == 2 and "." in national and groups[0] < 3)


def _phone_or_aadhaar(digits: str) -> str | None:
    if len(digits) == 10 and digits[0] in "6789":
        return "mobile"
    if len(digits) == 11 and digits[0] == "0" and digits[1] in "6789":
        return "mobile"
    if len(digits) == 12 and digits[:2] == "91" and digits[2] in "6789":
        return "mobile"
    if len(digits) == 12 and digits[0] in "23456789" and verhoeff.is_valid(digits):
        return "aadhaar"
    return None


def spelled_numbers(lowered: str) -> list[Found]:
    """Mobile and Aadhaar numbers written (at least partly) in words."""
    # Most posts say no number word: a set lookup of their words (a pattern of fifty words
    # tried at every position cost more than the rest of this function).
    if _WORD_SET.isdisjoint(lowered.replace(",", " ").replace(".", " ").replace("-", " ").split()):
        return []
    found: list[Found] = []
    for m in _RUN.finditer(lowered):
        read = _spelled_digits(m.group())
        if read is None or read[1] == 0:
            continue  # digits alone: the number patterns read those
        digits = read[0]
        kind = _phone_or_aadhaar(digits)
        if kind == "mobile":
            found.append((kind, digits[-10:], m.span()))
        elif kind == "aadhaar":
            found.append((kind, digits, m.span()))
    return found


# E-mail written around filters. "at" and "dot" in brackets are never prose; bare " at " and
# " dot " only together ("ram at gmail dot com"): "booked at irctc.co.in" names a website.
_OPEN, _CLOSE = r"[\[\(\{<]", r"[\]\)\}>]"
_AT_BRACKET = rf"\s*{_OPEN}\s*(?:at|@)\s*{_CLOSE}\s*"
_DOT_BRACKET = rf"\s*{_OPEN}\s*(?:dot|\.)\s*{_CLOSE}\s*"
_AT = rf"(?P<at>{_AT_BRACKET}|\s+at\s+|\s*@\s+)"
_DOT = rf"(?:{_DOT_BRACKET}|\s+dot\s+|\.)"
_LABEL = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
_TLD = r"(?:com|in|org|net|co|gov|nic|edu|ac|info|io|me|biz|us|uk|ai|app|dev|live|mail)"
# With a bare " at ", only a mail provider's domain: "ram at gmail dot com" and "ram at
# gmail.com" are addresses, "members only at Target dot com" a shop.
_MAIL_DOMAINS = frozenset(
    {
        "gmail", "googlemail", "yahoo", "ymail", "hotmail", "outlook", "live", "msn",
        "rediffmail", "rediff", "icloud", "me", "proton", "protonmail", "aol", "zoho", "mail",
        "gov", "nic",
    }
)  # fmt: skip
_BARE_HINTS = (
    "dot", "mail", "yahoo", "outlook", "live", "msn", "rediff", "icloud", "proton", "aol",
    "zoho", "nic", "gov",
)  # fmt: skip
_OBFUSCATED_EMAIL = re.compile(
    rf"(?<![\w.+\-])(?P<local>[a-z0-9_+\-]+(?:{_DOT}[a-z0-9_+\-]+)*)"
    rf"{_AT}(?P<domain>{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}{_TLD})(?![\w])"
)
_DOT_WORDS = re.compile(rf"{_DOT_BRACKET}|\s+dot\s+")


# Cheap signs that an address may be written around a filter; most posts have none, and
# the address pattern costs a try at every word.
# (A space after the "@": one before it alone is a handle, "@railmadad".)
_AT_HINT = re.compile(rf"{_OPEN}\s*(?:at|@)\s*{_CLOSE}|@\s")


def _plain(part: str) -> str:
    return _DOT_WORDS.sub(".", part).replace(" ", "")


def obfuscated_emails(lowered: str) -> list[Found]:
    bare = " at " in lowered and any(hint in lowered for hint in _BARE_HINTS)
    if not bare and _AT_HINT.search(lowered) is None:
        return []
    found: list[Found] = []
    for m in _OBFUSCATED_EMAIL.finditer(lowered):
        domain = m.group("domain")
        if m.group("at").strip() == "at" and _plain(domain).split(".")[0] not in _MAIL_DOMAINS:
            continue  # "booked at irctc.co.in" names a website; "only at Target dot com" a shop
        found.append(("email", f"{_plain(m.group('local'))}@{_plain(domain)}", m.span()))
    return found


# Identity documents. State codes as on vehicle plates and licences (Motor Vehicles Act).
_STATES = (
    "AN|AP|AR|AS|BR|CG|CH|DD|DL|DN|GA|GJ|HP|HR|JH|JK|KA|KL|LA|LD|MH|ML|MN|MP|MZ|NL|OD|OR|PB|"
    "PY|RJ|SK|TN|TR|TS|UK|UA|UP|WB"
)
# One pattern for them all, tried once at the start of each word (five patterns cost five
# tries at every letter), the alternatives in order: a licence's digits are not read again
# as something else.
_DOCUMENT = re.compile(
    r"(?<![A-Za-z0-9])(?=[A-Za-z])(?:"
    # Driving licence (Sarathi): state, two-digit RTO code, year of issue, seven digits.
    rf"(?P<driving_licence>(?:{_STATES})[\s\-]?\d{{2}}[\s\-]?(?:19|20)\d{{2}}[\s\-]?\d{{7}})"
    # Passport Seva file numbers: the passport office's code and digits, fifteen in all.
    r"|(?P<file>[A-Z]{2,4}\d{11,13})"
    r"|(?P<pan>[A-Z]{5}\d{4}[A-Z])"
    r"|(?P<voter_id>[A-Z]{3}\d{7})"
    # An Indian passport number: a capital letter and seven digits (capitals only: in lower
    # case, "k1234567" is more often a code of something else).
    r"|(?P<passport>(?-i:[A-Z][1-9]\d{6}))"
    r")(?![A-Za-z0-9])",
    re.I,
)
_DIGIT_PAIR = re.compile(r"\d{2,}")
_STATE_CODES = frozenset(_STATES.split("|"))


def _may_hold_document(folded: str) -> bool:
    """Every document number has two digits right after a letter, or after a state code and
    a space or hyphen (a licence); most posts have neither, and the pattern above costs a
    try at every word. (Found from the digits: a pattern led by a letter was slower still.)"""
    for m in _DIGIT_PAIR.finditer(folded):
        i = m.start()
        before = folded[i - 1] if i else " "
        if before.isascii() and before.isalpha():
            return True
        if before in " -" and i >= 3 and folded[i - 3 : i - 1].upper() in _STATE_CODES:
            return True
    return False


def documents(folded: str) -> list[Found]:
    """Driving licences, passport file numbers, PAN, voter IDs and passport numbers."""
    found: list[Found] = []
    if not _may_hold_document(folded):
        return found
    for m in _DOCUMENT.finditer(folded):
        kind = m.lastgroup or ""
        written = re.sub(r"[\s\-]", "", m.group())
        letters = "".join(c for c in written if c.isalpha())
        if not (letters.isupper() or letters.islower()):
            continue  # "YtCWg5462H": a link's slug, not a PAN
        value = written.upper()
        if kind == "file":
            if len(value) != 15:
                continue
            kind = "passport"
        found.append((kind, value, m.span()))
    return found
