"""Features for the triage model: normalised words, word pairs, word stems and signals.

Handles and numbers are replaced by their shape ("@user", "<num10>") so the model learns "a
post that tags an official and gives a ten-digit number" rather than one agency's handle or
one passenger's PNR; that is what lets a model trained on railway and airline posts read
police or passport complaints.

Links are left out. In the scraped training posts a link is a news site's address, so a model
that saw links learnt "link → news"; on the X API every link is a t.co address, and a
citizen's photo of a dirty coach arrives as one. On the June 2024 helpdesk tweets (raw X
text) dropping them took recall from 20 to 21 of 27 complaints; on the railway test split it
changed nothing measurable.
"""

from __future__ import annotations

import re
from itertools import pairwise

from sevadesk.domain.messages import Entity
from sevadesk.triage.rules import Taxonomy
from sevadesk.triage.text import LexiconIndex, tokens

# Not sevadesk.domain.post_text on purpose: the shipped model was trained on these tokens;
# reading links and tags by twitter-text here changes its input and wants `seva train`.
_TOKEN = re.compile(r"https?://\S+|[@#][\w]+|\d+|[\w\u0600-\u06FF\u0900-\u0DFF]+|[?]")


_NUMBERS = {n: f"<num{min(n, 12)}>" for n in range(1, 40)}


def _flag(name: str) -> tuple[str, str]:
    """A signal's two features, indexed by its truth (built once, not per post)."""
    return f"S:{name}=False", f"S:{name}=True"


_FIRST, _REQUEST, _SPECIFIC = _flag("first"), _flag("request"), _flag("specific")
_FIRST_SPECIFIC, _REQUEST_SPECIFIC = _flag("first+specific"), _flag("request+specific")
_PROBLEM, _CATEGORY = _flag("problem"), _flag("category")
_PROBLEM_ADDRESSED, _CATEGORY_ADDRESSED = _flag("problem+addressed"), _flag("category+addressed")
_MENTIONS = tuple(f"M:{n}" for n in range(5))
_LENGTHS = tuple(f"N:{n}" for n in range(7))


# Someone speaking for themselves ("I", "my" in English, romanised Hindi and Hindi). The
# romanised "main" and "mai" are left out here: "main line", "mai" as a name.
FIRST_PERSON_SINGULAR = frozenset(
    [
        "i",
        "im",
        "me",
        "my",
        "mine",
        "myself",
        "mera",
        "meri",
        "mere",
        "mujhe",
        "मैं",
        "मेरा",
        "मेरी",
        "मेरे",
        "मुझे",
    ]
)
FIRST_PERSON = FIRST_PERSON_SINGULAR | frozenset(
    [
        "we",
        "our",
        "us",
        "main",
        "mai",
        "hum",
        "hamara",
        "hamari",
        "humara",
        "हम",
        "हमारा",
        "हमारी",
        "हमें",
    ]
)
REQUEST_WORDS = frozenset(
    [
        "please",
        "pls",
        "plz",
        "kindly",
        "request",
        "help",
        "sir",
        "madam",
        "sirji",
        "ji",
        "kripya",
        "krpya",
        "jaldi",
        "कृपया",
        "निवेदन",
        "मदद",
        "श्रीमान",
        "महोदय",
        # Hindi asks in the polite imperative or the passive ("ठहराव दिया जाए", "कार्रवाई
        # करें"), as petitions for a halt or a repair do: with these, 4-fold cross-validation
        # on the railway train split (2026-11-26) gave actionable F1 0.766 on Devanagari
        # posts (0.739 without) and 0.800 on romanised Hindi ones (0.706); held-out sets
        # unchanged.
        "अनुरोध",
        "जाए",
        "जाये",
        "जाएं",
        "कीजिए",
        "कीजिये",
        "करें",
        "कराएं",
        "करवाएं",
        "दीजिए",
        "दें",
        "kijiye",
        "karein",
        "karen",
        "dijiye",
        "jaye",
        "jaaye",
    ]
)
_RAILWAY_THINGS = frozenset(
    [
        "coach",
        "berth",
        "seat",
        "pnr",
        "train",
        "trn",
        "platform",
        "station",
        "tte",
        "tt",
        "pantry",
        "toilet",
        "washroom",
        "ac",
        "कोच",
        "बर्थ",
        "सीट",
        "ट्रेन",
        "गाड़ी",
        "स्टेशन",
        "प्लेटफार्म",
    ]
)


