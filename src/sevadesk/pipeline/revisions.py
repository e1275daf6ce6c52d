"""Deleted and edited messages: what an author changed after sending, applied wherever the
message's words were stored.

A revision (domain/revisions.py) is stored in the transaction that accepts its webhook
delivery, unique per channel event, so a provider's retry adds nothing. It applies to the
message at once when the message is stored; one that arrives first waits, and the pipeline
applies it in the transaction that stores the message (`apply`, called by the runner for
every batch). Applying is idempotent and needs no order: a message reads as its original
words, or its latest edit, unless any revision deleted it.

A deletion replaces the words with DELETED_TEXT in the message, its triage (masked text,
entities) and the summary of the ticket it opened; empties the journal entry the message
was read from (the digest stays, so a redelivery is still known) and the new words of any
edit of it; and is audited on the ticket without the words. The ticket stays: the case is not
lost. Copies of the post journaled by another path (the stream and the webhook both saw it)
are emptied by the routine job (`sweep`), as are copies that arrive later. An edit replaces
the words, masked again, and is audited the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
import structlog
from sqlalchemy import Connection, and_, or_, select, update

from sevadesk.channels.errors import PayloadError
from sevadesk.channels.whatsapp.payloads import parse_message
from sevadesk.channels.x.payloads import parse_x_payload
from sevadesk.domain.revisions import DELETED, DELETED_TEXT, EDITED, Revision
from sevadesk.store import tables as t
from sevadesk.store.fast import bulk_insert
from sevadesk.triage.entities import extract
from sevadesk.triage.masking import mask

log = structlog.get_logger(__name__)

R = t.message_revisions.c
M = t.messages.c
# A message key with, when known, the journal entry it was read from this time.
Copy = tuple[str, str, int | None]

_READERS = {"x": parse_x_payload, "whatsapp": parse_message}
_CHANNEL_NAMES = {"x": "X", "whatsapp": "WhatsApp"}


def record(conn: Connection, revisions: Sequence[Revision], now: datetime) -> int:
    """Store revisions not seen before and apply them to messages already stored; returns
    how many revisions took effect now."""
    if not revisions:
        return 0
    rows = [
        {
            "channel": r.channel,
            "external_id": r.external_id,
            "kind": r.kind,
            "event_id": r.event_id,
            "occurred_at": r.at,
            "received_at": now,
            "text": r.text,
        }
        for r in revisions
    ]
    bulk_insert(conn, t.message_revisions, rows, on_conflict=["channel", "event_id"])
    return apply(conn, [(r.channel, r.external_id, None) for r in revisions], now)


def _where_keys(column_channel: Any, column_id: Any, keys: Iterable[tuple[str, str]]) -> Any:
    by_channel: dict[str, set[str]] = defaultdict(set)
    for channel, external_id in keys:
        by_channel[channel].add(external_id)
    return or_(
        *(
            and_(column_channel == channel, column_id.in_(sorted(ids)))
            for channel, ids in sorted(by_channel.items())
        )
    )


def apply(conn: Connection, copies: Sequence[Copy], now: datetime) -> int:
    """Bring the stored messages among `copies` to what their revisions say, audit each
    revision the first time it takes effect, and empty the journal entries given with a
    deleted message's key. One query when none of the keys has a revision (the usual batch)."""
    keys = {(channel, external_id) for channel, external_id, _ in copies}
    if not keys:
        return 0
    revisions: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in conn.execute(
        select(t.message_revisions)
        .where(_where_keys(R.channel, R.external_id, keys))
        .order_by(R.occurred_at, R.id)
    ):
        revisions[(row.channel, row.external_id)].append(row)
    if not revisions:
        return 0
    messages = conn.execute(
        select(M.id, M.channel, M.external_id, M.ticket_id, M.journal_id).where(
            _where_keys(M.channel, M.external_id, revisions)
        )
    ).all()
    applied = 0
    for message in messages:
        history = revisions[(message.channel, message.external_id)]
        deleted = any(r.kind == DELETED for r in history)
        fresh = [r for r in history if r.applied_at is None]
        if fresh:
            if deleted:
                _delete(conn, message, now)
            else:
                _edit(conn, message, max(history, key=lambda r: (r.occurred_at, r.id)).text, now)
            _audit(conn, message, fresh, deleted, now)
            conn.execute(
                update(t.message_revisions)
                .where(R.id.in_([r.id for r in fresh]))
                .values(applied_at=now)
            )
            applied += len(fresh)
        if deleted:
            journal_ids = [
                jid
                for channel, external_id, jid in copies
                if jid is not None
                and (channel, external_id) == (message.channel, message.external_id)
            ]
            _empty_journal(conn, message.channel, message.external_id, journal_ids)
    return applied


def _opened_by(conn: Connection, message_id: int, ticket_id: int | None) -> list[int]:
    """The tickets this message opened: its ticket's, or that of a ticket merged into it
    (a merge moves the messages and leaves the merged ticket's summary)."""
    if ticket_id is None:
        return []
    e = t.ticket_events.c
    candidates, seen, opened = [ticket_id], set(), []
    while candidates:
        batch = [c for c in candidates if c not in seen]
        seen |= set(batch)
        candidates = []
        refs: list[str] = []
        for tid, action, after in conn.execute(
            select(e.ticket_id, e.action, e.after).where(
                e.ticket_id.in_(batch), e.action.in_(["opened", "merged_in"])
            )
        ):
            if action == "opened" and (after or {}).get("message_id") == message_id:
                opened.append(tid)
            elif action == "merged_in" and (after or {}).get("from"):
                refs.append(after["from"])
        if refs:
            candidates = list(
                conn.execute(select(t.tickets.c.id).where(t.tickets.c.ref.in_(refs))).scalars()
            )
    return opened


