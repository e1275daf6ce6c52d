"""Hide personal data from anything shown publicly or exported.

Aadhaar, mobile numbers and e-mail addresses are masked; PNR, train numbers and PIN codes
stay, because routing and the citizen's own tracking need them.
"""

from __future__ import annotations

from sevadesk.domain.messages import Entity

PERSONAL = frozenset({"aadhaar", "mobile", "email"})
_LABEL = {"aadhaar": "[aadhaar]", "mobile": "[phone]", "email": "[email]"}


def mask(text: str, entities: list[Entity]) -> str:
    personal = [e for e in entities if e.kind in PERSONAL]
    if not personal:
        return text
    pieces: list[str] = []
    cursor = 0
    for ent in sorted(personal, key=lambda e: e.start):
        if ent.start < cursor:
            continue
        pieces.append(text[cursor : ent.start])
        pieces.append(_LABEL[ent.kind])
        cursor = ent.end
    pieces.append(text[cursor:])
    return "".join(pieces)
