"""Reply templates: which ones suit a ticket (its language and channel) and how their
variables are filled. Plain functions over plain rows; the store loads the rows."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# What a template may say in braces, filled from the ticket when the officer inserts it.
VARIABLES: dict[str, str] = {
    "ref": "the ticket's reference (RLY-000123)",
    "office": "the name of the office holding the ticket",
    "citizen_name": "the citizen's name or handle as the channel gives it",
    "due": "when the ticket is due to be resolved, in the organisation's time zone",
}
CHANNELS = ("x", "whatsapp")
_BRACED = re.compile(r"\{([^{}]*)\}")


def unknown_variables(body: str) -> list[str]:
    """Braced names in `body` that are not template variables (a typo like {reff})."""
    return sorted({name for name in _BRACED.findall(body) if name not in VARIABLES})


def unfilled_variables(text: str) -> list[str]:
    """Template variables still braced in a reply about to be sent ("{citizen_name}")."""
    return sorted({f"{{{n}}}" for n in _BRACED.findall(text) if n in VARIABLES})


def fill(body: str, values: Mapping[str, str]) -> str:
    """`body` with each known variable replaced; an unknown or missing one is left as typed
    so the officer sees it before sending."""
    return _BRACED.sub(lambda m: values.get(m.group(1), m.group(0)), body)


@dataclass(frozen=True, slots=True)
class TemplateRow:
    code: str
    language: str | None  # None: any language
    channel: str | None  # None: any channel
    body: str
    unit_specific: bool = False


def reply_language(ticket_language: str | None) -> str:
    """The language a reply to the ticket is written in: romanised Hindi (hi-Latn) writers
    read the English text, as the auto-acknowledgement gives them; 'hi-IN' is Hindi."""
    if not ticket_language or ticket_language.endswith("-Latn"):
        return "en"
    return ticket_language.split("-")[0].lower()


def suitable(
    rows: Iterable[TemplateRow], ticket_language: str | None, channel: str
) -> list[TemplateRow]:
    """The templates an officer is offered for a ticket, one per code: for its channel or
    any channel, and in its language, else for any language, else in English (a code no one
    has translated yet is still offered, in English). Between equals the office's own beats
    a shared one and one for this channel beats one for any."""
    language = reply_language(ticket_language)
    lang_rank: dict[str | None, int] = {"en": 1, None: 2}
    lang_rank[language] = 3
    best: dict[str, tuple[tuple[int, bool, bool], TemplateRow]] = {}
    for row in rows:
        if row.channel not in (None, channel) or row.language not in lang_rank:
            continue
        rank = (lang_rank[row.language], row.unit_specific, row.channel is not None)
        if row.code not in best or rank > best[row.code][0]:
            best[row.code] = (rank, row)
    return [row for _, (_, row) in sorted(best.items())]
