"""Hide personal data from anything shown publicly or exported.

Aadhaar, mobile numbers, e-mail addresses, FIR numbers and identity documents (PAN, voter
ID, passport and passport file numbers, driving licences) are masked, in whatever digits and
with whatever separators they were written; PNR, train numbers and PIN codes stay, because
routing and the citizen's own tracking need them.
"""

from __future__ import annotations

from sevadesk.domain.messages import Entity

# Each kind with its mask and, for a refusal, its name in plain words.
_KINDS = {
    "aadhaar": ("[aadhaar]", "an Aadhaar number"),
    "mobile": ("[phone]", "a mobile number"),
    "email": ("[email]", "an e-mail address"),
    "fir": ("[fir]", "an FIR number"),
    "pan": ("[pan]", "a PAN"),
    "voter_id": ("[voter id]", "a voter ID (EPIC) number"),
    "passport": ("[passport]", "a passport or passport file number"),
    "driving_licence": ("[licence]", "a driving licence number"),
}
PERSONAL = frozenset(_KINDS)


def described(kind: str) -> str:
    """A personal kind in plain words ("a mobile number")."""
    return _KINDS[kind][1]


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
        pieces.append(_KINDS[ent.kind][0])
        cursor = ent.end
    pieces.append(text[cursor:])
    return "".join(pieces)
