"""Process-wide settings that the commands owning a process apply once they have started."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


def settle_heap() -> None:
    """Take what start-up loaded (modules, the triage model, the organisation, the database
    metadata) out of the cyclic garbage collector's view.

    Python's collector walks every tracked object on each full collection, and ingest creates
    objects fast enough to trigger one every few batches: with the start-up heap in view,
    collections were three quarters of the time spent unpickling a batch from the triage
    worker, and `seva bench ingest` ran at 5,500 posts/s against 6,900 after this call.
    Objects frozen here are still freed when their reference count drops; only cycles among
    them would stay, which is why this runs once, after start-up, and never in library code
    (tests would keep every frozen cycle they create).
    """
    gc.collect()
    gc.freeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run a block of short-lived, acyclic allocations without cyclic collections.

    Triaging a batch allocates tens of objects per post (tokens, features, entities) that
    all die by reference count when the batch ends; the young-generation collections they
    set off walked the live batch again and again. `seva bench triage` (100,000 posts, two
    workers) went from 14,400 to about 17,500 posts/s with the collector paused per batch.
    Cycles made inside the block are collected after it, by the next collection. Nesting is
    safe: only the block that paused the collector starts it again. Between threads, a block
    that found the collector already paused may run partly with it on again: slower, never
    wrong, and never left paused.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
