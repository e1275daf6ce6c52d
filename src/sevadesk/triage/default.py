"""The triager the pipeline and `seva triage` use unless told otherwise: the shipped model."""

from __future__ import annotations

from sevadesk.triage.base import Triager
from sevadesk.triage.model_triager import ModelTriager
from sevadesk.triage.rules import TriageConfig


def default_triager(config: TriageConfig | None = None) -> Triager:
    return ModelTriager(config=config)
