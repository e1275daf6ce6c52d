"""The agencies a citizen can file with (the organisation's top-level units), and the one a
complaint's own words name, read through the router's handles and hashtags.

A deployment that hosts several agencies (Railways, a state's police) has one root above
them: that root is not an agency, its children are. A complaint whose agency cannot be told
is never filed at the root silently: the form asks the citizen to choose."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from sevadesk.domain import post_text
from sevadesk.domain.units import in_subtree
from sevadesk.routing.router import Router
from sevadesk.store import tables as t


@dataclass(frozen=True, slots=True)
class Agency:
    code: str
    name: str
    name_hi: str | None
    path: str

    def name_in(self, lang: str) -> str:
        return self.name_hi if lang == "hi" and self.name_hi else self.name


def agencies(conn: Connection) -> list[Agency]:
    """The top-level units, or the children of a root of kind `deployment`, by name."""
    u = t.units.c
    rows = conn.execute(select(u.id, u.code, u.name, u.name_hi, u.kind, u.path, u.parent_id)).all()
    children: dict[int | None, list[Any]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    found: list[Any] = []
    for root in children.get(None, []):
        below = children.get(root.id, [])
        found += below if root.kind == "deployment" and below else [root]
    return sorted(
        (Agency(r.code, r.name, r.name_hi, r.path) for r in found),
        key=lambda a: a.name.casefold(),
    )


def agency_named_in(text: str, choices: list[Agency], router: Router) -> Agency | None:
    """The one agency whose handles or hashtags `text` names; None when it names none, or
    units of more than one agency (then the citizen chooses)."""
    units = router.addressed_units(post_text.mentions(text), post_text.hashtags(text))
    named = {a.code: a for u in units for a in choices if in_subtree(u.path, a.path)}
    return next(iter(named.values())) if len(named) == 1 else None
