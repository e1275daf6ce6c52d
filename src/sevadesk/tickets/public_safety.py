"""What must never appear in a public post: the check every public reply passes first."""

from __future__ import annotations

from dataclasses import dataclass

from sevadesk.triage.entities import extract
from sevadesk.triage.masking import PERSONAL, described

# Channels whose replies anyone can read. WhatsApp and DMs reach only the citizen.
PUBLIC_CHANNELS = frozenset({"x"})


@dataclass(frozen=True, slots=True)
class PersonalDatum:
    """One piece of personal data found in a public reply, and where."""

    kind: str  # the entity kind ("phone", "aadhaar", ...)
    what: str  # in plain words ("a mobile number")
    text: str  # as written in the reply
    start: int
    end: int


def public_reply_findings(body: str) -> list[PersonalDatum]:
    """Each personal datum in `body` that a public page would hide: the same finder as
    masking, so whatever a public page would hide, a public reply may not say."""
    return [
        PersonalDatum(e.kind, described(e.kind), body[e.start : e.end], e.start, e.end)
        for e in extract(body)
        if e.kind in PERSONAL
    ]


def public_reply_problems(body: str) -> list[str]:
    """Why `body` may not be posted publicly (empty when it may): each personal datum found,
    named with where it is, so the agent can move it to a private message."""
    return [
        f'{d.what} at characters {d.start}-{d.end} ("{d.text}")'
        for d in public_reply_findings(body)
    ]
