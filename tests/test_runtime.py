"""Process-wide settings: the collector pause that batch triage runs under."""

from __future__ import annotations

import gc

import pytest

from sevadesk.runtime import collector_paused


def test_the_collector_is_paused_inside_and_running_again_after_even_on_error() -> None:
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block leaves the outer block's pause alone
        raise ValueError
    assert gc.isenabled()


def test_a_collector_stopped_before_the_block_stays_stopped() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
