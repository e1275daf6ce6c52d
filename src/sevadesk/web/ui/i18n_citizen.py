"""The citizens' pages (complaint form, status page) in the WhatsApp bot's four languages.

The language is the one the citizen picked (`?lang=`, then kept in a cookie), else the
best of their browser's Accept-Language, else English. Category and status names come from
the bot's catalogues (`sevadesk/bot/catalogues`), so a citizen reads the same words on
WhatsApp and on the web; the page's own sentences are here, every key in every language
(a test checks it)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from fastapi import Request

from sevadesk.bot.catalogue import Catalogues

LANGUAGES = ("en", "hi", "mr", "ta")
# Each language named in itself, for the switcher.
NAMES = {"en": "English", "hi": "हिन्दी", "mr": "मराठी", "ta": "தமிழ்"}
COOKIE = "seva_citizen_lang"

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "form_title": "File a complaint",
        "form_intro": "Tell the right office what happened. Your name and contact details are "
        "never shown publicly.",
        "language": "Language",
        "choose": "— choose —",
        "agency_hint": "Not sure? Leave it, and name the agency's X handle or hashtag in your "
        "complaint.",
        "description": "What happened?",
        "description_hint": "Say what, where and when. A train number, PNR, vehicle number, "
        "station or place helps us send it to the right office.",
        "where": "Where?",
        "pin": "PIN code",
        "name": "Your name",
        "email": "E-mail",
        "optional": "(optional)",
        "never_public": "(optional, never shown publicly)",
        "submit": "Submit",
        "too_short": "Please describe the problem in a few more words (at least {words} words "
        "and {chars} characters), so that the office can act on it.",
        "no_description": "Please describe what happened.",
        "need_agency": "Please choose the agency your complaint is for: we could not tell it "
        "from what you wrote.",
        "need_category": "Please choose what your complaint is about.",
        "other_category": "Something else",
        "expired": "The form expired. Please submit it again.",
        "not_opened": "Your message was received but not opened as a complaint.",
        "not_sent": "Not sent: {problem}.",
        "status_title": "Complaint {ref}",
        "status": "Status",
        "office": "Office",
        "category": "Category",
        "received": "Received",
        "expected": "Expected by",
        "complaint": "Complaint",
        "private_words": "Sent privately: its words are not shown on this public page.",
        "answer": "The office's answer",
        "no_answer": "The office has not answered yet.",
        "not_found": "No complaint {ref} was found. Check the reference you were given.",
        "filed": "Your complaint is registered. Keep this reference to follow it: {ref}.",
        "file_another": "File another complaint",
        "not_set": "not set yet",
    },
    "hi": {
        "form_title": "शिकायत दर्ज करें",
        "form_intro": "सही कार्यालय को बताइए कि क्या हुआ। आपका नाम और संपर्क विवरण कभी "
        "सार्वजनिक नहीं किए जाते।",
        "language": "भाषा",
        "choose": "— चुनें —",
        "agency_hint": "पक्का नहीं पता? इसे छोड़ दें, और शिकायत में विभाग का X हैंडल या हैशटैग लिखें।",
        "description": "क्या हुआ?",
        "description_hint": "क्या, कहाँ और कब हुआ, बताइए। ट्रेन नंबर, PNR, वाहन नंबर, स्टेशन या "
        "जगह से हम इसे सही कार्यालय तक भेज पाते हैं।",
        "where": "कहाँ?",
        "pin": "पिन कोड",
        "name": "आपका नाम",
        "email": "ई-मेल",
        "optional": "(वैकल्पिक)",
        "never_public": "(वैकल्पिक, कभी सार्वजनिक नहीं किया जाता)",
        "submit": "भेजें",
        "too_short": "कृपया समस्या को कुछ और शब्दों में बताइए (कम से कम {words} शब्द और "
        "{chars} अक्षर), ताकि कार्यालय उस पर कार्रवाई कर सके।",
        "no_description": "कृपया बताइए कि क्या हुआ।",
        "need_agency": "कृपया चुनें कि आपकी शिकायत किस विभाग के लिए है: आपने जो लिखा उससे हम "
        "यह नहीं जान पाए।",
        "need_category": "कृपया चुनें कि आपकी शिकायत किस बारे में है।",
        "other_category": "कुछ और",
        "expired": "फ़ॉर्म की समय-सीमा समाप्त हो गई। कृपया इसे फिर से भेजें।",
        "not_opened": "आपका संदेश मिल गया, लेकिन उसे शिकायत के रूप में दर्ज नहीं किया गया।",
        "not_sent": "नहीं भेजा गया: {problem}।",
        "status_title": "शिकायत {ref}",
        "status": "स्थिति",
        "office": "कार्यालय",
        "category": "श्रेणी",
        "received": "प्राप्त हुई",
        "expected": "अपेक्षित समय",
        "complaint": "शिकायत",
        "private_words": "निजी रूप से भेजी गई: इसके शब्द इस सार्वजनिक पृष्ठ पर नहीं दिखाए जाते।",
        "answer": "कार्यालय का उत्तर",
        "no_answer": "कार्यालय ने अभी उत्तर नहीं दिया है।",
        "not_found": "{ref} नंबर की कोई शिकायत नहीं मिली। आपको दिया गया संदर्भ नंबर जाँचें।",
        "filed": "आपकी शिकायत दर्ज हो गई है। इसकी स्थिति जानने के लिए यह संदर्भ नंबर रखें: {ref}।",
        "file_another": "एक और शिकायत दर्ज करें",
        "not_set": "अभी तय नहीं",
    },
    "mr": {
        "form_title": "तक्रार नोंदवा",
        "form_intro": "योग्य कार्यालयाला काय घडले ते सांगा. तुमचे नाव आणि संपर्क तपशील कधीही "
        "सार्वजनिक केले जात नाहीत.",
        "language": "भाषा",
        "choose": "— निवडा —",
        "agency_hint": "खात्री नाही? हे रिकामे ठेवा, आणि तक्रारीत विभागाचे X हँडल किंवा हॅशटॅग लिहा.",
        "description": "काय घडले?",
        "description_hint": "काय, कुठे आणि केव्हा घडले ते सांगा. ट्रेन क्रमांक, PNR, वाहन "
        "क्रमांक, स्टेशन किंवा ठिकाण दिल्यास आम्ही ती योग्य कार्यालयाकडे पाठवू शकतो.",
        "where": "कुठे?",
        "pin": "पिन कोड",
        "name": "तुमचे नाव",
        "email": "ई-मेल",
        "optional": "(ऐच्छिक)",
        "never_public": "(ऐच्छिक, कधीही सार्वजनिक केले जात नाही)",
        "submit": "पाठवा",
        "too_short": "कृपया समस्या आणखी काही शब्दांत सांगा (किमान {words} शब्द आणि {chars} "
        "अक्षरे), म्हणजे कार्यालय त्यावर कारवाई करू शकेल.",
        "no_description": "कृपया काय घडले ते सांगा.",
        "need_agency": "कृपया तुमची तक्रार कोणत्या विभागासाठी आहे ते निवडा: तुम्ही जे लिहिले "
        "त्यावरून आम्हाला ते समजले नाही.",
        "need_category": "कृपया तुमची तक्रार कशाबद्दल आहे ते निवडा.",
        "other_category": "इतर काही",
        "expired": "फॉर्मची वेळ संपली. कृपया तो पुन्हा पाठवा.",
        "not_opened": "तुमचा संदेश मिळाला, पण तो तक्रार म्हणून नोंदवला गेला नाही.",
        "not_sent": "पाठवले नाही: {problem}.",
        "status_title": "तक्रार {ref}",
        "status": "स्थिती",
        "office": "कार्यालय",
        "category": "प्रकार",
        "received": "मिळाली",
        "expected": "अपेक्षित वेळ",
        "complaint": "तक्रार",
        "private_words": "खाजगीरीत्या पाठवली: तिचा मजकूर या सार्वजनिक पानावर दाखवला जात नाही.",
        "answer": "कार्यालयाचे उत्तर",
        "no_answer": "कार्यालयाने अद्याप उत्तर दिलेले नाही.",
        "not_found": "{ref} क्रमांकाची तक्रार सापडली नाही. तुम्हाला दिलेला संदर्भ क्रमांक तपासा.",
        "filed": "तुमची तक्रार नोंदवली गेली आहे. तिचा पाठपुरावा करण्यासाठी हा संदर्भ क्रमांक जपून ठेवा: {ref}.",
        "file_another": "आणखी एक तक्रार नोंदवा",
        "not_set": "अद्याप ठरलेले नाही",
    },
    "ta": {
        "form_title": "புகார் பதிவு செய்யுங்கள்",
        "form_intro": "என்ன நடந்தது என்பதைச் சரியான அலுவலகத்திற்குத் தெரிவியுங்கள். உங்கள் "
        "பெயரும் தொடர்பு விவரங்களும் ஒருபோதும் பொதுவில் காட்டப்படாது.",
        "language": "மொழி",
        "choose": "— தேர்ந்தெடுக்கவும் —",
        "agency_hint": "உறுதியாகத் தெரியவில்லையா? இதை விட்டுவிட்டு, புகாரில் துறையின் X "
        "ஹேண்டில் அல்லது ஹேஷ்டேக்கைக் குறிப்பிடுங்கள்.",
        "description": "என்ன நடந்தது?",
        "description_hint": "என்ன, எங்கே, எப்போது நடந்தது என்று சொல்லுங்கள். ரயில் எண், PNR, "
        "வாகன எண், நிலையம் அல்லது இடம் குறிப்பிட்டால் சரியான அலுவலகத்திற்கு அனுப்ப உதவும்.",
        "where": "எங்கே?",
        "pin": "பின் கோடு",
        "name": "உங்கள் பெயர்",
        "email": "மின்னஞ்சல்",
        "optional": "(விருப்பத்தேர்வு)",
        "never_public": "(விருப்பத்தேர்வு, பொதுவில் ஒருபோதும் காட்டப்படாது)",
        "submit": "சமர்ப்பிக்கவும்",
        "too_short": "அலுவலகம் நடவடிக்கை எடுக்க, பிரச்சினையை இன்னும் சில சொற்களில் "
        "விவரிக்கவும் (குறைந்தது {words} சொற்கள், {chars} எழுத்துகள்).",
        "no_description": "என்ன நடந்தது என்பதை விவரிக்கவும்.",
        "need_agency": "உங்கள் புகார் எந்தத் துறைக்கானது என்பதைத் தேர்ந்தெடுக்கவும்: நீங்கள் "
        "எழுதியதிலிருந்து எங்களால் அதை அறிய முடியவில்லை.",
        "need_category": "உங்கள் புகார் எதைப் பற்றியது என்பதைத் தேர்ந்தெடுக்கவும்.",
        "other_category": "வேறு ஏதாவது",
        "expired": "படிவத்தின் நேரம் முடிந்துவிட்டது. மீண்டும் சமர்ப்பிக்கவும்.",
        "not_opened": "உங்கள் செய்தி பெறப்பட்டது, ஆனால் புகாராகப் பதிவு செய்யப்படவில்லை.",
        "not_sent": "அனுப்பப்படவில்லை: {problem}.",
        "status_title": "புகார் {ref}",
        "status": "நிலை",
        "office": "அலுவலகம்",
        "category": "வகை",
        "received": "பெறப்பட்டது",
        "expected": "எதிர்பார்க்கப்படும் நேரம்",
        "complaint": "புகார்",
        "private_words": "தனிப்பட்ட முறையில் அனுப்பப்பட்டது: அதன் சொற்கள் இந்தப் பொதுப் பக்கத்தில் காட்டப்படாது.",
        "answer": "அலுவலகத்தின் பதில்",
        "no_answer": "அலுவலகம் இன்னும் பதிலளிக்கவில்லை.",
        "not_found": "{ref} என்ற புகார் எதுவும் இல்லை. உங்களுக்குக் கொடுக்கப்பட்ட குறிப்பு எண்ணைச் சரிபார்க்கவும்.",
        "filed": "உங்கள் புகார் பதிவு செய்யப்பட்டது. அதைப் பின்தொடர இந்தக் குறிப்பு எண்ணை "
        "வைத்துக்கொள்ளுங்கள்: {ref}.",
        "file_another": "மற்றொரு புகாரைப் பதிவு செய்யுங்கள்",
        "not_set": "இன்னும் முடிவாகவில்லை",
    },
}


@lru_cache(maxsize=1)
def _bot() -> Catalogues:
    return Catalogues.load()


def accepted(header: str) -> str | None:
    """The best of LANGUAGES that an Accept-Language header asks for (q-values honoured)."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and q > 0:
            ranked.append((-q, i, primary))
    return min(ranked)[2] if ranked else None


def citizen_language(request: Request) -> str:
    """?lang= first (the switcher), then the cookie it set, then Accept-Language."""
    for chosen in (request.query_params.get("lang"), request.cookies.get(COOKIE)):
        if chosen in LANGUAGES:
            return str(chosen)
    return accepted(request.headers.get("accept-language", "")) or "en"


def citizen_translator(lang: str) -> Callable[..., str]:
    strings = STRINGS.get(lang, STRINGS["en"])

    def t(key: str, **params: Any) -> str:
        text = strings.get(key) or STRINGS["en"][key]
        return text.format(**params) if params else text

    return t


def category_name(lang: str, code: str | None) -> str:
    """A category as the bot names it to citizens (the code, spaced, if it has no name)."""
    if not code:
        return citizen_translator(lang)("not_set")
    key = f"cat_{code}"
    return _bot().text(lang, key) if _bot().has(key) else code.replace("_", " ").capitalize()


def status_name(lang: str, status: str) -> str:
    key = f"status_{status}"
    return _bot().text(lang, key) if _bot().has(key) else status.replace("_", " ")


def bot_text(lang: str, key: str) -> str:
    return _bot().text(lang, key)
