"""What changed in the tickets, told once per process to every open desk stream.

One watcher per process reads a cheap marker (the highest ticket, audit-event and message ids:
three primary-key lookups in one statement) once a second, and only while some tab listens.
When the marker moves it asks once which tickets moved (their ids and unit paths) and hands
that batch to every subscriber; each stream keeps the batch only if a ticket in it lies in
its officer's scope. A tab then asks for the changed rows alone (`changes_since`).

The poll is one `MarkSource`; a PostgreSQL LISTEN/NOTIFY source (several replicas) can take
its place without the streams noticing: it only has to return the next marker.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, func, select, union

from sevadesk.store import tables as t

MAX_CHANGED = 500  # a batch larger than this tells tabs to reload their page


@dataclass(frozen=True, slots=True, order=True)
class Mark:
    """How far the tickets have got: the newest ticket, audit event and message ids."""

    ticket: int = 0
    event: int = 0
    message: int = 0

    def __str__(self) -> str:
        return f"{self.ticket}.{self.event}.{self.message}"

    @classmethod
    def parse(cls, text: str | None) -> Mark | None:
        try:
            a, b, c = (int(part) for part in (text or "").split("."))
        except ValueError:
            return None
        return cls(a, b, c) if min(a, b, c) >= 0 else None


def read_mark(conn: Connection) -> Mark:
    """The current marker: three indexed MAX() lookups, one round trip."""
    row = conn.execute(
        select(
            select(func.max(t.tickets.c.id)).scalar_subquery(),
            select(func.max(t.ticket_events.c.id)).scalar_subquery(),
            select(func.max(t.messages.c.id)).scalar_subquery(),
        )
    ).one()
    return Mark(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))


def changed_ticket_ids(conn: Connection, since: Mark, limit: int = MAX_CHANGED) -> Any:
    """A select of the ids of tickets opened, acted on or written to after `since`."""
    return union(
        select(t.tickets.c.id.label("id")).where(t.tickets.c.id > since.ticket),
        select(t.ticket_events.c.ticket_id).where(t.ticket_events.c.id > since.event),
        select(t.messages.c.ticket_id).where(
            t.messages.c.id > since.message, t.messages.c.ticket_id.is_not(None)
        ),
    ).limit(limit + 1)


def changes_since(conn: Connection, since: Mark) -> tuple[list[tuple[int, str]], bool]:
    """(ticket id, unit path) of every ticket changed after `since`; True when there were
    more than MAX_CHANGED (the caller reloads instead)."""
    ids = changed_ticket_ids(conn, since).subquery()
    rows = conn.execute(
        select(t.tickets.c.id, t.units.c.path)
        .join(t.units, t.units.c.id == t.tickets.c.unit_id)
        .where(t.tickets.c.id.in_(select(ids.c.id)))
    ).all()
    return [(r.id, r.path) for r in rows[:MAX_CHANGED]], len(rows) > MAX_CHANGED


class MarkSource(Protocol):
    """Waits until the marker differs from `last` (or a while has passed) and returns it."""

    async def next_mark(self, last: Mark) -> Mark: ...


class PollingSource:
    """Reads the marker every `interval` seconds (one query per process per interval)."""

    def __init__(self, engine: Engine, interval: float = 1.0) -> None:
        self.engine, self.interval = engine, interval

    def read(self) -> Mark:
        with self.engine.connect() as conn:
            return read_mark(conn)

    async def next_mark(self, last: Mark) -> Mark:
        await asyncio.sleep(self.interval)
        return await asyncio.to_thread(self.read)


@dataclass(frozen=True, slots=True)
class Change:
    """One move of the marker (from `since` to `mark`): the tickets that moved (id, unit
    path), or `overflow`."""

    since: Mark
    mark: Mark
    tickets: tuple[tuple[int, str], ...] = ()
    overflow: bool = False

    def touches(self, scope_path: str) -> bool:
        return self.overflow or any(path.startswith(scope_path) for _, path in self.tickets)


@dataclass(eq=False)
class Subscriber:
    """One open stream: the changes in its scope, in order; `missed` when one was dropped
    (the stream was slow and its queue full) and the stream must catch up by itself."""

    scope_path: str
    queue: asyncio.Queue[Change] = field(default_factory=lambda: asyncio.Queue(maxsize=8))
    missed: bool = False


class ChangeWatcher:
    """One per process: polls while someone listens and fans each change out in memory."""

    def __init__(self, engine: Engine, source: MarkSource | None = None) -> None:
        self.engine = engine
        self.source: MarkSource = source or PollingSource(engine)
        self._subscribers: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        self.mark: Mark | None = None
        self.ready = asyncio.Event()  # set once the first marker is read
        # Work the streams share, per change (web/ui/inbox_work.py: the rows of a group).
        self.shared: OrderedDict[Any, asyncio.Future[Any]] = OrderedDict()

    @property
    def listeners(self) -> int:
        return len(self._subscribers)

    def subscribe(self, scope_path: str) -> Subscriber:
        sub = Subscriber(scope_path)
        self._subscribers.add(sub)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self._subscribers.discard(sub)

    def _changes(self, since: Mark) -> tuple[list[tuple[int, str]], bool]:
        with self.engine.connect() as conn:
            return changes_since(conn, since)

    async def _run(self) -> None:
        while self.mark is None and self._subscribers:
            try:
                self.mark = await asyncio.to_thread(PollingSource(self.engine).read)
            except Exception:  # the database is not there yet: the streams wait
                await asyncio.sleep(1.0)
        self.ready.set()
        while self._subscribers and self.mark is not None:
            try:
                mark = await self.source.next_mark(self.mark)
                if mark == self.mark:
                    continue
                tickets, overflow = await asyncio.to_thread(self._changes, self.mark)
            except asyncio.CancelledError:
                raise
            except Exception:  # a database blip: try again at the next tick
                await asyncio.sleep(1.0)
                continue
            change = Change(self.mark, mark, tuple(tickets), overflow)
            self.mark = mark
            for sub in list(self._subscribers):
                if change.touches(sub.scope_path):
                    try:
                        sub.queue.put_nowait(change)
                    except asyncio.QueueFull:  # a slow tab: it catches up by itself
                        sub.missed = True
        # Nobody listens: the next stream starts from a fresh marker, not this old one.
        self.mark = None
        self.ready.clear()


def watcher_for(state: Any, engine: Engine) -> ChangeWatcher:
    """The app's watcher, made on first use (inside the app's event loop)."""
    watcher = getattr(state, "change_watcher", None)
    if watcher is None:
        watcher = ChangeWatcher(engine)
        state.change_watcher = watcher
    return watcher
