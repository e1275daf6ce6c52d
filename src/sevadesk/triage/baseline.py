"""A keyword baseline triager: transparent, fast, and the floor a trained model must beat.

The triage issue replaces it with a trained model behind the same `Triager` interface.
"""

from __future__ import annotations

from collections.abc import Sequence

from sevadesk.domain.messages import TriageResult
from sevadesk.triage import entities as entity_extractor
from sevadesk.triage import language
from sevadesk.triage.base import ACTIONABLE_KINDS
from sevadesk.triage.masking import mask
from sevadesk.triage.text import Lexicon, tokens

L = Lexicon.of

_SOS = L(
    [
        "sos",
        "emergency",
        "help me",
        "urgent help",
        "save us",
        "medical",
        "doctor",
        "unconscious",
        "heart attack",
        "bleeding",
        "blood",
        "pregnant",
        "labour pain",
        "labor pain",
        "molest*",
        "harass*",
        "eve teasing",
        "misbehav*",
        "assault*",
        "threat*",
        "kidnap*",
        "missing child",
        "fire",
        "smoke",
        "accident",
        "derail*",
        "stolen",
        "theft",
        "robbed",
        "snatch*",
        "drunk*",
        "fight*",
        "knife",
        "बचाओ",
        "मदद करें",
        "आपातकाल",
        "इमरजेंसी",
        "छेड़छाड़",
        "चोरी",
        "डॉक्टर",
        "बेहोश",
        "bachao",
        "madad karo",
    ]
)
_GRIEVANCE = L(
    [
        "not working",
        "no water",
        "without water",
        "dirty",
        "filthy",
        "unclean",
        "smell*",
        "stink*",
        "cockroach*",
        "rat",
        "rats",
        "delay*",
        "late",
        "cancel*",
        "refund",
        "overcharg*",
        "rude",
        "bribe",
        "complain*",
        "problem",
        "issue",
        "broken",
        "not cleaned",
        "ac",
        "fan",
        "light",
        "toilet*",
        "washroom",
        "charging",
        "food",
        "stale",
        "unauthori*",
        "waiting",
        "pending",
        "not received",
        "no response",
        "worst",
        "pathetic",
        "poor",
        "shikayat",
        "pareshan*",
        "dikkat",
        "kharab",
        "gandagi",
        "ganda",
        "paani nahi",
        "शिकायत",
        "परेशान",
        "गंदगी",
        "गंदा",
        "खराब",
        "पानी नहीं",
        "देरी",
        "लेट",
        "रिफंड",
        "बदतमीजी",
        "रिश्वत",
        "not functioning",
        "no network",
        "no signal",
        "outage",
        "fraud",
        "scam",
        "cheat*",
        "not delivered",
        "lost",
        "damaged",
        "appointment",
        "illegal",
        "blocking",
        "noise",
        "loud",
        "shor",
        "action nahi",
        "no action",
    ]
)
_QUERY = L(
    [
        "how",
        "when",
        "what",
        "where",
        "which",
        "why",
        "kab",
        "kaise",
        "kahan",
        "kya",
        "कब",
        "कैसे",
        "कहाँ",
        "क्या",
        "status",
        "enquiry",
        "inquiry",
        "is there",
        "can i",
    ]
)
_PRAISE = L(
    [
        "thanks",
        "thank",
        "thankyou",
        "thx",
        "grateful",
        "great job",
        "kudos",
        "appreciat*",
        "salute",
        "proud",
        "awesome",
        "excellent",
        "well done",
        "happy",
        "dhanyavad",
        "dhanyawad",
        "shukriya",
        "धन्यवाद",
        "शुक्रिया",
        "आभार",
        "बधाई",
    ]
)
_SPAM = L(
    [
        "follow back",
        "giveaway",
        "crypto",
        "bitcoin",
        "earn money",
        "work from home",
        "click here",
        "dm for",
        "promo code",
        "betting",
        "casino",
        "loan offer",
    ]
)
# Earlier categories win when several match (a theft on a train is theft, not catering).
_CATEGORIES: tuple[tuple[str, Lexicon], ...] = (
    (
        "medical",
        L(
            [
                "medical",
                "doctor",
                "unconscious",
                "heart attack",
                "bleeding",
                "pregnant",
                "डॉक्टर",
                "बेहोश",
                "ambulance",
            ]
        ),
    ),
    ("harassment", L(["molest*", "harass*", "eve teasing", "misbehav*", "छेड़छाड़", "stalk*"])),
    ("theft", L(["stolen", "theft", "robbed", "snatch*", "चोरी", "chori"])),
    (
        "security",
        L(
            [
                "unauthori*",
                "drunk*",
                "fight*",
                "threat*",
                "rpf",
                "security",
                "fire",
                "smoke",
                "knife",
            ]
        ),
    ),
    ("water", L(["no water", "without water", "water", "paani", "पानी"])),
    (
        "cleanliness",
        L(
            [
                "dirty",
                "filthy",
                "unclean",
                "smell*",
                "stink*",
                "cockroach*",
                "rat",
                "rats",
                "not cleaned",
                "toilet*",
                "washroom",
                "gandagi",
                "ganda",
                "गंदगी",
                "गंदा",
                "garbage",
            ]
        ),
    ),
    ("electrical", L(["ac", "a c", "fan", "light", "charging", "socket", "electric*", "एसी"])),
    ("catering", L(["food", "stale", "pantry", "catering", "meal", "tea", "khana", "खाना"])),
    ("delay", L(["delay*", "late", "running late", "देरी", "लेट"])),
    ("refund", L(["refund", "tdr", "ticket", "booking", "overcharg*", "रिफंड"])),
    ("staff_behaviour", L(["rude", "bribe", "बदतमीजी", "रिश्वत"])),
    ("cyber_fraud", L(["fraud", "scam", "cheat*", "otp", "upi"])),
    ("traffic", L(["parking", "parked", "traffic", "jam", "blocking", "challan"])),
    ("network_outage", L(["no network", "no signal", "outage", "call drop*"])),
    ("delivery", L(["not delivered", "parcel", "speed post", "courier", "deliver"])),
    ("appointment", L(["appointment", "slot", "passport", "verification"])),
)

