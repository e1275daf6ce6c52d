"""Runs the bot on WhatsApp: stored webhook messages in, replies into the outbox.

A turn: read the citizen's message from the journal, load their session, let the engine
answer (filing through the pipeline when the flow says so; those calls are idempotent), then
in one transaction mark the message processed, save the session (only if unchanged since it
was read) and queue the replies. Another worker that got there first, or a session changed
meanwhile, makes the turn roll back and run again; nothing is answered twice.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import structlog
from prometheus_client import Histogram
from sqlalchemy import Connection, Engine, select

from sevadesk.bot import sessions
from sevadesk.bot.catalogue import Catalogues
from sevadesk.bot.engine import Bot, Inbound, Outbound, Session
from sevadesk.bot.flows import DEFAULT_FLOW, Flow
from sevadesk.bot.services import DeskServices
from sevadesk.channels.whatsapp.client import text_message
from sevadesk.config import Settings
from sevadesk.domain.clock import Clock
from sevadesk.pipeline import journal
from sevadesk.pipeline.batch import JournalEntry
from sevadesk.pipeline.runner import Pipeline, worker_name
from sevadesk.store import periodic
from sevadesk.store import tables as t
from sevadesk.store.fast import bulk_insert

log = structlog.get_logger(__name__)
TURN_SECONDS = Histogram(
    "seva_bot_turn_seconds",
    "Webhook message stored → replies queued",
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0),
)
WEBHOOK_SOURCE = "wa-webhook"


def load_bot(settings: Settings, services: Any) -> Bot:
    catalogues = (
        Catalogues.load(settings.bot_catalogues_dir)
        if settings.bot_catalogues_dir
        else Catalogues.load()
    )
    flow = Flow.load(catalogues, settings.bot_flow_file or DEFAULT_FLOW)
    return Bot(flow, catalogues, services)


def inbound_of(payload: dict[str, Any]) -> tuple[str, Inbound]:
    """A journaled WhatsApp message (as `split_webhook` stored it) → (sender, Inbound)."""
    message = payload["message"]
    contact = payload.get("contact") or {}
    name = (contact.get("profile") or {}).get("name") if isinstance(contact, dict) else None
    inbound = Inbound(wamid=str(message.get("id", "")), name=name)
    kind = message.get("type")
    if kind == "text":
        inbound.text = str((message.get("text") or {}).get("body", ""))
    elif kind == "interactive":
        inter = message.get("interactive") or {}
        reply = inter.get("button_reply") or inter.get("list_reply") or {}
        inbound.choice = reply.get("id")
        inbound.text = str(reply.get("title", ""))
    elif kind == "button":
        button = message.get("button") or {}
        inbound.choice = button.get("payload")
        inbound.text = str(button.get("text", ""))
    elif kind == "location":
        loc = message.get("location") or {}
        if isinstance(loc.get("latitude"), int | float) and isinstance(
            loc.get("longitude"), int | float
        ):
            inbound.location = (float(loc["latitude"]), float(loc["longitude"]))
    elif kind in ("image", "video", "audio", "document", "sticker"):
        media = message.get(kind) or {}
        inbound.media = ((kind, str(media.get("id", "")), str(media.get("mime_type", ""))),)
        inbound.text = str(media.get("caption") or "")
    return str(message.get("from", "")), inbound


def _sent_at(payload: dict[str, Any]) -> datetime | None:
    stamp = (payload.get("message") or {}).get("timestamp")
    try:
        return datetime.fromtimestamp(int(stamp), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def render(out: Outbound) -> tuple[str, dict[str, Any] | None, str]:
    """(kind, WhatsApp message object, plain-text body) for one bot reply. The plain body,
    with the choices numbered, is what a template carries outside the 24-hour window."""
    body = out.text
    if out.choices:
        body += "\n" + "\n".join(f"{i}. {title}" for i, (_, title) in enumerate(out.choices, 1))
    if not out.choices:
        return "text", text_message(out.text[:4096]), body
    if len(out.choices) <= 3:
        interactive: dict[str, Any] = {
            "type": "button",
            "body": {"text": out.text[:1024]},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": cid[:256], "title": _fit(title, 20)}}
                    for cid, title in out.choices
                ]
            },
        }
    else:
        interactive = {
            "type": "list",
            "body": {"text": out.text[:1024]},
            "action": {
                "button": _fit(out.button or "Options", 20),
                "sections": [
                    {
                        "title": _fit(out.button or "Options", 24),
                        "rows": [
                            {"id": cid[:200], "title": _fit(title, 24), **_description(title)}
                            for cid, title in out.choices[:10]
                        ],
                    }
                ],
            },
        }
    return "interactive", {"type": "interactive", "interactive": interactive}, body


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _description(title: str) -> dict[str, str]:
    return {"description": title[:72]} if len(title) > 24 else {}


class BotRunner:
    def __init__(self, engine: Engine, settings: Settings, clock: Clock) -> None:
        self.engine, self.clock = engine, clock
        self.pipeline = Pipeline(engine, None, settings, clock)
        self.claimer = f"{worker_name()}:bot"
        self.lease = timedelta(seconds=settings.drain_lease_seconds)
        self.services = DeskServices(engine, self.pipeline, clock)
        self.bot = load_bot(settings, self.services)
        self.lock = threading.Lock()  # one turn at a time in this process
        self._last_sweep = 0.0

    # Turns ---------------------------------------------------------------------------------

    def handle_pending(self, limit: int = 200) -> int:
        """Answer the stored webhook messages: a batch claimed for this worker (on
        PostgreSQL leased, so another bot worker takes the next batch)."""
        with self.engine.begin() as conn:
            entries = journal.claim_batch(
                conn,
                limit,
                self.claimer,
                self.clock.now(),
                self.lease,
                only_source=WEBHOOK_SOURCE,
            )
        done = 0
        for entry in entries:
            if entry.channel == "whatsapp":
                done += self.handle(entry)
        return done

    def handle(self, entry: JournalEntry) -> int:
        started = time.perf_counter()
        try:
            payload = orjson.loads(entry.payload)
            wa_id, inbound = inbound_of(payload)
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            with self.engine.begin() as conn:
                journal.mark(conn, [], [(entry.id, f"bot: unreadable message: {exc}")])
            return 0
        with self.lock:
            for _ in range(5):
                with self.engine.connect() as conn:
                    session = sessions.load(conn, wa_id)
                expected = session.version if session else None
                now = self.clock.now()
                new, outs = self.bot.turn(wa_id, session, inbound, now)
                new.last_inbound_at = _sent_at(payload) or now
                with self.engine.begin() as conn:
                    if not journal.claim(conn, entry.id, self.claimer):
                        conn.rollback()
                        return 0  # another worker answered it
                    if not sessions.save(conn, new, expected, now):
                        conn.rollback()
                        continue  # the session moved on meanwhile: take the turn again
                    self._queue(conn, wa_id, outs, f"bot:{entry.id}", now)
                TURN_SECONDS.observe(time.perf_counter() - started)
                return 1
        log.warning("bot_turn_gave_up", journal_id=entry.id)
        return 0

    def _queue(
        self, conn: Connection, wa_id: str, outs: list[Outbound], key: str, now: datetime
    ) -> None:
        rows = []
        for i, out in enumerate(outs):
            kind, message, body = render(out)
            rows.append(
                {
                    "idempotency_key": f"{key}:{i}",
                    "channel": "whatsapp",
                    "kind": kind,
                    "payload": {"message": message},
                    "recipient": wa_id,
                    "body": body,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,  # claimed in id order: they go out in order
                    "created_by": "bot",
                    "created_at": now,
                }
            )
        if rows:
            bulk_insert(conn, t.outbox, rows, on_conflict=["idempotency_key"])

    # After resolution ----------------------------------------------------------------------

    def ask_feedback(self, every_seconds: float = 5.0) -> int:
        """Ask 'was it fixed?' once for each WhatsApp ticket an officer marked resolved."""
        if time.monotonic() - self._last_sweep < every_seconds:
            return 0
        self._last_sweep = time.monotonic()
        # One process at a time, or two would both find a ticket not yet asked about.
        with periodic.held(self.engine, "bot-feedback") as mine:
            return self._ask_feedback() if mine else 0

    def _ask_feedback(self) -> int:
        now = self.clock.now()
        c, e, ci = t.tickets.c, t.ticket_events.c, t.citizen_identities.c
        asked = select(e.ticket_id).where(e.action == "feedback_asked")
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c.id, c.ref, ci.external_user_id)
                .join(
                    t.citizen_identities,
                    (ci.citizen_id == c.citizen_id) & (ci.channel == "whatsapp"),
                )
                .where(
                    c.channel == "whatsapp",
                    c.status == "resolved",
                    c.resolved_at >= now - timedelta(days=7),
                    c.id.not_in(asked),
                )
                .limit(100)
            ).all()
        for ticket_id, ref, wa_id in rows:
            with self.lock:
                with self.engine.connect() as conn:
                    session = sessions.load(conn, wa_id) or Session(wa_id, self.bot.flow.start)
                expected = session.version or None
                session.handoff_ref = None
                session.data["feedback_ref"] = ref
                session.updated_at = now
                outs = self.bot.prompt(session, "feedback")  # may read the database: no txn open
                with self.engine.begin() as conn:
                    if not sessions.save(conn, session, expected, now):
                        conn.rollback()
                        continue  # the citizen wrote meanwhile; asked on the next sweep
                    self._queue(conn, wa_id, outs, f"feedback:{ref}", now)
                    conn.execute(
                        t.ticket_events.insert().values(
                            ticket_id=ticket_id,
                            at=now,
                            actor="bot",
                            action="feedback_asked",
                            after={"ref": ref},
                        )
                    )
        return len(rows)
