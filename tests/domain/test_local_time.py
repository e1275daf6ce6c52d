"""Times as an officer in India reads them: in IST, with the zone written beside them."""

from __future__ import annotations

from datetime import UTC, datetime

from sevadesk.domain.local_time import LONG, local_time


def test_a_utc_morning_time_shows_as_ist_with_the_zone_named() -> None:
    assert local_time(datetime(2026, 12, 7, 8, 30, tzinfo=UTC)) == "07 Dec 14:00 IST"


def test_the_date_moves_with_the_zone() -> None:
    late = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)  # 01:30 the next morning in India
    assert local_time(late, "Asia/Kolkata", LONG) == "08 Dec 2026 01:30 IST"


def test_a_naive_time_from_the_database_is_read_as_utc() -> None:
    assert local_time(datetime(2026, 12, 7, 8, 30)) == "07 Dec 14:00 IST"


def test_a_zone_without_letters_shows_its_offset() -> None:
    at = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)
    assert local_time(at, "Asia/Kathmandu") == "07 Dec 14:15 +05:45"
    assert local_time(at, "Asia/Dubai") == "07 Dec 12:30 +04:00"
    assert local_time(at, "UTC") == "07 Dec 08:30 UTC"


def test_no_time_is_an_empty_cell() -> None:
    assert local_time(None) == ""
