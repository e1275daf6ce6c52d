"""Fold a text to the plain forms the number patterns read, one character for one.

Citizens write their numbers in whatever digits their keyboard gives: Devanagari
(`९८७६५४३२१०`), Bengali, Gujarati, full-width (`９８７６…`), with no-break or thin spaces and
typographic dashes between the groups. Every Unicode decimal digit (category Nd) becomes its
ASCII digit, full-width ASCII forms their ASCII letter, every space a plain space and every
dash a hyphen. Each character maps to exactly one character, so an offset in the folded
text is the same offset in the original: a match found in the folded text masks the
original characters.
"""

from __future__ import annotations

import unicodedata

# Dashes and minus signs a phone keyboard or a word processor puts between digit groups.
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63"


def _folded(code: int) -> int:
    char = chr(code)
    digit = unicodedata.decimal(char, None)
    if digit is not None:
        return ord("0") + digit
    if 0xFF01 <= code <= 0xFF5E:  # full-width ASCII ("＠", "Ａ"): Unicode puts them at +0xFEE0
        return code - 0xFEE0
    if char in _DASHES:
        return ord("-")
    if char.isspace() or unicodedata.category(char) == "Zs":
        return ord(" ") if char not in "\n\r\t" else code
    return code


class _Table(dict[int, int]):
    """str.translate's table, filled in as characters are met (the Unicode range is too
    large to walk at import: a third of a second)."""

    def __missing__(self, code: int) -> int:
        value = self[code] = _folded(code)
        return value


_TABLE = _Table()


def fold(text: str) -> str:
    """`text` with Unicode digits, full-width forms, spaces and dashes made ASCII; the same
    length as `text`, character for character."""
    if text.isascii():
        return text
    return text.translate(_TABLE)
