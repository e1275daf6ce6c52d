"""Language of a post, BCP-47 style: script first, then romanised Hindi among Latin text.

Detectors trained on clean text call romanised Hindi ("train late hai, koi sunta nahi")
English; a short list of Hindi function words that never occur in English settles it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from sevadesk.triage.text import tokens

# Unicode blocks of the scripts Indian citizens write in.
_SCRIPTS: tuple[tuple[str, int, int], ...] = (
    ("hi", 0x0900, 0x097F),  # Devanagari (Hindi; Marathi and Nepali share it)
    ("bn", 0x0980, 0x09FF),
    ("pa", 0x0A00, 0x0A7F),
    ("gu", 0x0A80, 0x0AFF),
    ("or", 0x0B00, 0x0B7F),
    ("ta", 0x0B80, 0x0BFF),
    ("te", 0x0C00, 0x0C7F),
    ("kn", 0x0C80, 0x0CFF),
    ("ml", 0x0D00, 0x0D7F),
    ("ur", 0x0600, 0x06FF),
)

# Marathi-only frequent words in Devanagari (Hindi does not use them).
_MARATHI = frozenset(
    ["आहे", "नाही", "आणि", "आहेत", "होते", "मला", "तुम्ही", "आम्ही", "करा", "झाले", "काय"]
)
# Hindi-only function words (Marathi says आहे, मध्ये, नाही, ला, आणि, होता, गेला, केले, झाले,
# साठी). Two of them settle it without lingua, which in its fast mode calls plain Hindi
# ("गाड़ी संख्या 14006 में एसी खराब है, यात्री परेशान हैं") Marathi: on the railway tweets it
# said Marathi for 7 Hindi posts that have these words, and for 477 of 3,286 demo posts.
_HINDI = frozenset(
    ["है", "हैं", "में", "नहीं", "से", "को", "और", "था", "थी", "थे", "गया", "गई", "किया", "हुआ", "लिए"]
)

# Hindi words that are not also common English words ("the", "par", "main" are left out).
_HINGLISH = frozenset(
    [
        "hai",
        "hain",
        "nahi",
        "nahin",
        "nhi",
        "kya",
        "kyu",
        "kyun",
        "kyon",
        "kab",
        "kaise",
        "kaisa",
        "kahan",
        "mera",
        "meri",
        "mere",
        "humara",
        "hamara",
        "aapka",
        "aapki",
        "apna",
        "apni",
        "koi",
        "kuch",
        "bahut",
        "bhai",
        "bhaiya",
        "raha",
        "rahi",
        "rahe",
        "tha",
        "thi",
        "gaya",
        "gayi",
        "diya",
        "liya",
        "karo",
        "kare",
        "karna",
        "karein",
        "kijiye",
        "kripya",
        "krpya",
        "jaldi",
        "abhi",
        "aur",
        "lekin",
        "mein",
        "yeh",
        "woh",
        "hota",
        "hoti",
        "pareshan",
        "pareshani",
        "dikkat",
        "samasya",
        "shikayat",
        "madad",
        "bachao",
        "paisa",
        "paise",
        "wapas",
        "chahiye",
        "milega",
        "mila",
        "mili",
        "ghante",
        "logo",
        "sab",
        "ho",
        "ko",
        "ki",
        "ka",
        "ke",
        "se",
        "ye",
        "wo",
        "kar",
        "hua",
        "hui",
        "huye",
        "tak",
        "liye",
        "wala",
        "wali",
        "wale",
        "diye",
        "bhejo",
        "bhejiye",
        "dijiye",
        "sunta",
        "sunti",
        # Pronouns, verbs and connectives of code-mixed posts ("mai train me hu, usne bola");
        # likewise without the English homographs (log, tab, bas, me, to).
        "mai",
        "hu",
        "hoon",
        "hun",
        "maine",
        "humne",
        "usne",
        "unhone",
        "mujhe",
        "hume",
        "humein",
        "usko",
        "unko",
        "iska",
        "uska",
        "unka",
        "apne",
        "bhi",
        "toh",
        "agar",
        "agr",
        "jab",
        "kyunki",
        "kyuki",
        "sirf",
        "dono",
        "kal",
        "aaj",
        "kaun",
        "kitna",
        "kitne",
        "rha",
        "rhe",
        "rhi",
        "kr",
        "krna",
        "karke",
        "krke",
        "pucha",
        "bola",
        "bole",
        "lagta",
        "lagti",
        "sahi",
        "galat",
        "accha",
        "acha",
        "theek",
        "thik",
        "aaya",
        "aayi",
        "gaye",
        "sakte",
        "sakta",
    ]
)
# Romanised-Hindi word counting skips links and tags cheaply; the detector was tuned on it.
_WORD = re.compile(r"https?://\S+|[@#]\w+|([a-z]+)")


_SCRIPT_RX = tuple((lang, re.compile(f"[{chr(lo)}-{chr(hi)}]")) for lang, lo, hi in _SCRIPTS)
_ANY_SCRIPT = re.compile("[" + "".join(f"{chr(lo)}-{chr(hi)}" for _, lo, hi in _SCRIPTS) + "]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
# Each script's 128-code-point blocks (Urdu has two), with a pattern for a run of it alone.
_BLOCK_OF = {
    block: (lang, re.compile(f"[{chr(lo)}-{chr(hi)}]+"))
    for lang, lo, hi in _SCRIPTS
    for block in range(lo >> 7, (hi >> 7) + 1)
}


def _script_language(text: str) -> str | None:
    """The Indian script most of the text is written in, if any dominates the Latin letters."""
    # Most non-ASCII posts are English with an emoji, a ₹ or curly quotes: one scan says so.
    letters = "".join(_ANY_SCRIPT.findall(text))
    if len(letters) < 2:
        return None
    lang, whole = _BLOCK_OF[ord(letters[0]) >> 7]
    if whole.fullmatch(letters):
        n = len(letters)  # the usual post: one script only
    else:
        counts = {lang: len(rx.findall(letters)) for lang, rx in _SCRIPT_RX}
        lang, n = max(counts.items(), key=lambda kv: kv[1])
    latin = len(_LATIN_LETTER.findall(text))
    if n >= max(2, latin // 4):
        return _devanagari_language(text) if lang == "hi" else lang
    return None


@lru_cache(maxsize=1)
def _devanagari_detector():  # type: ignore[no-untyped-def]
    from lingua import Language, LanguageDetectorBuilder

    # Low-accuracy mode (trigrams only) is enough to tell two languages apart and 40% faster.
    return (
        LanguageDetectorBuilder.from_languages(Language.HINDI, Language.MARATHI)
        .with_low_accuracy_mode()
        .build()
    )


_LINGUA_CODES = {"HINDI": "hi", "MARATHI": "mr"}


def _devanagari_language(text: str) -> str:
    """Hindi or Marathi: lingua decides, with Marathi-only words as a cheap first check."""
    words = tokens(text)
    if not _MARATHI.isdisjoint(words):
        return "mr"
    if sum(map(_HINDI.__contains__, words)) >= 2:
        return "hi"
    found = _devanagari_detector().detect_language_of(text)
    return _LINGUA_CODES.get(found.name, "hi") if found is not None else "hi"


def detect(text: str) -> str:
    if not text.isascii():
        script = _script_language(text)
        if script is not None:
            return script
    # Latin words outside links, handles and hashtags (those match first and count for none).
    words = list(filter(None, _WORD.findall(text.lower())))
    if not words:
        return "und"
    hindi = sum(map(_HINGLISH.__contains__, words))
    # Two Hindi function words and at least a sixth of the words: romanised Hindi.
    if hindi >= 2 and hindi * 6 >= len(words):
        return "hi-Latn"
    return "en"
