"""Runs the stages over batches: one transaction to journal, one to process and commit."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from sevadesk.config import Settings
from sevadesk.domain.clock import Clock, SystemClock
from sevadesk.pipeline import journal, revisions
from sevadesk.pipeline.batch import BatchSummary, Item, JournalEntry, Rejection
from sevadesk.pipeline.citizens import resolve_citizens
from sevadesk.pipeline.dedupe import dedupe
from sevadesk.pipeline.prepare import Prepared, prepare, prepare_ahead
from sevadesk.pipeline.thread import ThreadPolicy, mark_agency_posts, thread
from sevadesk.pipeline.tickets import write_batch
from sevadesk.routing.router import NoDefaultUnit, Router
from sevadesk.routing.sla import SlaBook
from sevadesk.store.org_repo import triage_config
from sevadesk.triage.base import Triager
from sevadesk.triage.default import default_triager
from sevadesk.triage.rules import TriageConfig

log = structlog.get_logger(__name__)

MESSAGES = Counter("seva_pipeline_messages_total", "Inbound events by outcome", ["outcome"])
BATCH_SECONDS = Histogram("seva_pipeline_batch_seconds", "Time to process one batch")
CLAIMED = Counter("seva_journal_claimed_total", "Journal entries claimed by this drain worker")
DONE_ELSEWHERE = Counter(
    "seva_journal_done_elsewhere_total",
    "Entries of a batch another worker had processed first (work done twice; 0 with claims)",
)

# The router is rebuilt from the database this often, so `seva org load` takes effect in a
# running server without a restart.
ROUTER_TTL_SECONDS = 30.0


class Pipeline:
    """Owns the stages and the router; safe to call from one thread at a time."""

    def __init__(
        self,
        engine: Engine,
        triager: Triager | None,
        settings: Settings,
        clock: Clock | None = None,
        skip_sources: frozenset[str] = frozenset(),
        claimer: str | None = None,
    ) -> None:
        """`triager=None` uses the shipped model with the organisation's triage rules,
        reloaded with the router. `drain` leaves entries from `skip_sources` to their own
        consumer (the WhatsApp bot takes `wa-webhook` messages when it is on). `claimer`
        names this worker in the journal's claims (default: host and process id)."""
        self.skip_sources = skip_sources
        self.claimer = claimer or worker_name()
        self.lease = timedelta(seconds=settings.drain_lease_seconds)
        self.engine = engine
        self._own_triager = triager is None
        self.triager: Triager = triager or default_triager()
        self.triage_config = TriageConfig()
        self.clock = clock or SystemClock()
        self.policy = ThreadPolicy(
            follow_up_window=timedelta(minutes=settings.thread_window_minutes),
            reopen_window=timedelta(hours=settings.reopen_window_hours),
        )
        self._router: Router | None = None
        self.sla: SlaBook | None = None
        self._router_loaded = 0.0

    @property
    def router(self) -> Router:
        return self.refresh()

    def refresh(self) -> Router:
        """The router, SLA book and triage settings, reloaded when older than the TTL."""
        if self._router is None or time.monotonic() - self._router_loaded > ROUTER_TTL_SECONDS:
            with self.engine.connect() as conn:
                self._router = Router.load(conn)
                self.sla = SlaBook.load(conn)
                config = triage_config(conn)
            if self._own_triager and config != self.triage_config:
                self.triager = default_triager(config)
            self.triage_config = config
            self._router_loaded = time.monotonic()
        return self._router

    def require_organisation(self) -> None:
        """Refuse to take posts before an organisation exists to route them to."""
        if self.router.default_unit_id is None:
            raise NoDefaultUnit("no organisation loaded: run `seva org load FILE.yaml` first")

    def reload_router(self) -> None:
        self._router = None

    def ingest(self, channel: str, source: str, payloads: Sequence[str]) -> BatchSummary:
        """Journal the payloads (committed first), then process what is new."""
        self.require_organisation()
        entries, positions = self._journal(channel, source, payloads)
        summary = self.process(entries, positions)
        return self._count_input(summary, payloads, entries)

    def ingest_many(
        self, channel: str, source: str, batches: Iterable[Sequence[str]]
    ) -> Iterator[BatchSummary]:
        """Like `ingest` per batch, with the next batch normalised and triaged in a worker
        process while this one is written: for files and replays, where batches queue up."""
        self.require_organisation()

        def journaled() -> Iterator[
            tuple[tuple[Sequence[str], dict[int, int]], Sequence[JournalEntry]]
        ]:
            for payloads in batches:
                entries, positions = self._journal(channel, source, payloads)
                yield (payloads, positions), entries

        self.refresh()  # the worker process gets the organisation's current triage settings
        for (payloads, positions), entries, prepared in prepare_ahead(
            journaled(),
            self.triage_config,
            self.router,
            None if self._own_triager else self.triager,
        ):
            summary = self.store(entries, prepared, positions) if entries else BatchSummary()
            yield self._count_input(summary, payloads, entries)

    def _journal(
        self, channel: str, source: str, payloads: Sequence[str]
    ) -> tuple[list[JournalEntry], dict[int, int]]:
        digests = [journal.digest(p) for p in payloads]
        now = self.clock.now()
        with self.engine.begin() as conn:
            # Leased to this process, which processes them next: no drain worker takes them.
            entries = journal.append(
                conn, channel, source, payloads, now, digests, (self.claimer, now + self.lease)
            )
        position: dict[str, int] = {}
        for idx, d in enumerate(digests):
            position.setdefault(d, idx)
        return entries, {e.id: position[e.digest] for e in entries}

    @staticmethod
    def _count_input(
        summary: BatchSummary, payloads: Sequence[str], entries: Sequence[JournalEntry]
    ) -> BatchSummary:
        summary.read = len(payloads)
        # Lines seen before (in this input or an earlier run) are duplicates of what is stored.
        summary.duplicates += len(payloads) - len(entries)
        return summary

    def drain(self, limit: int = 1000) -> BatchSummary:
        """Process journal entries left pending (by webhooks, or a crash mid-batch): a batch
        claimed for this worker (committed first, so other drain workers take the next)."""
        with self.engine.begin() as conn:
            entries = journal.claim_batch(
                conn, limit, self.claimer, self.clock.now(), self.lease, self.skip_sources
            )
        CLAIMED.inc(len(entries))
        return self.process(entries)

    def process(
        self, entries: Sequence[JournalEntry], positions: dict[int, int] | None = None
    ) -> BatchSummary:
        if not entries:
            return BatchSummary()
        self.refresh()  # a new org file's triage rules apply from the next batch
        return self.store(entries, prepare(entries, self.triager), positions)

    def store(
        self,
        entries: Sequence[JournalEntry],
        prepared: Prepared,
        positions: dict[int, int] | None = None,
    ) -> BatchSummary:
        """The database stages for a batch whose CPU-only stages `prepare` has done.

        The batch is one transaction. When the database refuses it, the batch is tried again
        in halves, down to the entry it refuses: that one is set aside (journal status
        `failed`, with the error and the time) and the rest commit. A database that cannot be
        reached (or is locked) fails every entry alike, so it is not taken for a bad entry:
        the error goes up and the batch stays pending for the next pass.
        """
        summary = BatchSummary()
        started = time.perf_counter()
        items, rejected = prepared
        summary.rejected = len(rejected)
        summary.rejections = [
            Rejection(jid, (positions or {}).get(jid), reason) for jid, reason in rejected
        ]
        # What `prepare` made of each item; the stages below add to items as they go, so a
        # retry starts again from these.
        pristine = [(i.journal_id, i.msg, i.triage, i.route) for i in items]
        self._settle(list(entries), pristine, list(rejected), summary)
        for failure in summary.failures:
            failure.position = (positions or {}).get(failure.journal_id)
        BATCH_SECONDS.observe(time.perf_counter() - started)
        for outcome in ("new", "duplicates", "rejected", "tickets_opened", "threaded", "failed"):
            MESSAGES.labels(outcome).inc(getattr(summary, outcome))
        for jid, reason in rejected:
            log.info("journal_entry_rejected", journal_id=jid, reason=reason)
        return summary

    def _settle(
        self,
        entries: list[JournalEntry],
        pristine: list[tuple[int, Any, Any, Any]],
        rejected: list[tuple[int, str]],
        summary: BatchSummary,
    ) -> None:
        try:
            summary.add(self._write(entries, pristine, rejected))
            return
        except (OperationalError, InterfaceError):
            raise  # the database is down or locked: nothing here is to blame
        except Exception as exc:
            if len(entries) > 1:
                log.warning(
                    "pipeline_batch_refused",
                    entries=len(entries),
                    first_journal_id=entries[0].id,
                    error=_error_text(exc),
                    exc_info=True,
                )
                half = len(entries) // 2
                for part in (entries[:half], entries[half:]):
                    ids = {e.id for e in part}
                    self._settle(
                        part,
                        [p for p in pristine if p[0] in ids],
                        [r for r in rejected if r[0] in ids],
                        summary,
                    )
                return
            error = exc
        # One entry. Once more on its own first: a unique or foreign key conflict with
        # another writer's commit clears when that commit is seen.
        try:
            summary.add(self._write(entries, pristine, rejected))
            return
        except (OperationalError, InterfaceError):
            raise
        except Exception as again:
            error = again
        entry = entries[0]
        with self.engine.begin() as conn:
            journal.set_aside(conn, entry.id, _error_text(error), self.clock.now())
        summary.failed += 1
        summary.failures.append(Rejection(entry.id, None, _error_text(error)))
        log.error(
            "journal_entry_failed",
            journal_id=entry.id,
            channel=entry.channel,
            error=_error_text(error),
            exc_info=error,
        )

    def _write(
        self,
        entries: Sequence[JournalEntry],
        pristine: Sequence[tuple[int, Any, Any, Any]],
        rejected: Sequence[tuple[int, str]],
    ) -> BatchSummary:
        """One transaction: store what is new, open or thread tickets, mark the journal."""
        summary = BatchSummary()
        router = self.router
        now = self.clock.now()
        items = [Item(jid, msg, triage=tr, route=route) for jid, msg, tr, route in pristine]
        with self.engine.begin() as conn:
            # Another process may be writing the same entries (two runs of one file, a file
            # and the drain): each waits for the other's lock and takes what is still to do.
            todo = journal.lock_unfinished(conn, [e.id for e in entries])
            if len(todo) < len(entries):
                DONE_ELSEWHERE.inc(len(entries) - len(todo))
                log.warning(
                    "journal_entries_done_elsewhere",
                    entries=len(entries) - len(todo),
                    first_journal_id=entries[0].id,
                )
            summary.duplicates += sum(i.journal_id not in todo for i in items)
            items = [i for i in items if i.journal_id in todo]
            # Threading inside a batch needs a post before its replies, whatever order the
            # journal received them in.
            items.sort(key=lambda i: i.msg.created_at)
            mark_agency_posts(items, router.agency_handles)
            fresh = dedupe(conn, items)
            summary.duplicates += len(items) - len(fresh)
            resolve_citizens(conn, fresh, now)
            thread(conn, fresh, self.policy)
            for item in fresh:
                assert item.triage is not None
                # Only a post that may open a ticket needs a place in the hierarchy; one
                # screened out needs one for the queue it waits in.
                if item.ticket_id is not None or item.from_agency:
                    continue
                if item.route is None and item.triage.actionable:
                    _unit, item.route = router.route(item.msg, item.triage)
                elif item.candidate is None and not item.triage.actionable:
                    _unit, item.candidate = router.route(item.msg, item.triage)
            units = {u.code: u for u in router.units.values()}
            rules = self.triage_config.compiled_rules()
            summary.add(write_batch(conn, fresh, units, now, self.sla, rules))
            # Deletions and edits that came before their post apply as it is stored; a copy
            # of a deleted post read again (another path, a file) is emptied in the journal.
            revisions.apply(
                conn, [(i.msg.channel, i.msg.external_id, i.journal_id) for i in items], now
            )
            rejected_ids = {jid for jid, _ in rejected}
            journal.mark(
                conn,
                [e.id for e in entries if e.id in todo and e.id not in rejected_ids],
                [(jid, err) for jid, err in rejected if jid in todo],
                self.claimer,
            )
        return summary


def worker_name() -> str:
    """This process as the journal's claims name it: host and process id (a container's
    host name tells its replicas apart; a restarted worker with the same name takes its own
    unfinished claims back at once)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _error_text(exc: BaseException) -> str:
    """The exception as one line for the journal and the admin page."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:1000]
