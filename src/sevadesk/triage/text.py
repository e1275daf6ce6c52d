"""Tokens and keyword lexicons that work for English, romanised Hindi and Indic scripts.

Python's `\\w` does not cover Indic vowel signs (matras), so `\\w+` would cut "मोबाइल" into
pieces; the token class below adds the Indic and Arabic-script blocks whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# The characters of a word: a token is a run of them (see `tokens`).
WORD_CHARS = r"\w\u0600-\u06FF\u0900-\u0DFF"
_TOKEN = re.compile(f"[{WORD_CHARS}]+")
# Not sevadesk.domain.post_text on purpose: the shipped model was trained on these tokens;
# reading links and tags by twitter-text here changes its input and wants `seva train`.
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
                if words_of := tokens(entry):
                    phrases.append(" " + " ".join(words_of) + " ")
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


# Distinct tokens whose lexicon hits an index remembers: words follow Zipf's law, so most of a
# post's tokens were seen in earlier posts. 100,000 entries take about 10 MB.
_MEMO_SIZE = 100_000
_NOTHING: tuple[frozenset[str], tuple[tuple[str, str], ...]] = (frozenset(), ())


class LexiconIndex:
    """Many labelled lexicons matched in one pass over a message's tokens.

    `hits(toks, joined)` returns the set of labels whose keywords occur: one dict lookup per
    distinct token (what a token matches is worked out once and remembered), plus a
    substring test for each phrase that starts with one of them.
    """

    def __init__(self, lexicons: dict[str, Iterable[str]]) -> None:
        self.words: dict[str, set[str]] = {}
        self.stems: dict[str, set[str]] = {}
        self.phrases: list[tuple[str, str]] = []
        for label, entries in lexicons.items():
            lex = Lexicon.of(entries)
            for word in lex.words:
                self.words.setdefault(word, set()).add(label)
            for stem in lex.stems:
                self.stems.setdefault(stem, set()).add(label)
            self.phrases.extend((phrase, label) for phrase in lex.phrases)
        # Stems grouped by their first two characters: one lookup rules out most tokens.
        self.stems_by_head: dict[str, list[tuple[str, set[str]]]] = {}
        for stem, labels in self.stems.items():
            self.stems_by_head.setdefault(stem[:2], []).append((stem, labels))
        # Phrases grouped by their first word: a phrase is looked for only in a message that
        # has that word, not in every message (most messages have none of them).
        self.phrases_by_head: dict[str, list[tuple[str, str]]] = {}
        for phrase, label in self.phrases:
            self.phrases_by_head.setdefault(phrase.split()[0], []).append((phrase, label))
        self._memo: dict[str, tuple[frozenset[str], tuple[tuple[str, str], ...]]] = {}

    def hits(self, toks: list[str], joined: str) -> set[str]:
        found: set[str] = set()
        memo = self._memo
        for tok in set(toks):
            known = memo.get(tok)
            if known is None:
                known = self._token_hits(tok)
                if len(memo) >= _MEMO_SIZE:
                    memo.clear()  # a flood of new words (spam, a long tail) starts it afresh
                memo[tok] = known
            labels, starting = known
            if labels:
                found |= labels
            if starting:
                for phrase, label in starting:
                    if label not in found and phrase in joined:
                        found.add(label)
        return found

    def _token_hits(self, tok: str) -> tuple[frozenset[str], tuple[tuple[str, str], ...]]:
        """What one token says on its own: the labels of the words and stems it matches, and
        the phrases that start with it (which depend on the words after it)."""
        labels = set(self.words.get(tok, ()))
        for stem, stem_labels in self.stems_by_head.get(tok[:2], ()):
            if tok.startswith(stem):
                labels |= stem_labels
        starting = self.phrases_by_head.get(tok)
        if not labels and not starting:
            return _NOTHING  # most tokens: one shared entry
        return frozenset(labels), tuple(starting or ())