def _rewrite(
    conn: Connection,
    message: Any,
    text: str,
    masked: str,
    entities: list[dict[str, Any]],
    now: datetime,
) -> None:
    conn.execute(update(t.messages).where(M.id == message.id).values(text=text))
    conn.execute(
        update(t.triage_results)
        .where(t.triage_results.c.message_id == message.id)
        .values(masked_text=masked, entities=entities)
    )
    opened = _opened_by(conn, message.id, message.ticket_id)
    if opened:
        conn.execute(
            update(t.tickets)
            .where(t.tickets.c.id.in_(opened))
            .values(summary=masked[:1000], updated_at=now)
        )
    if message.ticket_id is not None and message.ticket_id not in opened:
        conn.execute(
            update(t.tickets).where(t.tickets.c.id == message.ticket_id).values(updated_at=now)
        )


def _delete(conn: Connection, message: Any, now: datetime) -> None:
    _rewrite(conn, message, DELETED_TEXT, DELETED_TEXT, [], now)
    # Where the message said the problem is (a shared location, an address, a photo) goes too.
    opened = _opened_by(conn, message.id, message.ticket_id)
    if opened:
        conn.execute(
            update(t.tickets)
            .where(t.tickets.c.id.in_(opened))
            .values(lat=None, long=None, address=None, zipcode=None, media_url=None)
        )
    # An edit's words are the author's too.
    conn.execute(
        update(t.message_revisions)
        .where(R.channel == message.channel, R.external_id == message.external_id)
        .values(text=None)
    )


def _edit(conn: Connection, message: Any, text: str | None, now: datetime) -> None:
    if text is None:
        return
    entities = extract(text)
    spans = [{"kind": e.kind, "value": e.value, "start": e.start, "end": e.end} for e in entities]
    _rewrite(conn, message, text, mask(text, entities), spans, now)


def _audit(conn: Connection, message: Any, fresh: list[Any], deleted: bool, now: datetime) -> None:
    """Who (the author), what (which message, deleted or edited) and when; never the words,
    which the append-only audit trail could not give up later."""
    if message.ticket_id is None:
        return
    where = _CHANNEL_NAMES.get(message.channel, message.channel)
    rows = []
    for r in fresh:
        note = f"{r.kind} by its author on {where}"
        if r.kind == EDITED and deleted:
            note += "; the message is deleted, so its words stay removed"
        rows.append(
            {
                "ticket_id": message.ticket_id,
                "at": now,
                "actor": "citizen",
                "action": f"message_{r.kind}",
                "before": None,
                "after": {
                    "message_id": message.id,
                    "external_id": message.external_id,
                    "at": r.occurred_at.isoformat(),
                },
                "note": note,
            }
        )
    bulk_insert(conn, t.ticket_events, rows)


def _tombstone(channel: str, external_id: str) -> str:
    return orjson.dumps(
        {
            "revised": DELETED,
            "channel": channel,
            "external_id": external_id,
            "note": "deleted by its author: the content was removed from the journal",
        }
    ).decode()


def _empty_journal(
    conn: Connection, channel: str, external_id: str, journal_ids: Sequence[int]
) -> None:
    """The journal entries this message was read from: the one that stored it, and copies
    read in this batch. Their digest stays, so a redelivery is known and not read again."""
    own = conn.execute(
        select(M.journal_id).where(M.channel == channel, M.external_id == external_id)
    ).scalar()
    ids = sorted({*journal_ids, *([own] if own is not None else [])})
    if ids:
        conn.execute(
            update(t.journal)
            .where(t.journal.c.id.in_(ids))
            .values(payload=_tombstone(channel, external_id))
        )


def sweep(conn: Connection, now: datetime, limit: int = 50) -> int:
    """The routine job: apply revisions whose message was stored at the same moment they
    arrived (two transactions on PostgreSQL can each miss the other's row), and empty the
    journal copies of deleted messages that other paths read before the deletion. Returns
    how many deletions had their copies emptied."""
    recent = conn.execute(
        select(R.channel, R.external_id).where(
            R.applied_at.is_(None), R.received_at >= now - timedelta(days=1)
        )
    ).all()
    if recent:
        apply(conn, [(r.channel, r.external_id, None) for r in recent], now)
    deletions = conn.execute(
        select(R.id, R.channel, R.external_id)
        .where(R.kind == DELETED, R.applied_at.is_not(None), R.scrubbed_at.is_(None))
        .order_by(R.id)
        .limit(limit)
    ).all()
    for deletion in deletions:
        _scrub_copies(conn, deletion.channel, deletion.external_id)
    if deletions:
        conn.execute(
            update(t.message_revisions)
            .where(R.id.in_([d.id for d in deletions]))
            .values(scrubbed_at=now)
        )
    return len(deletions)


def _scrub_copies(conn: Connection, channel: str, external_id: str) -> None:
    """Every journal entry of `channel` that reads as this message. The journal has no index
    on what an entry holds: this scans the channel's entries that mention the id (deletions
    are few, and this runs off the request path)."""
    read = _READERS.get(channel)
    if read is None:
        return
    j = t.journal.c
    tombstone = _tombstone(channel, external_id)
    candidates = conn.execute(
        select(j.id, j.payload).where(
            j.channel == channel, j.payload.contains(external_id, autoescape=True)
        )
    ).all()
    for jid, payload in candidates:
        if payload == tombstone:
            continue
        try:
            if read(orjson.loads(payload)).external_id != external_id:
                continue
        except (PayloadError, orjson.JSONDecodeError):
            continue
        conn.execute(update(t.journal).where(j.id == jid).values(payload=tombstone))
        log.info("journal_copy_emptied", journal_id=jid, channel=channel)
