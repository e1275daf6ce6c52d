"""Who works a new ticket: a post in its unit, chosen by the unit's assignment mode.

SOS tickets always go straight to the unit's on-duty post (or, failing that, any post with an
officer on duty now), whatever the mode. Otherwise `manual` leaves the ticket in the unit's
queue, `round_robin` takes turns among posts held now, and `least_loaded` picks the post with
the fewest open tickets; both skip full posts and prefer posts whose languages and skills fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, and_, func, or_, select

from sevadesk.domain.status import OPEN_STATUSES
from sevadesk.store import tables as t

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Post:
    id: int
    code: str
    unit_id: int
    on_duty: bool
    languages: list[str]
    skills: list[str]
    capacity: int
    last_assigned_at: datetime | None
    holders: list[int] = field(default_factory=list)
    load: int = 0


def held_now(now: datetime):  # type: ignore[no-untyped-def]
    h = t.position_holders.c
    return and_(h.starts_at <= now, or_(h.ends_at.is_(None), h.ends_at > now))


class Assigner:
    def __init__(self, posts: dict[int, list[Post]], modes: dict[int, str]) -> None:
        self.posts_by_unit = posts
        self.modes = modes
        self.chosen: dict[int, datetime] = {}
        self._tick = 0

    @classmethod
    def load(cls, conn: Connection, unit_ids: set[int], now: datetime) -> Assigner:
        modes = dict(
            conn.execute(
                select(t.units.c.id, t.units.c.assignment).where(t.units.c.id.in_(unit_ids))
            ).all()
        )
        p = t.positions.c
        rows = conn.execute(select(t.positions).where(p.unit_id.in_(unit_ids))).mappings().all()
        posts = {
            r["id"]: Post(
                r["id"],
                r["code"],
                r["unit_id"],
                r["on_duty"],
                r["languages"],
                r["skills"],
                r["capacity"],
                r["last_assigned_at"],
            )
            for r in rows
        }
        if posts:
            h = t.position_holders.c
            for position_id, user_id in conn.execute(
                select(h.position_id, h.user_id).where(h.position_id.in_(posts), held_now(now))
            ):
                posts[position_id].holders.append(user_id)
            c = t.tickets.c
            for position_id, count in conn.execute(
                select(c.position_id, func.count())
                .where(c.position_id.in_(posts), c.status.in_([s.value for s in OPEN_STATUSES]))
                .group_by(c.position_id)
            ):
                posts[position_id].load = count
        by_unit: dict[int, list[Post]] = {}
        for post in posts.values():
            by_unit.setdefault(post.unit_id, []).append(post)
        return cls(by_unit, modes)

    def choose(
        self, unit_id: int, urgency: str, language: str, category: str | None, now: datetime
    ) -> Post | None:
        staffed = [p for p in self.posts_by_unit.get(unit_id, []) if p.holders]
        if not staffed:
            return None
        if urgency == "sos":
            post = next((p for p in staffed if p.on_duty), None) or min(
                staffed, key=lambda p: p.load
            )
            return self._take(post, now)
        mode = self.modes.get(unit_id, "manual")
        if mode == "manual":
            return None
        open_posts = [p for p in staffed if p.load < p.capacity] or staffed
        base = language.split("-")[0]

        def fit(p: Post) -> int:
            return (0 if not p.languages or base in p.languages else 1) + (
                0 if not category or category in p.skills else 1
            )

        best_fit = min(fit(p) for p in open_posts)
        candidates = [p for p in open_posts if fit(p) == best_fit]
        if mode == "least_loaded":
            post = min(candidates, key=lambda p: (p.load, p.last_assigned_at or _EPOCH, p.id))
        else:  # round_robin
            post = min(candidates, key=lambda p: (p.last_assigned_at or _EPOCH, p.id))
        return self._take(post, now)

    def _take(self, post: Post, now: datetime) -> Post:
        post.load += 1
        # Strictly increasing stamps keep the round-robin turn order inside one batch.
        self._tick += 1
        post.last_assigned_at = now + timedelta(microseconds=self._tick)
        self.chosen[post.id] = post.last_assigned_at
        return post
