"""Tokens and keyword lexicons that work for English, romanised Hindi and Indic scripts.

Python's `\\w` does not cover Indic vowel signs (matras), so `\\w+` would cut "मोबाइल" into
pieces; the token class below adds the Indic and Arabic-script blocks whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_TOKEN = re.compile(r"[\w\u0600-\u06FF\u0900-\u0DFF]+")
_URL = re.compile(r"https?://\S+")


def tokens(text: str) -> list[str]:
    """Lower-case word tokens; URLs dropped, handles and hashtags kept as bare words."""
    return _TOKEN.findall(_URL.sub(" ", text.lower()))


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Keywords matched on tokens: `word`, `two words` (a phrase) or `stem*` (a prefix)."""

    words: frozenset[str]
    phrases: tuple[str, ...]
    stems: frozenset[str]
    stem_lengths: frozenset[int]

    @classmethod
    def of(cls, entries: Iterable[str]) -> Lexicon:
        words: set[str] = set()
        phrases: list[str] = []
        stems: list[str] = []
        for raw in entries:
            entry = raw.lower().strip()
            if entry.endswith("*"):
                stems.append(entry[:-1])
            elif " " in entry:
                phrases.append(" " + " ".join(tokens(entry)) + " ")
            else:
                words.add(entry)
        return cls(
            frozenset(words), tuple(phrases), frozenset(stems), frozenset(len(s) for s in stems)
        )

    def matches(self, toks: list[str], joined: str) -> bool:
        """`joined` is `" " + " ".join(toks) + " "`, built once per message by the caller."""
        if not self.words.isdisjoint(toks):
            return True
        if any(p in joined for p in self.phrases):
            return True
        if self.stems:
            for tok in toks:
                for n in self.stem_lengths:
                    if tok[:n] in self.stems:
                        return True
        return False

    def __len__(self) -> int:
        return len(self.words) + len(self.phrases) + len(self.stems)
