"""Training and the running triager build a post's features by two paths (the triager reuses
the lexicon pass it needs anyway); a difference would silently change what the model sees."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sevadesk.triage.model_triager import ModelTriager
from sevadesk.triage.training import featurize

TRIAGER = ModelTriager()
WORDS = [
    "@RailMinIndia",
    "#UPPolice",
    "not",
    "working",
    "broken",
    "water",
    "ट्रेन",
    "खराब",
    "पानी",
    "chori",
    "ho",
    "gaya",
    "please",
    "PNR",
    "4512345678",
    "12951",
    "late",
    "!",
    "?",
    "thanks",
    "refund",
    "not received",
    "http://t.co/x",
    "escalator",
    "stopped",
]


# No deadline: the first example loads the place gazetteer (half a second) when this file runs
# on its own.
@settings(deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=14).map(" ".join))
def test_the_triager_sees_the_features_training_saw(text: str) -> None:
    assert TRIAGER.prepare(text).features == featurize([text])[0]


def test_problem_and_category_cues_are_features() -> None:
    (feats,) = featurize(["@RailMinIndia escalator stopped again, please repair"])
    assert "S:problem=True" in feats and "S:problem+addressed=True" in feats
    (feats,) = featurize(["Vande Bharat trial run completed today"])
    assert "S:problem=False" in feats and "S:category=False" in feats


def test_a_link_is_not_a_feature() -> None:
    # Scraped training posts carry news sites' addresses, live X posts t.co links to photos.
    with_link, without = featurize(
        ["@RailMinIndia coach B4 is dirty https://t.co/abc", "@RailMinIndia coach B4 is dirty"]
    )
    assert with_link == without


def test_hindi_polite_and_passive_imperatives_are_requests() -> None:
    """Petitions in Hindi ask without "please": "ठहराव दिया जाए", "कार्रवाई करें"."""
    (halt, action, romanised, statement) = featurize(
        [
            "फ़िरोज़ाबाद स्टेशन पर ठहराव दिया जाए",
            "@Uppolice कृपा करके कार्रवाई करें",
            "@RailMinIndia coach saaf karwa dijiye",
            "फ़िरोज़ाबाद स्टेशन पर ठहराव हट गया",
        ]
    )
    assert "S:request=True" in halt and "S:request=True" in action
    assert "S:request=True" in romanised
    assert "S:request=False" in statement
