"""The CPU-only stages (normalise, triage) of a batch, runnable in another process.

They need no database, so `seva ingest` and the benchmarks run them for the next batch in a
worker process while the main process writes the current one: both cores stay busy.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

import structlog

from sevadesk.pipeline.batch import Item, JournalEntry
from sevadesk.pipeline.normalise import normalise
from sevadesk.routing.router import Router
from sevadesk.triage.base import Triager, triage_each, unread
from sevadesk.triage.rules import TriageConfig

Prepared = tuple[list[Item], list[tuple[int, str]]]
T = TypeVar("T")
log = structlog.get_logger(__name__)


def prepare(
    entries: Sequence[JournalEntry], triager: Triager, router: Router | None = None
) -> Prepared:
    """Normalise and triage; with a router, also route every post that may open a ticket
    (routing reads only the post and the organisation, so it can run ahead of the database)."""
    items, rejected = normalise(entries)
    results = triage_each(triager, [i.msg.text for i in items], [i.msg.addressed for i in items])
    for item, result in zip(items, results, strict=True):
        if isinstance(result, Exception):
            # A bug must not hold up the batch, nor retry forever as a poison message: the
            # post opens a ticket for a person to triage, and the error is logged. (A model
            # that does not load fails when the pipeline starts, not post by post here.)
            log.error(
                "triage_failed",
                journal_id=item.journal_id,
                error=f"{type(result).__name__}: {result}",
            )
            result = unread(triager.version)
        if (
            (item.msg.filed or item.msg.voice_note)
            and not result.actionable
            and result.kind != "spam"
        ):
            # Filed on purpose (a form, Open311, the bot), or a voice note sent to the desk
            # (nothing to read): a grievance whatever the wording.
            result.actionable, result.kind = True, "grievance"
        if item.msg.category_hint:
            result.category = item.msg.category_hint
        item.triage = result
    if router is not None:
        handles = router.agency_handles
        for item in items:
            assert item.triage is not None
            if (item.msg.author_handle or "").lower() in handles:
                continue
            if item.triage.actionable:
                _unit, item.route = router.route(item.msg, item.triage)
            else:  # screened out: the queue where an officer can still take it up
                _unit, item.candidate = router.route(item.msg, item.triage)
    return items, rejected


_worker_triager: Triager | None = None
_worker_router: Router | None = None


PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCH_SECONDS = 0.5


def die_with(parent: int) -> None:
    """End this process when `parent` ends, however it ends (a SIGKILL runs no clean-up in
    it, and an orphaned worker would keep its ~180 MB of model until killed by hand).

    On Linux the kernel sends SIGKILL when the parent dies (PR_SET_PDEATHSIG; it fires when
    the thread that forked us ends, which for `seva ingest` is the main thread, i.e. the
    process). A watchdog thread covers the rest: other systems, a parent that died before the
    call, and a pool started from a thread that ends early.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl here: the watchdog alone
            pass
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while True:
            threading.Event().wait(WATCH_SECONDS)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _init_worker(
    config: TriageConfig | None,
    router: Router | None,
    triager: Triager | None,
    parent: int | None = None,
) -> None:
    global _worker_triager, _worker_router
    from sevadesk.triage.default import default_triager

    if parent is not None:
        die_with(parent)

    _worker_triager = triager or default_triager(config)
    _worker_router = router


def _prepare_in_worker(entries: Sequence[JournalEntry]) -> Prepared:
    assert _worker_triager is not None
    return prepare(entries, _worker_triager, _worker_router)


def prepare_ahead(
    batches: Iterable[tuple[T, Sequence[JournalEntry]]],
    config: TriageConfig | None = None,
    router: Router | None = None,
    triager: Triager | None = None,
) -> Iterator[tuple[T, Sequence[JournalEntry], Prepared]]:
    """Yields each (tag, batch) with its prepared items, preparing the next batch meanwhile.
    The router is a snapshot: an org file loaded during the run applies from the next run."""
    with ProcessPoolExecutor(
        max_workers=1,
        initializer=_init_worker,
        initargs=(config, router, triager, os.getpid()),
    ) as pool:
        pending: tuple[T, Sequence[JournalEntry], Future[Prepared]] | None = None
        for tag, entries in batches:
            future = pool.submit(_prepare_in_worker, entries)
            if pending is not None:
                yield pending[0], pending[1], pending[2].result()
            pending = (tag, entries, future)
        if pending is not None:
            yield pending[0], pending[1], pending[2].result()
