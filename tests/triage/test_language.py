"""Language of a post: scripts, and romanised Hindi that script detection calls English."""

from __future__ import annotations

import pytest

from sevadesk.triage.language import detect


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("@RailMinIndia coach B4 of 12951 has no water", "en"),
        ("train 12004 bahut late hai, koi sunta nahi", "hi-Latn"),
        ("bhai mera paisa wapas kab milega", "hi-Latn"),
        ("sir mai abhi 12919 me hu, vendor se rate pucha to usne double bola", "hi-Latn"),
        ("log a complaint: the app tab shows my ticket as waitlisted, main line trains late", "en"),
        ("ट्रेन में बहुत गंदगी है, कृपया सफाई करवाएं", "hi"),
        ("मला मदत हवी आहे, गाडी उशिरा आहे", "mr"),
        ("गाड़ी संख्या 14006 में एसी खराब है, यात्री परेशान हैं", "hi"),  # lingua alone: mr
        ("ரயிலில் தண்ணீர் இல்லை", "ta"),
        ("ট্রেনে জল নেই", "bn"),
        ("ٹرین میں پانی نہیں ہے", "ur"),
        ("12951 4512345678", "und"),
    ],
)
def test_detect(text: str, lang: str) -> None:
    assert detect(text) == lang


def test_a_hindi_post_with_english_handles_is_still_hindi() -> None:
    assert detect("@RailMinIndia @RailwaySeva ट्रेन संख्या 12555 में एसी खराब है") == "hi"
