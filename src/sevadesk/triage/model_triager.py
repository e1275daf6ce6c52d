"""The shipped triager: a trained linear model for kind, plus lexicons and admin rules.

Order of decisions for one message:
1. entities (numbers and personal data; the districts and stations a post names), language
   and masking (deterministic);
2. the model's probabilities over kinds; actionable = P(grievance) + P(query) + P(sos);
3. an official's reply ("matter forwarded to …", with no "I", "me" or "my") is noise; any
   other post that gives a PNR is actionable unless it is praise;
4. SOS: the model, or an SOS keyword in a post that is not a retweet or a shared news link
   (SOS recall matters more than precision: a missed SOS fails a citizen, a false one costs
   an officer a look);
5. category from the organisation's taxonomy keywords; urgency from kind and urgency words;
6. admin rules from the org file, which win where they match;
7. an actionable post still without a category gets the category model's, when it is sure
   (p >= 0.6) of a category the organisation has.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sevadesk.domain import post_text
from sevadesk.domain.messages import Entity, TriageResult
from sevadesk.runtime import collector_paused
from sevadesk.triage import entities as entity_extractor
from sevadesk.triage import language
from sevadesk.triage.base import ACTIONABLE_KINDS, KINDS
from sevadesk.triage.features import (
    CUE_LEXICONS,
    FIRST_PERSON,
    FIRST_PERSON_SINGULAR,
    REQUEST_WORDS,
    features,
)
from sevadesk.triage.linear import LinearModel
from sevadesk.triage.masking import mask
from sevadesk.triage.places import gazetteer, place_entities
from sevadesk.triage.rules import Rule, Taxonomy, TriageConfig
from sevadesk.triage.sos import SOS_CUES, sos_features
from sevadesk.triage.text import LexiconIndex, tokens

MODELS = Path(__file__).with_name("models")
CURRENT = MODELS / "current.txt"

SOS_WORDS = [
    "sos",
    "urgent help",
    "save us",
    "medical",
    "doctor",
    "unconscious",
    "heart attack",
    "chest pain",
    "bleeding",
    "blood",
    "pregnant",
    "labour pain",
    "ambulance",
    "fainted",
    "collapsed",
    "injured",
    "injury",
    "molest*",
    "harass*",
    "eve teasing",
    "stalk*",
    "following me",
    "following my",
    "is following",
    "scared",
    "afraid",
    "in danger",
    "not safe",
    "unsafe",
    "teasing",
    "teased",
    "beat me",
    "beating",
    "beaten",
    "slapped",
    "pulled my",
    "peecha kar*",
    "पीछा कर*",
    "assault*",
    "threat*",
    "kidnap*",
    "missing child",
    "fire",
    "smoke",
    "accident",  # not "derail": news of derailments is not a person asking for help
    "stolen",
    "theft",
    "thief",
    "robbed",
    "snatch*",
    "drunk*",
    "fought",
    "knife",
    "gun",
    "weapon",
    "unattended",
    "suspicious",
    "no owner",
    "unclaimed",
    "aggressive",
    "vomit*",
    "diarrh*",
    "critical condition",
    "food poisoning",
    "stomach upset",
    "stole",
    "send police",
    "send some police",
    "send the police",
    "need police",
    "call police",
    "police help",
    "send rpf",
    "police bhejo",
    "पुलिस भेज*",
    "fever",
    "unwell",
    "breathing",
    "asthma",
    "allerg*",
    "medicine",
    "बुखार",
    "दवाई",
    "बचाओ",
    "मदद करें",
    "छेड़छाड़",
    "चोरी",
    "चोर",
    "डॉक्टर",
    "बेहोश",
    "एम्बुलेंस",
    "आग",
    "धुआं",
    "दुर्घटना",
    "धमकी",
    "bachao",
    "madad karo",
    "chori",
    "behosh",
    "dhamki",
    "aag",
    "tabiyat",
    "pareshan kar",
    # Crimes and emergencies a police desk hears of (not "loot" or "murder", which citizens
    # also say of prices and of policies).
    "robbery",
    "dacoit*",
    "gunshot*",
    "firing",
    "stabbed",
    "rape",
    "raped",
    "acid attack",
    "riot*",
    "lynch*",
    "suicide",
    "dead body",
    "hit and run",
    "domestic violence",
    "is missing",
    "went missing",
    "missing since",
    "missing hai",
    "हत्या",
    "बलात्कार",
    "अपहरण",
    "मारपीट",
    "लापता",
    "marpeet",
]
# "Emergency" is SOS unless it names railway furniture or a ticket quota.
SOS_EMERGENCY = ["emergency", "आपातकाल", "इमरजेंसी"]
SOS_IDIOMS = [
    "emergency quota",
    "emergency chain",
    "emergency brake",
    "emergency brakes",
    "emergency exit",
    "emergency window",
    "emergency cleanup",
    "emergency cleaning",
]
# An official's reply restates the citizen's problem in the agency's words ("your complaint has
# been registered", "matter forwarded to …"): the agency's own speech, never a new ticket.
# Citizens quote these phrases too, to complain about them, but then they say "I" or "my".
OFFICIAL_REPLY = [
    "your complaint has been registered",
    "complaint has been registered on railmadad",
    "request has been registered",
    "railmadad reference",
    "kindly share your",
    "kindly share pnr",
    "please share your pnr",
    "pls share your pnr",
    "plz share your",
    "please share your mobile",
    "please share the journey details",
    "we request you to please share",
    "preferably via dm",
    "preferably in direct message",
    "you may track",
    "for speedy redressal",
    "inconvenience caused is regretted",
    "inconvenience caused is deeply regretted",
    "inconvenience is regretted",
    "matter forwarded",
    "matter informed",
    "matter advised",
    "matter is being escalated",
    "escalated to the concerned official",
    "issue referred",
    "issue forwarded",
    "referred to concerned",
    "will be attended by on board staff",
    # Seen in the railway training split's official replies.
    "sorry for inconvenience",
    "sorry for your inconvenience",
    "sorry for the inconvenience",
    "inconvenience regretted",
    "inconvenience caused deeply regretted",
    "your complaint will be attended",
    "complaint has been noted",
    "informed onboard staff",
    "matter notified",
    "matter noted",
    "noted and fwd",
    "for n a",
    "necessary assistance will be rendered",
]
HIGH_WORDS = [
    "urgent*",
    "immediately",
    "asap",
    "since morning",
    "hours",
    "stranded",
    "stuck",
    "elderly",
    "senior citizen",
    "old age",
    "child",
    "kid",
    "baby",
    "infant",
    "disabled",
    "wheelchair",
    "women",
    "lady",
    "ladies",
    "night",
    "jaldi",
    "turant",
    "तुरंत",
    "जल्दी",
    "बुजुर्ग",
    "बच्चा",
]
SPAM_WORDS = [
    "follow back",
    "followback",
    "giveaway",
    "crypto",
    "bitcoin",
    "earn money",
    "click here",
    "promo code",
    "betting",
    "casino",
    "loan offer",
    "lucky draw",
    "paise kamao",
    "कमाएं",
]


# Someone asking for something: the same words the model's first-person and request
# features use.
_FIRST_OR_REQUEST = FIRST_PERSON | REQUEST_WORDS


# Words of someone on the spot: a need, a ticket, a coach, a call for someone to be sent.
_PASSENGER = frozenset(
    [
        *("need", "needs", "pnr", "coach", "berth", "seat", "copassenger", "copassengers"),
        *("send", "arrange", "rescue", "bhejo", "bhejiye", "भेजें", "भेजिए", "भेजो"),
    ]
)


def _reported(text: str, toks: list[str]) -> bool:
    """A retweet, or a link shared with no one asking for anything and no passenger's detail:
    news about an incident, not a person in one. (A post the model is sure is talk is not
    enough: it reads "mobile stolen at Hazratganj #UPPolice" as talk, P(actionable) 0.04, as
    surely as a notice that names a danger, "never carry fire crackers in a train".)"""
    if text.startswith("RT @"):
        return True
    asks = not (_FIRST_OR_REQUEST.isdisjoint(toks) and _PASSENGER.isdisjoint(toks))
    return "http" in text and not asks


# Kinds of entity that only a passenger gives: a post with a PNR is about one journey. In the
# railway train split 31 of the 33 posts with a PNR (outside a link) are grievances or
# queries (one is praise, one a pasted booking SMS), yet the model, which sees a PNR in one
# post in sixty, scored many of them as talk ("The phone charging socket nor working. Nobody
# to attend to. PNR no.45…": 0.27 in cross-validation).
PASSENGER_ENTITIES = frozenset(["pnr"])


def _official(hits: set[str], toks: list[str]) -> bool:
    return "!official" in hits and FIRST_PERSON_SINGULAR.isdisjoint(toks)


def _sos_cues(hits: set[str]) -> set[str]:
    return {h for h in hits if h.startswith("sos:")}


def sos_keyword_call(triager: ModelTriager, text: str) -> bool:
    """An SOS keyword in a post that is not news shared (what training needs to know)."""
    prep = triager.prepare(text)
    return _sos_words(prep.hits) and not _reported(text, prep.toks)


def _sos_words(hits: set[str]) -> bool:
    return "!sos" in hits or ("!emergency" in hits and "!not-sos" not in hits)


def current_model_path() -> Path:
    return MODELS / CURRENT.read_text().strip()


@lru_cache(maxsize=4)
def load_model(path: Path) -> LinearModel:
    return LinearModel.load(path)


def category_model_path(kind_model: Path) -> Path:
    """The category model trained with a kind model sits beside it."""
    return kind_model.with_name(kind_model.name.removesuffix(".npz") + ".category.npz")


def sos_model_path(kind_model: Path) -> Path:
    """The SOS head trained with a kind model sits beside it."""
    return kind_model.with_name(kind_model.name.removesuffix(".npz") + ".sos.npz")


def thresholds_path(kind_model: Path) -> Path:
    """The decision thresholds chosen by cross-validation when the model was trained."""
    return kind_model.with_name(kind_model.name.removesuffix(".npz") + ".thresholds.json")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """actionable: P(grievance + query + sos) at or above which a post is actionable; sos: the
    SOS head's probability at or above which it is an SOS (without a head, the kind model's
    own P(sos), trusted only when sure)."""

    actionable: float = 0.5
    sos: float = 0.85
    # With a head: the lower line the head must reach when the post also has an SOS keyword
    # and is not a shared link or retweet (1.0: keywords alone never count).
    sos_keyword: float = 1.0

    @classmethod
    def load(cls, path: Path) -> Thresholds:
        if not path.exists():
            return cls()
        spec = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            float(spec["actionable"]), float(spec["sos"]), float(spec.get("sos_keyword", 1.0))
        )


# The category model names a category only when the keywords name none and it is this sure:
# a wrong category misleads an office's reports more than none. On airline rows left out of
# its training, its guesses were right 58% of the time at 0.5, 63% at 0.6, 64% at 0.7, and
# 0.6 keeps most of them (302 of 557 posts the keywords missed; 428 at 0.5, 214 at 0.7).
CATEGORY_MIN_P = 0.6


@dataclass(slots=True)
class _Prepared:
    """What triage reads from a post before the model runs, computed once."""

    entities: list[Entity]
    language: str
    features: list[str]
    toks: list[str]
    joined: str
    hits: set[str]
    addressed: bool
    keyword_category: str | None
    places: list[Entity]  # districts and stations: reported, not model features
    text: str


NOT_ACTIONABLE = tuple(k for k in KINDS if k not in ACTIONABLE_KINDS)
ADDRESSED_PREFIX = "@agency "


class ModelTriager:
    """Implements `Triager` with the shipped (or a given) model."""

    def __init__(
        self,
        model: LinearModel | None = None,
        config: TriageConfig | None = None,
        sos_threshold: float | None = None,
        category_model: LinearModel | None = None,
        sos_model: LinearModel | None = None,
        thresholds: Thresholds | None = None,
    ) -> None:
        if model is None:
            path = current_model_path()
            model = load_model(path)
            if category_model is None and category_model_path(path).exists():
                category_model = load_model(category_model_path(path))
            if sos_model is None and sos_model_path(path).exists():
                sos_model = load_model(sos_model_path(path))
            if thresholds is None:
                thresholds = Thresholds.load(thresholds_path(path))
        thresholds = thresholds or Thresholds()
        self.model = model
        self.sos_model = sos_model
        self.category_model = category_model
        config = config or TriageConfig()
        self.taxonomy = Taxonomy.load(only=config.categories)
        allowed = set(config.category_names())
        # The category model's classes this organisation has (its own, from corrections, too).
        self._model_categories = (
            [i for i, c in enumerate(category_model.classes) if c in allowed]
            if category_model is not None
            else []
        )
        # One index answers "which signals and categories does this post mention?" in a pass.
        self.lexicons = LexiconIndex(
            {
                "!sos": SOS_WORDS,
                "!emergency": SOS_EMERGENCY,
                "!not-sos": SOS_IDIOMS,
                "!official": OFFICIAL_REPLY,
                "!high": HIGH_WORDS,
                "!spam": SPAM_WORDS,
                **self.taxonomy.keywords,
                **CUE_LEXICONS,  # the model's cue features, found in the same pass
                **({f"sos:{k}": v for k, v in SOS_CUES.items()} if sos_model else {}),
            }
        )
        self.rules: tuple[Rule, ...] = config.compiled_rules()
        self._addressing_hashtags = frozenset(config.addressing_hashtags)
        self.sos_threshold = thresholds.sos if sos_threshold is None else sos_threshold
        self.sos_keyword_threshold = thresholds.sos_keyword
        # The organisation's own line (its org file), else the one chosen in training.
        self.actionable_threshold = (
            config.actionable_threshold
            if config.actionable_threshold is not None
            else thresholds.actionable
        )
        self.version = self.model.version
        self._index = {name: i for i, name in enumerate(self.model.classes)}

    def prepare(self, text: str, addressed: bool = False) -> _Prepared:
        ents = entity_extractor.extract(text)
        lang = language.detect(text)
        toks = tokens(text)
        joined = " " + " ".join(toks) + " "
        hits = self.lexicons.hits(toks, joined)
        # The model learnt from public posts, where addressing the agency means mentioning
        # its handle; a direct message is addressed by definition, and so is a post with one
        # of the organisation's complaint hashtags, so each is read as one. (Only as the
        # model's input: a post with the hashtag can still be an official's reply.)
        tagged = (
            bool(self._addressing_hashtags)
            and "#" in text
            and not self._addressing_hashtags.isdisjoint(
                {h.lower() for h in post_text.hashtags(text)}
            )
        )
        seen = (
            f"{ADDRESSED_PREFIX}{text}"
            if (addressed or tagged) and not text.startswith("@")
            else text
        )
        feats = features(seen, ents, lang, hits)
        places = place_entities(text, gazetteer().resolve(text, ents, toks, trains=False))
        return _Prepared(
            ents, lang, feats, toks, joined, hits, addressed, self.taxonomy.best(hits), places, text
        )

    def with_actionable_threshold(self, threshold: float) -> ModelTriager:
        """The same triager with another actionable line (for `seva eval`'s table)."""
        other = copy.copy(self)
        other.actionable_threshold = threshold
        return other

    def triage_batch(
        self, texts: Sequence[str], addressed: Sequence[bool] | None = None
    ) -> list[TriageResult]:
        with collector_paused():
            return self._triage_batch(texts, addressed)

    def _triage_batch(
        self, texts: Sequence[str], addressed: Sequence[bool] | None
    ) -> list[TriageResult]:
        flags = addressed if addressed is not None else [False] * len(texts)
        prepared = [self.prepare(t, a) for t, a in zip(texts, flags, strict=True)]
        # As Python floats: `_decide` reads each row a dozen times, and a NumPy scalar costs
        # far more to index and compare than a float.
        probs = self.model.probabilities([p.features for p in prepared]).tolist()
        if self.sos_model is not None:
            sos = self.sos_model.probabilities(
                [sos_features(p.features, _sos_cues(p.hits), p.text) for p in prepared]
            )[:, 1].tolist()
        else:
            sos = [None] * len(prepared)
        results = [
            self._decide(text, prep, row, s)
            for text, prep, row, s in zip(texts, prepared, probs, sos, strict=True)
        ]
        # The category model learnt from complaints: it is asked only about actionable posts
        # that the keywords and the organisation's rules left without a category.
        todo = [i for i, r in enumerate(results) if r.actionable and r.category is None]
        for i, guess in zip(todo, self._category_guesses([prepared[i] for i in todo]), strict=True):
            results[i].category = guess
        return results

    def categories(self, texts: Sequence[str]) -> list[str | None]:
        """The category each post gets if it is actionable, before the organisation's rules."""
        prepared = [self.prepare(text) for text in texts]
        guesses = self._category_guesses(prepared)
        return [p.keyword_category or g for p, g in zip(prepared, guesses, strict=True)]

    def _category_guesses(self, prepared: Sequence[_Prepared]) -> list[str | None]:
        """The category model's call for each post the keywords left without a category."""
        guesses: list[str | None] = [None] * len(prepared)
        if not self._model_categories:
            return guesses
        todo = [i for i, p in enumerate(prepared) if p.keyword_category is None]
        assert self.category_model is not None
        probs = self.category_model.probabilities([prepared[i].features for i in todo])
        classes, allowed = self.category_model.classes, self._model_categories
        for i, row in zip(todo, probs[:, allowed], strict=True):
            best = int(row.argmax())
            if row[best] >= CATEGORY_MIN_P:
                guesses[i] = classes[allowed[best]]
        return guesses

    def triage_one(self, text: str) -> TriageResult:
        return self.triage_batch([text])[0]

    def _decide(
        self, text: str, prep: _Prepared, p: Sequence[float], head: float | None = None
    ) -> TriageResult:
        ix = self._index
        line = self.actionable_threshold
        actionable_p = float(sum(p[ix[k]] for k in ACTIONABLE_KINDS if k in ix))
        kind = self.model.classes[max(range(len(p)), key=p.__getitem__)]
        ents, lang, toks, joined, hits = (
            prep.entities,
            prep.language,
            prep.toks,
            prep.joined,
            prep.hits,
        )
        sos_p = float(p[ix["sos"]]) if "sos" in ix else 0.0
        if head is not None:
            # The SOS head decides, at a lower line where an SOS keyword is in a post that is
            # not news shared: it has learnt from the hard negatives when the words mean news
            # or hyperbole. Both lines come from cross-validation in training.
            sos_p = head
            is_sos = head >= self.sos_threshold or (
                head >= self.sos_keyword_threshold
                and _sos_words(hits)
                and not _reported(text, toks)
            )
        else:
            is_sos = sos_p >= self.sos_threshold or (_sos_words(hits) and not _reported(text, toks))
        # A message sent to the agency (WhatsApp, a form) is never the agency's own reply.
        official = _official(hits, toks) and not prep.addressed
        if official:
            kind = "noise"
        elif is_sos:
            # The model alone is trusted only when it is sure: its SOS examples are few and
            # "please help" is as common in a dirty-toilet complaint as in an emergency.
            kind = "sos"
        elif actionable_p >= line and kind in ("sos", *NOT_ACTIONABLE):
            # An SOS the model is unsure of is still actionable; so is a post whose actionable
            # mass is split between kinds: the bigger of grievance and query takes it.
            kind = max(("grievance", "query"), key=lambda k: p[ix[k]])
        elif actionable_p < line and kind in ACTIONABLE_KINDS:
            kind = max(("feedback", "noise"), key=lambda k: p[ix[k]])
        if kind == "noise" and any(e.kind in PASSENGER_ENTITIES for e in ents) and not official:
            kind = max(("grievance", "query"), key=lambda k: p[ix[k]])
        if kind not in ACTIONABLE_KINDS and "!spam" in hits:
            kind = "spam"
        category = prep.keyword_category
        urgency = self._urgency(kind, hits)
        for rule in self.rules:
            if rule.matches(text, toks, joined):
                kind = rule.kind or kind
                category = rule.category or category
                urgency = rule.urgency or (self._urgency(kind, hits) if rule.kind else urgency)
        actionable = kind in ACTIONABLE_KINDS
        score = max(actionable_p, sos_p)
        if actionable and score < 0.5:
            # Made actionable by a keyword or a rule against the model: keep the score on the
            # actionable side of 0.5 but below the model's own confident calls.
            score = 0.5 + score / 2
        elif not actionable:
            score = min(score, 0.5)
        return TriageResult(
            language=lang,
            actionable=actionable,
            score=round(score, 4),
            kind=kind,
            category=category if actionable else None,
            urgency=urgency,
            entities=sorted(ents + prep.places, key=lambda e: e.start) if prep.places else ents,
            masked_text=mask(text, ents),
            model_version=self.version,
        )

    @staticmethod
    def _urgency(kind: str, hits: set[str]) -> str:
        if kind == "sos":
            return "sos"
        if kind not in ACTIONABLE_KINDS:
            return "low"
        return "high" if "!high" in hits else "normal"