# Words that say something is wrong, in any agency's domain; with the taxonomy's category
# keywords they tell a complaint from talk about the agency when a post's words are new.
PROBLEM_WORDS = [
    "not working",
    "isn't working",
    "not work",
    "broken",
    "damaged",
    "stopped",
    "repair*",
    "fault*",
    "defective",
    "leak*",
    "no response",
    "not responding",
    "not received",
    "not yet received",
    "not delivered",
    "not refunded",
    "pending",
    "still waiting",
    "missing",
    "lost",
    "complaint*",
    "complain*",
    "issue",
    "problem*",
    "worst",
    "pathetic",
    "horrible",
    "terrible",
    "poor",
    "no one",
    "nobody",
    "not available",
    "unavailable",
    "denied",
    "refused",
    "overcharg*",
    "harass*",
    "cheat*",
    "suffer*",
    "stuck",
    "stranded",
    "dead",
    "not coming",
    "no action",
    "not taking action",
    "kuch kijiye",
    "kuch karo",
    "kharab",
    "band hai",
    "nahi mila",
    "nahi mil",
    "shikayat",
    "samasya",
    "pareshan*",
    "dikkat",
    "tut",
    "toot",
    "खराब",
    "बंद",
    "टूट*",
    "नहीं मिला",
    "नहीं मिली",
    "शिकायत",
    "समस्या",
    "परेशान*",
    "दिक्कत",
]
# Cue labels: "?problem", and "?category" for any keyword of the default taxonomy (the same for
# every organisation, so a model's features do not depend on the org file it runs under).
CUE_LEXICONS: dict[str, list[str]] = {
    "?problem": PROBLEM_WORDS,
    "?category": [k for ks in Taxonomy.load().keywords.values() for k in ks],
}
_CUES = LexiconIndex(CUE_LEXICONS)


def cue_hits(text: str) -> set[str]:
    toks = tokens(text)
    return _CUES.hits(toks, " " + " ".join(toks) + " ")


def features(
    text: str, entities: list[Entity], language: str, cues: set[str] | None = None
) -> list[str]:
    """`cues`: the labels of CUE_LEXICONS found in the text, when the caller already has them."""
    raw = _TOKEN.findall(text.lower())
    words: list[str] = []
    out: list[str] = []
    for tok in raw:
        first = tok[0]
        if first == "h" and tok.startswith("http"):
            continue  # see the module docstring
        if first == "#":
            out.append("#tag")
            tok = tok[1:]
            first = tok[0]
        # Handles and numbers by their shape (see the module docstring).
        if first == "@":
            tok = "@user"
        elif first.isdigit() and tok.isdigit():
            tok = _NUMBERS.get(len(tok), "<num12>")
        words.append(tok)
    out += words
    out += map(" ".join, pairwise(words))
    out += ["p:" + w[:5] for w in words if len(w) > 6 and w[0] not in "<@"]
    out += ["E:" + e.kind for e in entities]
    present = set(words)
    first_person = not present.isdisjoint(FIRST_PERSON)
    request = not present.isdisjoint(REQUEST_WORDS)
    specific = bool(entities) or not present.isdisjoint(_RAILWAY_THINGS)
    if cues is None:
        cues = cue_hits(text)
    problem = "?problem" in cues
    named = "?category" in cues
    addressed = "@user" in present
    out += (
        _FIRST[first_person],
        _REQUEST[request],
        _SPECIFIC[specific],
        _FIRST_SPECIFIC[first_person and specific],
        _REQUEST_SPECIFIC[request and specific],
        _PROBLEM[problem],
        _CATEGORY[named],
        _PROBLEM_ADDRESSED[problem and addressed],
        _CATEGORY_ADDRESSED[named and addressed],
        "L:" + language,
    )
    if text.startswith("RT @"):
        out.append("RT")
    out.append(_MENTIONS[min(words.count("@user"), 4)])
    out.append(_LENGTHS[min(len(words) // 8, 6)])
    return out
