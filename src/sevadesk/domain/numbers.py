"""Numbers that arrive as text from the wire (ids, timestamps, headers)."""

from __future__ import annotations

from typing import TypeGuard


def ascii_digits(value: object) -> TypeGuard[str]:
    """A non-empty string of ASCII digits. `str.isdigit` alone also accepts "²" and other
    Unicode digits, which `int` refuses or reads as something else."""
    return isinstance(value, str) and value.isascii() and value.isdigit()