VERSION = "baseline-keywords-2"


class BaselineTriager:
    """Keyword rules in a fixed order: spam, SOS, praise, grievance, query, else noise."""

    version = VERSION

    def triage_batch(
        self, texts: Sequence[str], addressed: Sequence[bool] | None = None
    ) -> list[TriageResult]:
        return [self.triage_one(t) for t in texts]  # keywords do not look at addressing

    def triage_one(self, text: str) -> TriageResult:
        ents = entity_extractor.extract(text)
        toks = tokens(text)
        joined = " " + " ".join(toks) + " "
        has_ids = any(e.kind in {"pnr", "train", "fir", "vehicle"} for e in ents)
        if _SPAM.matches(toks, joined):
            kind, score = "spam", 0.05
        elif _SOS.matches(toks, joined):
            kind, score = "sos", 0.95
        elif _GRIEVANCE.matches(toks, joined) or has_ids:
            kind, score = "grievance", 0.8
        elif _PRAISE.matches(toks, joined):
            kind, score = "feedback", 0.15
        elif _QUERY.matches(toks, joined) or "?" in text:
            kind, score = "query", 0.6
        else:
            kind, score = "noise", 0.2
        category = next((n for n, lex in _CATEGORIES if lex.matches(toks, joined)), None)
        urgency = "sos" if kind == "sos" else ("normal" if kind in ACTIONABLE_KINDS else "low")
        return TriageResult(
            language=language.detect(text),
            actionable=kind in ACTIONABLE_KINDS,
            score=score,
            kind=kind,
            category=category if kind in ACTIONABLE_KINDS else None,
            urgency=urgency,
            entities=ents,
            masked_text=mask(text, ents),
            model_version=VERSION,
        )
