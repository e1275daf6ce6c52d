"""The organisation's routing rules: ordered conditions on a post, actions on its ticket.

Every matching rule applies its actions in order; the first rule that names a unit decides
the route (before jurisdiction), and `ignore` keeps the post from opening a ticket at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sevadesk.domain.messages import InboundMessage, TriageResult
from sevadesk.triage.places import Location
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

    def matches(self, facts: Facts) -> bool:
        if any(facts.get(key).isdisjoint(wanted) for key, wanted in self.when.items()):
            return False
        return self.keywords is None or self.keywords.matches(facts.tokens, facts.joined)


class Facts:
    """What rules can test about one post, computed once per post and only as asked."""

    def __init__(self, msg: InboundMessage, triage: TriageResult, location: Location) -> None:
        self.msg, self.triage, self.location = msg, triage, location
        self._cache: dict[str, set[str]] = {}
        self._tokens: list[str] | None = None

    def get(self, key: str) -> set[str]:
        if key not in self._cache:
            self._cache[key] = self._compute(key)
        return self._cache[key]

    def _compute(self, key: str) -> set[str]:
        msg, triage, location = self.msg, self.triage, self.location
        match key:
            case "channels":
                return {msg.channel}
            case "handles":
                return {h.lower() for h in msg.mentions}
            case "hashtags":
                return {h.lower() for h in msg.hashtags}
            case "languages":
                return {triage.language.lower()}
            case "kinds":
                return {triage.kind}
            case "categories":
                return {triage.category or ""}
            case "urgencies":
                return {triage.urgency}
            case "entities":
                return {e.kind for e in triage.entities}
            case "districts":
                return {d.lower() for d in location.districts}
            case "stations":
                return {s.lower() for s in location.stations}
            case "zones":
                return {z.lower() for z in location.zones}
        raise KeyError(key)

    @property
    def tokens(self) -> list[str]:
        if self._tokens is None:
            self._tokens = tokens(self.msg.text)
        return self._tokens

    @property
    def joined(self) -> str:
        return " " + " ".join(self.tokens) + " "
