"""Send each message to a unit: jurisdiction first, then the handle or hashtag it addressed.

A post to @Uppolice that names PIN 226001 belongs to the Lucknow unit under UP Police; the
same post without a place goes to the unit that owns @Uppolice (the control room) for manual
triage; a post that addresses nobody we know goes to the default unit. Jurisdiction matches
are only taken inside the organisation the citizen addressed, so a railway complaint that
mentions a PIN code does not land at a police station. Where agents keep transferring one
category out of the unit so chosen to one other unit, the ticket goes there directly
(`routing/learned.py`); the organisation's routing rules come last and win.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from sqlalchemy import Connection, select

from sevadesk.domain.messages import InboundMessage, RouteDecision, TriageResult
from sevadesk.domain.units import UnitRef, depth, in_subtree
from sevadesk.routing.learned import LearnedRoute, learned_routes
from sevadesk.routing.rules import Facts, RoutingRule
from sevadesk.store import tables as t
from sevadesk.triage.places import Location, gazetteer
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
    rules: tuple[RoutingRule, ...] = ()
    learned: dict[tuple[int, str], LearnedRoute] = field(default_factory=dict)

    def __post_init__(self) -> None:
        by_code = {u.code: u for u in self.units.values()}
        # An organisation is the subtree under the shallowest unit sharing a ticket prefix
        # (Railways = RLY…, UP Police = UPP…), whatever deployment root sits above it.
        self._org_root: dict[int, str] = {}
        for unit in self.units.values():
            ancestors = [by_code[c] for c in unit.path.strip("/").split("/")]
            root = next(a for a in ancestors if a.ticket_prefix == unit.ticket_prefix)
            self._org_root[unit.id] = root.path

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
        stored = conn.execute(
            select(t.org_settings.c.value).where(t.org_settings.c.key == "routing_rules")
        ).scalar()
        return cls(
            rules=tuple(RoutingRule.from_spec(r) for r in stored or []),
            units=units,
            handles={r.handle: r.unit_id for r in conn.execute(select(t.unit_handles))},
            hashtags={r.hashtag: r.unit_id for r in conn.execute(select(t.unit_hashtags))},
            jurisdiction=jurisdiction,
            default_unit_id=default,
            learned=learned_routes(conn),
        )

    @property
    def agency_handles(self) -> frozenset[str]:
        return frozenset(self.handles)

    def unit_by_code(self, code: str) -> UnitRef | None:
        return next((u for u in self.units.values() if u.code == code), None)

    def addressed_units(self, mentions: Iterable[str], hashtags: Iterable[str]) -> list[UnitRef]:
        """The units whose handles or hashtags a text names (for the complaint form, which
        infers the agency from them)."""
        ids = [self.handles[h.lower()] for h in mentions if h.lower() in self.handles]
        ids += [self.hashtags[h.lower()] for h in hashtags if h.lower() in self.hashtags]
        return [self.units[i] for i in dict.fromkeys(ids)]

    def _deepest(self, ids: Iterable[int]) -> int | None:
        best: int | None = None
        for uid in ids:
            if best is None or depth(self.units[uid].path) > depth(self.units[best].path):
                best = uid
        return best

    def _places(self, location: Location) -> list[tuple[str, list[int]]]:
        """(evidence, units) for each place the post names, strongest evidence first."""
        found: list[tuple[str, list[int]]] = []
        j = self.jurisdiction
        for place in location.places:
            if (place.kind == "station" and (units := j.get(("station", place.value)))) or (
                place.kind == "pin" and (units := j.get(("pin", place.value)))
            ):
                found.append((place.evidence, units))
        for district in location.districts:
            if units := j.get(("district", " ".join(tokens(district)))):
                evidence = next(p.evidence for p in location.places if p.district == district)
                found.append((evidence, units))
        for place in location.places:
            if place.zone and (units := j.get(("zone", place.zone.upper()))):
                found.append((place.evidence, units))
        return found

    def route(self, msg: InboundMessage, triage: TriageResult) -> tuple[UnitRef, RouteDecision]:
        location = gazetteer().resolve(msg.text, triage.entities)
        unit, decision = self._where(msg, location)
        learnt = self.learned.get((unit.id, triage.category or ""))
        if learnt is not None:  # its unit was loaded with it (transfer_offers → units)
            to = self.units[learnt.to_unit_id]
            decision = RouteDecision(
                to.code,
                "learned",
                f"{decision.detail}; {learnt.accepted} of {learnt.decided} {triage.category}"
                f" tickets transferred from {unit.code} went to {to.code}",
            )
            unit = to
        if location.stations:
            decision = replace(decision, station=location.stations[0])
        if not self.rules:
            return unit, decision
        facts = Facts(msg, triage, location)
        matched = [r for r in self.rules if r.matches(facts)]
        if not matched:
            return unit, decision
        by_code = {u.code: u for u in self.units.values()}
        target = next((r for r in matched if r.route_to), None)
        if target is not None:
            unit = by_code[target.route_to]  # type: ignore[index]
            decision = RouteDecision(
                unit.code, "rule", f"rule {target.id} → {unit.code}", station=decision.station
            )
        priority = next((r.priority for r in matched if r.priority), None)
        labels = tuple(dict.fromkeys(label for r in matched for label in r.labels))
        acknowledge = next((r.acknowledge for r in matched if r.acknowledge), None)
        return unit, replace(
            decision,
            priority=priority,
            labels=labels,
            acknowledge=acknowledge,
            ignore=any(r.ignore for r in matched),
            rules=tuple(r.id for r in matched),
        )

    def _where(self, msg: InboundMessage, location: Location) -> tuple[UnitRef, RouteDecision]:
        addressed: list[tuple[str, int]] = [
            (f"@{h}", self.handles[h.lower()]) for h in msg.mentions if h.lower() in self.handles
        ]
        addressed += [
            (f"#{h}", self.hashtags[h.lower()]) for h in msg.hashtags if h.lower() in self.hashtags
        ]
        chosen = self.unit_by_code(msg.agency) if msg.agency else None
        if chosen is not None:
            # The agency the citizen chose on the form wins over any handle in the text.
            addressed = [(f"chosen {chosen.code}", chosen.id)]
        roots = {self._org_root[uid] for _, uid in addressed}
        for evidence, unit_ids in self._places(location):
            inside = [
                u
                for u in unit_ids
                if not roots or any(in_subtree(self.units[u].path, r) for r in roots)
            ]
            if inside:
                unit = self.units[self._deepest(inside)]  # type: ignore[index]
                return unit, RouteDecision(unit.code, "jurisdiction", f"{evidence} → {unit.code}")
        if addressed:
            best = self._deepest(uid for _, uid in addressed)
            label = next(label for label, uid in addressed if uid == best)
            unit = self.units[best]  # type: ignore[index]
            reason = {"@": "handle", "#": "hashtag"}.get(label[0], "chosen")
            return unit, RouteDecision(unit.code, reason, f"{label} → {unit.code}")
        if self.default_unit_id is None:
            raise NoDefaultUnit("no organisation loaded: run `seva org load FILE.yaml` first")
        unit = self.units[self.default_unit_id]
        return unit, RouteDecision(
            unit.code, "default", f"no handle, hashtag or place matched → {unit.code}"
        )
