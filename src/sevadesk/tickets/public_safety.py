"""What must never appear in a public post: the check every public reply passes first."""

from __future__ import annotations

from sevadesk.triage.entities import extract

# Channels whose replies anyone can read. WhatsApp and DMs reach only the citizen.
PUBLIC_CHANNELS = frozenset({"x"})

_BLOCKED = {
    "mobile": "a mobile number",
    "aadhaar": "an Aadhaar number",
    "email": "an e-mail address",
    "fir": "an FIR number",
}


def public_reply_problems(body: str) -> list[str]:
    """Why `body` may not be posted publicly (empty when it may): each personal datum found,
    named with where it is, so the agent can move it to a private message."""
    problems = []
    for entity in extract(body):
        what = _BLOCKED.get(entity.kind)
        if what:
            problems.append(f"{what} at characters {entity.start}-{entity.end}")
    return problems
