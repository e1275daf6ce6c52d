"""The interface every triage model implements, so the pipeline never depends on one model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sevadesk.domain.messages import TriageResult

KINDS = ("grievance", "query", "sos", "feedback", "noise", "spam")
URGENCIES = ("sos", "high", "normal", "low")
ACTIONABLE_KINDS = frozenset({"grievance", "query", "sos"})


class Triager(Protocol):
    """Turns a batch of texts into one TriageResult per text, in order."""

    version: str

    def triage_batch(
        self, texts: Sequence[str], addressed: Sequence[bool] | None = None
    ) -> list[TriageResult]:
        """`addressed[i]` marks a text sent to the agency directly (a WhatsApp message, a
        DM, a form), which a public post shows by mentioning the agency's handle."""
        ...
