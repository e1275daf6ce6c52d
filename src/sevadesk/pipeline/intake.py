"""Where channel adapters hand raw events: stored in the journal, with the ledger's
figures, in one transaction. The caller acknowledges its source only after `store` returns;
the drain worker (`Pipeline.drain`) turns pending entries into tickets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine

from sevadesk.domain.clock import Clock
from sevadesk.pipeline import journal
from sevadesk.store import ledger


class Intake:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine, self.clock = engine, clock

    def store(
        self,
        channel: str,
        source: str,
        payloads: Sequence[str],
        reads: int | None = None,
        newest_id: str | None = None,
        newest_at: datetime | None = None,
        live: bool = True,
    ) -> int:
        """Journal the payloads; returns how many were new. `reads` (default: the number
        of payloads) is what the source cost against its quota."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            entries = journal.append(conn, channel, source, payloads, now) if payloads else []
            ledger.record_reads(
                conn,
                source,
                channel,
                now,
                len(payloads) if reads is None else reads,
                newest_id,
                newest_at,
                live,
            )
        return sum(e.fresh for e in entries)
