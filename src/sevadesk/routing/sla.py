"""SLA policies as loaded from the database: which policy a ticket gets and its deadlines.

The most specific policy wins: the ticket's unit before its ancestors, and within a unit a
policy naming both category and urgency before one naming either before a catch-all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Connection, select

from sevadesk.domain.sla import AlwaysOpen, BusinessHours, Calendar, Policy, weekday_numbers
from sevadesk.store import tables as t


@dataclass(frozen=True)
class _Row:
    category: str | None
    urgency: str | None
    policy: Policy


def _calendar(spec: dict[str, object]) -> BusinessHours:
    opens, closes = str(spec["hours"]).split("-")
    return BusinessHours(
        opens=time.fromisoformat(opens),
        closes=time.fromisoformat(closes),
        days=weekday_numbers([str(d) for d in spec["days"]]),  # type: ignore[attr-defined]
        holidays=frozenset(date.fromisoformat(str(h)) for h in spec["holidays"]),  # type: ignore[attr-defined]
        timezone=str(spec["timezone"]),
    )


class SlaBook:
    def __init__(
        self,
        by_unit: dict[int, list[_Row]],
        parents: dict[int, int | None],
        calendars: dict[str, Calendar],
    ) -> None:
        self.by_unit = by_unit
        self.parents = parents
        self.calendars: dict[str, Calendar] = {"24x7": AlwaysOpen(), **calendars}
        self._memo: dict[tuple[int, str | None, str | None], Policy | None] = {}

    @classmethod
    def load(cls, conn: Connection) -> SlaBook:
        s = t.sla_policies.c
        by_unit: dict[int, list[_Row]] = {}
        for r in conn.execute(
            select(
                s.unit_id,
                s.category,
                s.urgency,
                s.first_response_minutes,
                s.resolution_minutes,
                s.calendar,
            )
        ):
            by_unit.setdefault(r.unit_id, []).append(
                _Row(
                    r.category,
                    r.urgency,
                    Policy(r.first_response_minutes, r.resolution_minutes, r.calendar),
                )
            )
        parents = {
            r.id: r.parent_id for r in conn.execute(select(t.units.c.id, t.units.c.parent_id))
        }
        stored = (
            conn.execute(
                select(t.org_settings.c.value).where(t.org_settings.c.key == "calendars")
            ).scalar()
            or {}
        )
        return cls(by_unit, parents, {name: _calendar(spec) for name, spec in stored.items()})

    def policy(self, unit_id: int, category: str | None, urgency: str | None) -> Policy | None:
        key = (unit_id, category, urgency)
        if key not in self._memo:
            self._memo[key] = self._find(unit_id, category, urgency)
        return self._memo[key]

    def _find(self, unit_id: int, category: str | None, urgency: str | None) -> Policy | None:
        unit: int | None = unit_id
        while unit is not None:
            rows = self.by_unit.get(unit, [])
            ranked = sorted(
                (
                    r
                    for r in rows
                    if r.category in (None, category) and r.urgency in (None, urgency)
                ),
                key=lambda r: (r.category is None, r.urgency is None),
            )
            if ranked:
                return ranked[0].policy
            unit = self.parents.get(unit)
        return None

    def calendar(self, policy: Policy) -> Calendar:
        return self.calendars.get(policy.calendar, self.calendars["24x7"])

    def deadlines(
        self, unit_id: int, category: str | None, urgency: str | None, opened_at: datetime
    ) -> tuple[datetime | None, datetime | None]:
        policy = self.policy(unit_id, category, urgency)
        if policy is None:
            return None, None
        cal = self.calendar(policy)
        return cal.add(opened_at, policy.first_response_minutes), cal.add(
            opened_at, policy.resolution_minutes
        )


def resume_values(ticket: Mapping[str, Any], now: datetime, book: SlaBook) -> dict[str, object]:
    """Column values that restart a paused SLA clock: deadlines move by the paused working time."""
    paused_at = ticket.get("sla_paused_at")
    if not isinstance(paused_at, datetime):
        return {}
    policy = book.policy(int(ticket["unit_id"]), ticket.get("category"), ticket.get("urgency"))
    calendar = book.calendar(policy) if policy else AlwaysOpen()
    paused = calendar.minutes_between(paused_at, now)
    values: dict[str, object] = {"sla_paused_at": None}
    for column in ("first_response_due", "resolution_due"):
        due = ticket.get(column)
        if isinstance(due, datetime):
            values[column] = calendar.add(due, paused)
    return values
