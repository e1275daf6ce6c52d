"""Posts that triage screens out: why each opened no ticket, and whose queue it waits in.

A citizen's post that is not actionable (noise, praise, spam, the agency's own words) or
that an organisation's rule ignores opens no ticket, but it is not dropped: it waits in the
Screened out queue of the unit routing names for it, where an officer can still make a
ticket of it (tickets/screened.py). Posts by the agency's own handles are not screened:
there is no citizen to answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sevadesk.domain.units import UnitRef
from sevadesk.pipeline.batch import Item
from sevadesk.triage.base import ACTIONABLE_KINDS
from sevadesk.triage.features import FIRST_PERSON_SINGULAR
from sevadesk.triage.model_triager import OFFICIAL_REPLY
from sevadesk.triage.rules import Rule
from sevadesk.triage.text import LexiconIndex, tokens

# Most specific first: what an officer reads as the reason the post waits here.
REASONS = ("rule", "agency", "spam", "praise", "noise")
OPEN = "open"


@cache
def _official_words() -> LexiconIndex:
    return LexiconIndex({"!official": OFFICIAL_REPLY})


def is_screened(item: Item) -> bool:
    """A citizen's post stored without a ticket: not actionable, or ignored by a rule."""
    if item.ticket_id is not None or item.from_agency or item.triage is None:
        return False
    return not item.triage.actionable or (item.route is not None and item.route.ignore)


def reason_of(item: Item, rules: Sequence[Rule] = ()) -> str:
    """rule (an organisation's routing or triage rule), agency (in an official's words, as a
    reply of the agency reads), spam, praise (feedback), or noise."""
    tr = item.triage
    assert tr is not None
    decision = item.route or item.candidate
    if decision is not None and decision.ignore:
        return "rule"
    text = item.msg.text
    toks = tokens(text) if rules or tr.kind == "noise" else []
    joined = " " + " ".join(toks) + " "
    if any(
        r.kind is not None and r.kind not in ACTIONABLE_KINDS and r.matches(text, toks, joined)
        for r in rules
    ):
        return "rule"
    if tr.kind == "noise" and not item.msg.addressed:
        hits = _official_words().hits(toks, joined)
        if "!official" in hits and FIRST_PERSON_SINGULAR.isdisjoint(toks):
            return "agency"
    if tr.kind == "spam":
        return "spam"
    if tr.kind == "feedback":
        return "praise"
    return "noise"


def unit_of(item: Item, units: dict[str, UnitRef], fallback: int | None) -> int | None:
    """The unit routing names for the post: its queue."""
    decision = item.route or item.candidate
    if decision is not None and decision.unit_code in units:
        return units[decision.unit_code].id
    return fallback


def screened_rows(
    items: Sequence[Item],
    units: dict[str, UnitRef],
    now: datetime,
    fallback: int | None,
    rules: Sequence[Rule] = (),
) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        if not is_screened(item):
            continue
        unit_id = unit_of(item, units, fallback)
        if unit_id is None:
            continue
        assert item.triage is not None
        rows.append(
            {
                "message_id": item.message_id,
                "unit_id": unit_id,
                "reason": reason_of(item, rules),
                "score": item.triage.score,
                "posted_at": item.msg.created_at,
                "screened_at": now,
                "status": OPEN,
                "ticket_id": None,
            }
        )
    return rows
