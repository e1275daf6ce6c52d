"""The triager the pipeline uses unless told otherwise."""

from __future__ import annotations

from sevadesk.triage.base import Triager
from sevadesk.triage.baseline import BaselineTriager


def default_triager() -> Triager:
    return BaselineTriager()
