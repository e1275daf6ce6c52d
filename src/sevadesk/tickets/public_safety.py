"""What must never appear in a public post: the check every public reply passes first."""

from __future__ import annotations

from sevadesk.triage.entities import extract
from sevadesk.triage.masking import PERSONAL, described

# Channels whose replies anyone can read. WhatsApp and DMs reach only the citizen.
PUBLIC_CHANNELS = frozenset({"x"})


def public_reply_problems(body: str) -> list[str]:
    """Why `body` may not be posted publicly (empty when it may): each personal datum found,
    named with where it is, so the agent can move it to a private message. The same finder
    as masking: whatever a public page would hide, a public reply may not say."""
    problems = []
    for entity in extract(body):
        if entity.kind in PERSONAL:
            problems.append(
                f"{described(entity.kind)} at characters {entity.start}-{entity.end}"
                f' ("{body[entity.start : entity.end]}")'
            )
    return problems
