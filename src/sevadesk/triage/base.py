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


def triage_each(
    triager: Triager, texts: Sequence[str], addressed: Sequence[bool] | None = None
) -> list[TriageResult | Exception]:
    """The batch's results; when the batch raises (a bug that one post sets off), each post
    alone, so that post's error is its own and the rest of the batch is triaged."""
    try:
        return list(triager.triage_batch(texts, addressed))
    except Exception:
        out: list[TriageResult | Exception] = []
        for i, text in enumerate(texts):
            try:
                out += triager.triage_batch([text], None if addressed is None else [addressed[i]])
            except Exception as exc:
                out.append(exc)
        return out


def unread(version: str) -> TriageResult:
    """The result for a post triage failed on: a grievance for a person to read (a post
    nobody triaged must not be filed as noise), with nothing of its text in public views
    (the personal-data masking did not run)."""
    return TriageResult(
        language="und",
        actionable=True,
        score=0.5,
        kind="grievance",
        category=None,
        urgency="normal",
        entities=[],
        masked_text="[not shown: triage failed on this post]",
        model_version=f"{version}+failed",
    )
