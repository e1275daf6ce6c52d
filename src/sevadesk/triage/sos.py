"""The SOS head's cues: what tells a person in danger now from news, hyperbole and hazards.

The SOS head is a second linear model, trained on the kind model's features plus these cue
features, on every post the team labelled sos against everything else (the SOS set's hard
negatives among them: accident and crime news, compensation, hyperbole, hazards, crimes long
over). A cue only adds a feature; the weights are learnt. The lexicons follow the kinds of
docs/decisions/0002 and the misses the issue reported: harassment described without "help",
a family member unreachable since boarding a train, men drinking or smoking in a ladies'
coach, unreserved passengers forcing their way into a reserved coach.
"""

from __future__ import annotations

from sevadesk.triage.text import LexiconIndex, tokens

SOS_CUES: dict[str, list[str]] = {
    "harass": [
        *("harass*", "molest*", "eve teas*", "teasing", "teased", "stalk*", "touching", "touched"),
        *("misbehav*", "lewd", "indecent", "obscene", "vulgar", "staring", "groping", "groped"),
        *("following me", "following us", "following her", "following my", "is following"),
        *("passing comments", "comments on", "masturbat*", "flashing", "chhed*", "छेड़*"),
        *("बदतमीजी", "अश्लील", "unsafe", "not safe", "scared", "afraid", "darr", "डर"),
    ],
    "women": [
        *("ladies coach", "ladies compartment", "ladies bogie", "ladies first class"),
        *("women coach", "women compartment", "ladies", "lady", "woman", "women", "girl"),
        *("girls", "wife", "sister", "daughter", "mother", "mahila", "महिला", "लेडीज"),
    ],
    "intox": [
        *("drinking", "drunk*", "alcohol", "liquor", "beer", "sharab*", "daru", "दारू"),
        *("शराब", "smoking", "smoke", "cigarette*", "bidi", "beedi", "ganja", "gutkha"),
    ],
    "force": [
        *("unreserved", "general ticket", "without ticket", "without reservation", "forcefully"),
        *("forced", "forcibly", "barged", "entered our", "occupied our", "occupying our"),
        *("not allowing", "pushing", "pushed", "abusing", "abused", "fighting", "fight"),
        *("threatening", "threatened", "threat*", "beating", "beaten", "beat", "hit me"),
        *("mob", "goons", "gundas", "gunde", "गुंडे", "मारपीट", "dhamki", "धमकी"),
    ],
    "missing": [
        *("missing", "not reachable", "unreachable", "not answering", "not picking"),
        *("not responding to calls", "no contact", "lost contact", "switched off"),
        *("last seen", "since boarding", "not reached", "has not reached", "didn't reach"),
        *("did not reach", "kidnap*", "abduct*", "lapata", "लापता", "गुम", "child lost"),
    ],
    "crime": [
        *("stolen", "stole", "theft", "thief", "thieves", "robbed", "robbery", "snatch*"),
        *("pickpocket*", "looted", "loot", "dacoit*", "chori", "चोरी", "चोर", "knife"),
        *("gun", "weapon", "attack*", "assault*", "stabbed", "acid"),
    ],
    "medical": [
        *("unconscious", "fainted", "collapsed", "heart attack", "chest pain", "bleeding"),
        *("blood", "ambulance", "doctor", "medical", "injured", "injury", "critical"),
        *("pregnant", "labour pain", "vomit*", "diarrh*", "fever", "breathing", "behosh"),
        *("बेहोश", "डॉक्टर", "एम्बुलेंस", "suicide", "fire", "आग"),
    ],
    "now": [
        *("right now", "now", "currently", "immediately", "urgent*", "asap", "help"),
        *("please help", "save", "send", "rescue", "coach", "berth", "seat", "pnr", "bachao"),
        *("madad", "मदद", "बचाओ", "तुरंत", "jaldi", "turant", "tonight", "just now"),
    ],
    "kin": [
        *("my wife", "my husband", "my father", "my mother", "my son", "my daughter"),
        *("my brother", "my sister", "my friend", "my child", "my kid", "my parents"),
        *("my family", "my uncle", "my aunt", "my grandfather", "my grandmother"),
        *("mera beta", "meri beti", "मेरा बेटा", "मेरी बेटी", "मेरी पत्नी", "मेरे पिता"),
    ],
    # What the hard negatives say.
    "news": [
        *("ex gratia", "ex-gratia", "exgratia", "compensation", "condolence*", "inquiry"),
        *("enquiry ordered", "arrested", "nabbed", "held for", "booked", "police said"),
        *("reportedly", "breaking", "killed", "dead", "died", "death toll", "accused"),
        *("court", "sentenced", "case registered", "fir registered", "busted", "rescued"),
    ],
    "hyperbole": [
        *("will kill me", "killing us", "kill us", "dying", "murder of", "die of"),
        *("mar jayenge", "mar gaye", "torture", "nightmare", "hell"),
    ],
}
_INDEX = LexiconIndex({f"sos:{k}": v for k, v in SOS_CUES.items()})
CUE_LABELS = frozenset(f"sos:{k}" for k in SOS_CUES)
# Pairs the head sees as one feature: a cue in a post with a link and no request is news
# shared, a kinship word with "missing" a family member, and so on.
_PAIRS = (
    ("sos:women", "sos:intox"),
    ("sos:women", "sos:harass"),
    ("sos:women", "sos:force"),
    ("sos:kin", "sos:missing"),
    ("sos:kin", "sos:medical"),
    ("sos:kin", "sos:harass"),
    ("sos:force", "sos:now"),
    ("sos:crime", "sos:now"),
    ("sos:medical", "sos:now"),
    ("sos:harass", "sos:now"),
    ("sos:intox", "sos:now"),
)


def cue_hits(text: str) -> set[str]:
    toks = tokens(text)
    return _INDEX.hits(toks, " " + " ".join(toks) + " ")


def sos_features(base: list[str], cues: set[str], text: str) -> list[str]:
    """The SOS head's features: the kind model's, the SOS cues found and their pairs, each
    also marked when the post shares a link or is a retweet (news, not a person)."""
    out = list(base)
    shared = "http" in text or text.startswith("RT @")
    for cue in cues:
        out.append(cue)
        if shared:
            out.append(cue + "+link")
    for a, b in _PAIRS:
        if a in cues and b in cues:
            out.append(f"{a}&{b}")
    return out
