"""Numbers from the wire are ASCII digits, not whatever str.isdigit accepts."""

from __future__ import annotations

import pytest

from sevadesk.domain.numbers import ascii_digits


@pytest.mark.parametrize("value", ["0", "1726451234", "000123"])
def test_ascii_digits_are_accepted(value: str) -> None:
    assert ascii_digits(value)


@pytest.mark.parametrize("value", ["", "²", "12²", "１２", "١٢", "-1", "1.5", " 1", 12, None])
def test_other_digits_and_non_strings_are_refused(value: object) -> None:
    assert not ascii_digits(value)
