"""The organisation's routing rules: ordered conditions on a post, actions on its ticket.

Every matching rule applies its actions in order; the first rule that names a unit decides
the route (before jurisdiction), and `ignore` keeps the post from opening a ticket at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sevadesk.domain.messages import InboundMessage, TriageResult
from sevadesk.routing.gazetteer import Location
from sevadesk.triage.text import Lexicon, tokens


def _norm(values: list[str]) -> frozenset[str]:
    return frozenset(v.strip().lstrip("@#").lower() for v in values)


@dataclass(frozen=True)
class RoutingRule:
    id: str
    when: dict[str, frozenset[str]]
    keywords: Lexicon | None
    route_to: str | None
    priority: str | None
    labels: tuple[str, ...]
    acknowledge: str | None
    ignore: bool

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> RoutingRule:
        when = {k: _norm(v) for k, v in spec["when"].items() if v and k != "keywords"}
        keywords = spec["when"].get("keywords")
        then = spec["then"]
        return cls(
            id=spec["id"],
            when=when,
            keywords=Lexicon.of(keywords) if keywords else None,
            route_to=then.get("route_to"),
            priority=then.get("priority"),
            labels=tuple(then.get("labels") or ()),
            acknowledge=then.get("acknowledge"),
            ignore=bool(then.get("ignore")),
        )

    def matches(self, msg: InboundMessage, triage: TriageResult, location: Location) -> bool:
        facts: dict[str, set[str]] = {
            "channels": {msg.channel},
            "handles": {h.lower() for h in msg.mentions},
            "hashtags": {h.lower() for h in msg.hashtags},
            "languages": {triage.language.lower()},
            "kinds": {triage.kind},
            "categories": {triage.category or ""},
            "urgencies": {triage.urgency},
            "entities": {e.kind for e in triage.entities},
            "districts": {d.lower() for d in location.districts},
            "stations": {s.lower() for s in location.stations},
            "zones": {z.lower() for z in location.zones},
        }
        if any(facts[key].isdisjoint(wanted) for key, wanted in self.when.items()):
            return False
        if self.keywords is not None:
            toks = tokens(msg.text)
            return self.keywords.matches(toks, " " + " ".join(toks) + " ")
        return True
