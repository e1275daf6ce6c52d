"""Send each message to a unit: jurisdiction first, then the handle or hashtag it addressed.

A post to @Uppolice that names PIN 226001 belongs to the Lucknow unit under UP Police; the
same post without a place goes to the unit that owns @Uppolice (the control room) for manual
triage; a post that addresses nobody we know goes to the default unit. Jurisdiction matches
are only taken inside the organisation the citizen addressed, so a railway complaint that
mentions a PIN code does not land at a police station.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from sevadesk.domain.messages import InboundMessage, RouteDecision, TriageResult
from sevadesk.domain.units import UnitRef, depth, in_subtree
from sevadesk.store import tables as t
from sevadesk.triage.text import tokens


class NoDefaultUnit(RuntimeError):
    """No organisation is loaded, so there is nowhere to send a ticket."""


@dataclass
class Router:
    units: dict[int, UnitRef]
    handles: dict[str, int]
    hashtags: dict[str, int]
    jurisdiction: dict[tuple[str, str], list[int]]
    default_unit_id: int | None
    # District names by their first token, so a post is matched with a few dict lookups.
    _districts: dict[str, list[tuple[str, ...]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        by_code = {u.code: u for u in self.units.values()}
        # An organisation is the subtree under the shallowest unit sharing a ticket prefix
        # (Railways = RLY…, UP Police = UPP…), whatever deployment root sits above it.
        self._org_root: dict[int, str] = {}
        for unit in self.units.values():
            ancestors = [by_code[c] for c in unit.path.strip("/").split("/")]
            root = next(a for a in ancestors if a.ticket_prefix == unit.ticket_prefix)
            self._org_root[unit.id] = root.path
        for kind, value in self.jurisdiction:
            if kind == "district" and (words := tuple(tokens(value))):
                self._districts.setdefault(words[0], []).append(words)
        for candidates in self._districts.values():
            candidates.sort(key=len, reverse=True)  # "kanpur dehat" before "kanpur"

    @classmethod
    def load(cls, conn: Connection) -> Router:
        units = {
            r.id: UnitRef(r.id, r.code, r.path, r.ticket_prefix)
            for r in conn.execute(
                select(t.units.c.id, t.units.c.code, t.units.c.path, t.units.c.ticket_prefix)
            )
        }
        default = conn.execute(select(t.units.c.id).where(t.units.c.is_default.is_(True))).scalar()
        if default is None and units:
            # Without an explicit default, the first top-level unit takes unmatched posts.
            default = min((u.id for u in units.values() if depth(u.path) == 1), default=None)
        jurisdiction: dict[tuple[str, str], list[int]] = {}
        for r in conn.execute(select(t.unit_jurisdictions)):
            jurisdiction.setdefault((r.kind, r.value), []).append(r.unit_id)
        return cls(
            units=units,
            handles={r.handle: r.unit_id for r in conn.execute(select(t.unit_handles))},
            hashtags={r.hashtag: r.unit_id for r in conn.execute(select(t.unit_hashtags))},
            jurisdiction=jurisdiction,
            default_unit_id=default,
        )

    @property
    def agency_handles(self) -> frozenset[str]:
        return frozenset(self.handles)

    def _deepest(self, ids: Iterable[int]) -> int | None:
        best: int | None = None
        for uid in ids:
            if best is None or depth(self.units[uid].path) > depth(self.units[best].path):
                best = uid
        return best

    def _places(
        self, msg: InboundMessage, triage: TriageResult
    ) -> list[tuple[str, str, list[int]]]:
        found: list[tuple[str, str, list[int]]] = []
        for pin in triage.entity_values("pin"):
            if units := self.jurisdiction.get(("pin", pin)):
                found.append(("PIN", pin, units))
        if self._districts:
            toks = tokens(msg.text)
            for i, tok in enumerate(toks):
                for words in self._districts.get(tok, ()):
                    if tuple(toks[i : i + len(words)]) == words:
                        name = " ".join(words)
                        found.append(("district", name, self.jurisdiction[("district", name)]))
                        break
        for token in set(re.findall(r"(?<![A-Za-z])[A-Z]{2,5}(?![A-Za-z])", msg.text)):
            if units := self.jurisdiction.get(("station", token)):
                found.append(("station", token, units))
        return found

    def route(self, msg: InboundMessage, triage: TriageResult) -> tuple[UnitRef, RouteDecision]:
        addressed: list[tuple[str, int]] = [
            (f"@{h}", self.handles[h.lower()]) for h in msg.mentions if h.lower() in self.handles
        ]
        addressed += [
            (f"#{h}", self.hashtags[h.lower()]) for h in msg.hashtags if h.lower() in self.hashtags
        ]
        roots = {self._org_root[uid] for _, uid in addressed}
        for kind, value, unit_ids in self._places(msg, triage):
            inside = [
                u
                for u in unit_ids
                if not roots or any(in_subtree(self.units[u].path, r) for r in roots)
            ]
            if inside:
                unit = self.units[self._deepest(inside)]  # type: ignore[index]
                return unit, RouteDecision(
                    unit.code, "jurisdiction", f"{kind} {value} → {unit.code}"
                )
        if addressed:
            best = self._deepest(uid for _, uid in addressed)
            label = next(label for label, uid in addressed if uid == best)
            unit = self.units[best]  # type: ignore[index]
            reason = "handle" if label.startswith("@") else "hashtag"
            return unit, RouteDecision(unit.code, reason, f"{label} → {unit.code}")
        if self.default_unit_id is None:
            raise NoDefaultUnit("no organisation loaded: run `seva org load FILE.yaml` first")
        unit = self.units[self.default_unit_id]
        return unit, RouteDecision(
            unit.code, "default", f"no handle, hashtag or place matched → {unit.code}"
        )
