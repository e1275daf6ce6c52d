"""The background work of one desk process: drain the journal, deliver the outbox, read X,
watch SLAs. `seva serve` runs them beside the web app; each is a thread with its own loop,
so one process on SQLite is a whole desk. Scale-out runs the same loops as separate
workers (`seva worker …`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import Engine

from sevadesk.channels.whatsapp.client import WhatsAppClient
from sevadesk.channels.whatsapp.sender import WhatsAppSender
from sevadesk.channels.x.client import XClient
from sevadesk.channels.x.sender import XSender
from sevadesk.config import Settings
from sevadesk.delivery.receipts import Lookups
from sevadesk.delivery.worker import OutboxWorker
from sevadesk.domain.clock import Clock
from sevadesk.domain.delivery import Sender
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import periodic
from sevadesk.store.org_repo import channel_settings

if TYPE_CHECKING:
    from sevadesk.bot.runner import BotRunner

log = structlog.get_logger(__name__)


def build_senders(engine: Engine, settings: Settings, clock: Clock) -> dict[str, Sender]:
    """A sender for each channel whose credentials are configured."""
    with engine.connect() as conn:
        channels = channel_settings(conn)
    senders: dict[str, Sender] = {}
    if settings.secret("x_user_token"):
        senders["x"] = XSender(
            XClient.from_settings(settings), settings.public_url, channels.x.long_reply
        )
    if settings.secret("whatsapp_token") and settings.whatsapp_phone_number_id:
        lookups = Lookups(engine)
        senders["whatsapp"] = WhatsAppSender(
            WhatsAppClient.from_settings(settings),
            lookups.last_inbound,
            lookups.sent_receipt,
            clock.now,
            channels.whatsapp.update_template,
            channels.whatsapp.template_language,
            settings.whatsapp_status_grace_seconds,
        )
    return senders


class Loop:
    """Calls `step` every `interval` seconds (at once again when it reports work done)."""

    def __init__(self, name: str, step: Callable[[], int], interval: float) -> None:
        self.name, self.step, self.interval = name, step, interval
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                busy = self.step()
            except Exception:  # keep going: the next pass retries
                log.exception("worker_step_failed", worker=self.name)
                busy = 0
            if not busy and self.stop.wait(self.interval):
                return


class Workers:
    def __init__(self, engine: Engine, settings: Settings, clock: Clock) -> None:
        self.engine, self.settings, self.clock = engine, settings, clock
        self.loops: list[Loop] = []
        self.threads: list[threading.Thread] = []
        self.stop_event = threading.Event()
        self.pipeline: Pipeline | None = None
        self.outbox: OutboxWorker | None = None
        self.bot: BotRunner | None = None

    def start(self) -> Workers:
        s = self.settings
        skip: frozenset[str] = frozenset()
        if s.whatsapp_bot:
            from sevadesk.bot.runner import WEBHOOK_SOURCE, BotRunner

            self.bot = BotRunner(self.engine, s, self.clock)
            skip = frozenset({WEBHOOK_SOURCE})  # the bot answers those
        if s.drain_interval_seconds > 0:
            self.pipeline = Pipeline(self.engine, None, s, self.clock, skip_sources=skip)
            pipeline, bot = self.pipeline, self.bot

            def drain() -> int:
                done = 0
                if bot is not None:
                    done += bot.handle_pending()
                    bot.ask_feedback()
                return done + pipeline.drain(s.drain_batch_size).new

            self.loops.append(Loop("journal-drain", drain, s.drain_interval_seconds))
        if s.outbox_interval_seconds > 0:
            self.outbox = OutboxWorker(
                self.engine,
                build_senders(self.engine, s, self.clock),
                self.clock,
                s.outbox_max_attempts,
                # Between two renewals a sender makes at most two calls (WhatsApp's template
                # after a closed window), each cut off at the timeout: the lease outlasts them.
                lease=timedelta(
                    seconds=max(s.outbox_lease_seconds, 2 * s.outbox_timeout_seconds + 10)
                ),
            )
            self.loops.append(Loop("outbox", self.outbox.run_once, s.outbox_interval_seconds))
        if s.sla_interval_seconds > 0:
            self.loops.append(Loop("sla-watch", self._sla_pass, s.sla_interval_seconds))
        for loop in self.loops:
            loop.thread.start()
        if s.x_ingest in ("stream", "poll"):
            self._start_x(s.x_ingest)
        return self

    def _sla_pass(self) -> int:
        from sevadesk.tickets.actions import sla_pass

        with self.engine.begin() as conn:
            # One process at a time: an escalation happens once per breach however many
            # servers and workers run this loop.
            if not periodic.try_lock(conn, "sla-pass"):
                return 0
            done, _deemed = sla_pass(conn, self.clock.now())
        if done:
            log.info("sla_escalations", count=len(done))
        return 0

    def _start_x(self, mode: str) -> None:
        from sevadesk.channels.x.stream import XSearchPoller, XStreamConsumer

        client = XClient.from_settings(self.settings)
        reader = (XStreamConsumer if mode == "stream" else XSearchPoller)(
            client, self.engine, self.settings, self.clock, self.stop_event
        )

        def run() -> None:
            try:
                reader.run()
            except Exception:
                log.exception("x_reader_stopped")

        thread = threading.Thread(target=run, name=f"x-{mode}", daemon=True)
        thread.start()
        self.threads.append(thread)

    def stop(self) -> None:
        self.stop_event.set()
        for loop in self.loops:
            loop.stop.set()
        for loop in self.loops:
            loop.thread.join(timeout=5)
        for thread in self.threads:
            thread.join(timeout=5)
