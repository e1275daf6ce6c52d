"""What makes a complaint typed into the form worth an officer's time: enough words to act on.

A one-letter or one-word complaint ("theft", "help") cannot be routed or answered; the form
asks for a little more instead of opening a ticket no one can work."""

from __future__ import annotations

MIN_CHARACTERS = 15
MIN_WORDS = 3


def words(text: str) -> list[str]:
    """Words as a citizen counts them: runs between spaces holding a letter or a digit.
    (Not regex \\w: Tamil and Devanagari vowel signs are combining marks, which \\w splits.)"""
    return [w for w in text.split() if any(c.isalnum() for c in w)]


def too_short(text: str) -> bool:
    text = text.strip()
    return len(text) < MIN_CHARACTERS or len(words(text)) < MIN_WORDS
