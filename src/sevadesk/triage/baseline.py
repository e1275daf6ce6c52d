"""A keyword baseline triager: transparent, fast, and the floor a trained model must beat.

The triage issue replaces it with a trained model behind the same `Triager` interface.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sevadesk.domain.messages import TriageResult
from sevadesk.triage import entities as entity_extractor
from sevadesk.triage import language
from sevadesk.triage.base import ACTIONABLE_KINDS
from sevadesk.triage.masking import mask


def _words(*phrases: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(phrases) + r")(?!\w)", re.I)


_SOS = _words(
    r"sos",
    r"emergency",
    r"help me",
    r"please help",
    r"pls help",
    r"urgent help",
    r"save us",
    r"medical",
    r"doctor",
    r"unconscious",
    r"heart attack",
    r"bleeding",
    r"blood",
    r"pregnant",
    r"labou?r pain",
    r"molest\w*",
    r"harass\w*",
    r"eve.?teasing",
    r"misbehav\w*",
    r"assault\w*",
    r"threat\w*",
    r"kidnap\w*",
    r"missing child",
    r"fire",
    r"smoke",
    r"accident",
    r"derail\w*",
    r"stolen",
    r"theft",
    r"robbed",
    r"snatch\w*",
    r"drunk\w*",
    r"fight\w*",
    r"बचाओ",
    r"मदद करें",
    r"आपातकाल",
    r"इमरजेंसी",
    r"छेड़छाड़",
    r"चोरी",
    r"डॉक्टर",
    r"बेहोश",
    r"bachao",
    r"madad karo",
)
_GRIEVANCE = _words(
    r"not working",
    r"no water",
    r"without water",
    r"dirty",
    r"filthy",
    r"unclean",
    r"smell\w*",
    r"cockroach\w*",
    r"rat\w?",
    r"delay\w*",
    r"late",
    r"cancel\w*",
    r"refund",
    r"overcharg\w*",
    r"rude",
    r"bribe",
    r"complain\w*",
    r"problem",
    r"issue",
    r"broken",
    r"not cleaned",
    r"ac",
    r"fan",
    r"light",
    r"toilet",
    r"washroom",
    r"charging",
    r"food",
    r"stale",
    r"unauthori[sz]ed",
    r"waiting",
    r"pending",
    r"not received",
    r"no response",
    r"worst",
    r"pathetic",
    r"poor",
    r"shikayat",
    r"pareshan\w*",
    r"dikkat",
    r"kharab",
    r"gandagi",
    r"ganda",
    r"paani nahi",
    r"शिकायत",
    r"परेशान",
    r"गंदगी",
    r"गंदा",
    r"खराब",
    r"पानी नहीं",
    r"देरी",
    r"लेट",
    r"रिफंड",
    r"बदतमीजी",
    r"रिश्वत",
    r"not functioning",
    r"no network",
    r"no signal",
    r"outage",
    r"fraud",
    r"scam",
    r"cheat\w*",
    r"not delivered",
    r"lost",
    r"damaged",
    r"appointment",
)
_QUERY = _words(
    r"how",
    r"when",
    r"what",
    r"where",
    r"which",
    r"why",
    r"kab",
    r"kaise",
    r"kahan",
    r"kya",
    r"कब",
    r"कैसे",
    r"कहाँ",
    r"क्या",
    r"status",
    r"enquiry",
    r"inquiry",
    r"is there",
    r"can i",
)
_PRAISE = _words(
    r"thanks?",
    r"thank you",
    r"thankyou",
    r"thx",
    r"grateful",
    r"great job",
    r"kudos",
    r"appreciate\w*",
    r"salute",
    r"proud",
    r"awesome",
    r"excellent",
    r"well done",
    r"happy",
    r"dhanyavad",
    r"dhanyawad",
    r"shukriya",
    r"धन्यवाद",
    r"शुक्रिया",
    r"आभार",
    r"बधाई",
)
_SPAM = _words(
    r"follow back",
    r"giveaway",
    r"crypto",
    r"bitcoin",
    r"earn money",
    r"work from home",
    r"click here",
    r"dm for",
    r"promo code",
    r"betting",
    r"casino",
    r"loan offer",
)
_CATEGORIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "medical",
        _words(
            r"medical",
            r"doctor",
            r"unconscious",
            r"heart attack",
            r"bleeding",
            r"pregnant",
            r"डॉक्टर",
            r"बेहोश",
            r"ambulance",
        ),
    ),
    (
        "harassment",
        _words(r"molest\w*", r"harass\w*", r"eve.?teasing", r"misbehav\w*", r"छेड़छाड़", r"stalk\w*"),
    ),
    ("theft", _words(r"stolen", r"theft", r"robbed", r"snatch\w*", r"चोरी", r"chori")),
    (
        "security",
        _words(
            r"unauthori[sz]ed",
            r"drunk\w*",
            r"fight\w*",
            r"threat\w*",
            r"rpf",
            r"security",
            r"fire",
            r"smoke",
        ),
    ),
    ("water", _words(r"no water", r"without water", r"water", r"paani", r"पानी")),
    (
        "cleanliness",
        _words(
            r"dirty",
            r"filthy",
            r"unclean",
            r"smell\w*",
            r"cockroach\w*",
            r"rat\w?",
            r"not cleaned",
            r"toilet",
            r"washroom",
            r"gandagi",
            r"ganda",
            r"गंदगी",
            r"गंदा",
            r"garbage",
        ),
    ),
    (
        "electrical",
        _words(r"ac", r"a\.c\.?", r"fan", r"light", r"charging", r"socket", r"electric\w*"),
    ),
    (
        "catering",
        _words(r"food", r"stale", r"pantry", r"catering", r"meal", r"tea", r"khana", r"खाना"),
    ),
    ("delay", _words(r"delay\w*", r"late", r"running late", r"देरी", r"लेट")),
    ("refund", _words(r"refund", r"tdr", r"ticket", r"booking", r"overcharg\w*", r"रिफंड")),
    ("staff_behaviour", _words(r"rude", r"bribe", r"misbehaviour", r"बदतमीजी", r"रिश्वत")),
    ("cyber_fraud", _words(r"fraud", r"scam", r"cheat\w*", r"otp", r"upi")),
    ("network_outage", _words(r"no network", r"no signal", r"outage", r"call drop\w*")),
    ("delivery", _words(r"not delivered", r"parcel", r"speed post", r"courier")),
    ("appointment", _words(r"appointment", r"slot", r"passport")),
)

VERSION = "baseline-keywords-1"


class BaselineTriager:
    """Keyword rules in a fixed order: spam, SOS, praise, grievance, query, else noise."""

    version = VERSION

    def triage_batch(self, texts: Sequence[str]) -> list[TriageResult]:
        return [self.triage_one(t) for t in texts]

    def triage_one(self, text: str) -> TriageResult:
        ents = entity_extractor.extract(text)
        has_ids = any(e.kind in {"pnr", "train", "fir", "vehicle"} for e in ents)
        if _SPAM.search(text):
            kind, score = "spam", 0.05
        elif _SOS.search(text):
            kind, score = "sos", 0.95
        elif _GRIEVANCE.search(text) or has_ids:
            kind, score = "grievance", 0.8
        elif _PRAISE.search(text):
            kind, score = "feedback", 0.15
        elif _QUERY.search(text) or "?" in text:
            kind, score = "query", 0.6
        else:
            kind, score = "noise", 0.2
        category = next((name for name, rx in _CATEGORIES if rx.search(text)), None)
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
