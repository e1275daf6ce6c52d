"""LexiconIndex answers in one pass what each lexicon answers on its own."""

from __future__ import annotations

from unittest.mock import patch

from hypothesis import given
from hypothesis import strategies as st

from sevadesk.triage import text
from sevadesk.triage.text import Lexicon, LexiconIndex, tokens

LEXICONS = {
    "sos": ["help me", "send police", "theft", "harass*", "पुलिस भेज*"],
    "official": ["matter forwarded", "kindly share your", "your complaint has been registered"],
    "quota": ["emergency quota", "emergency"],
    "water": ["no water", "paani", "पानी नहीं"],
    "empty": ["!!! ???"],  # no word in it: matches nothing, breaks nothing
}
OTHERS = ["harassment", "please", "coach", "share", "your", "pnr"]
WORDS = [*sorted({w for entries in LEXICONS.values() for e in entries for w in tokens(e)}), *OTHERS]
INDEX = LexiconIndex(LEXICONS)


@given(st.lists(st.sampled_from(WORDS), max_size=12))
def test_the_index_finds_what_each_lexicon_finds(toks: list[str]) -> None:
    joined = " " + " ".join(toks) + " "
    alone = {
        label for label, entries in LEXICONS.items() if Lexicon.of(entries).matches(toks, joined)
    }
    assert INDEX.hits(toks, joined) == alone


def test_a_phrase_needs_its_words_in_order() -> None:
    toks = tokens("please share your PNR, matter was forwarded")
    assert INDEX.hits(toks, " " + " ".join(toks) + " ") == set()
    toks = tokens("Matter forwarded to @drmljn")
    assert INDEX.hits(toks, " " + " ".join(toks) + " ") == {"official"}


@given(st.lists(st.lists(st.sampled_from(WORDS), max_size=8), max_size=6))
def test_the_index_answers_the_same_when_its_memory_of_tokens_fills_up(
    messages: list[list[str]],
) -> None:
    """What the index remembers of each token is cleared when full; answers stay the same."""
    with patch.object(text, "_MEMO_SIZE", 2):
        forgetful = LexiconIndex(LEXICONS)
        for toks in messages:
            joined = " " + " ".join(toks) + " "
            assert forgetful.hits(toks, joined) == LexiconIndex(LEXICONS).hits(toks, joined)
            assert len(forgetful._memo) <= 2
