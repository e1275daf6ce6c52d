"""The filtered-stream consumer and the recent-search poller, both feeding the journal.

Reconnection follows X's documented backoff (filtered stream, "Handling disconnections"):
network errors back off linearly by 250 ms up to 16 s; HTTP errors exponentially from 5 s up
to 320 s; HTTP 429 until the `x-rate-limit-reset` time (exponentially from one minute when the
header is missing). A connection silent for longer than the keep-alive timeout is dropped.
After any drop, the posts missed are recovered: by reconnecting with `backfill_minutes` where
the access level allows it (Enterprise, up to five minutes), otherwise by recent search with
`since_id` = the newest post stored before the drop. Overlaps are harmless: the message table
keeps one row per tweet id.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import orjson
import structlog
from prometheus_client import Counter
from sqlalchemy import Engine

from sevadesk.channels.errors import PayloadError
from sevadesk.channels.x.client import XApiError, XClient
from sevadesk.channels.x.payloads import parse_stream_event, search_events
from sevadesk.channels.x.rules import org_terms, pack_rules, sync_rules
from sevadesk.config import Settings
from sevadesk.domain.clock import Clock
from sevadesk.domain.numbers import ascii_digits
from sevadesk.pipeline.intake import Intake
from sevadesk.store import ledger

log = structlog.get_logger(__name__)

RECONNECTS = Counter("seva_x_stream_reconnects_total", "Stream reconnections by cause", ["cause"])
RECOVERED = Counter("seva_x_recovered_posts_total", "Posts recovered after a gap", ["how"])

CHANNEL = "x"
STREAM_SOURCE = "x-stream"
SEARCH_SOURCE = "x-search"


class Backoff:
    """Delays before the next connection attempt, per X's rules; `reset()` after success."""

    def __init__(self) -> None:
        self.network = self.http = self.rate = 0

    def reset(self) -> None:
        self.network = self.http = self.rate = 0

    def after_network_error(self) -> float:
        self.network += 1
        return min(0.25 * self.network, 16.0)

    def after_http_error(self) -> float:
        self.http += 1
        return min(5.0 * 2 ** (self.http - 1), 320.0)

    def after_rate_limit(self, reset_epoch: float | None, now_epoch: float) -> float:
        self.rate += 1
        if reset_epoch is not None:
            return max(reset_epoch - now_epoch, 0.0) + 1.0
        return 60.0 * 2 ** (self.rate - 1)


def _newest(events: list[dict[str, object]]) -> tuple[str | None, datetime | None]:
    best: tuple[int, str, datetime | None] | None = None
    for event in events:
        data = event.get("data")
        if not isinstance(data, dict):
            continue
        tid = data.get("id")
        if ascii_digits(tid) and (best is None or int(tid) > best[0]):
            created = data.get("created_at")
            try:
                at = datetime.fromisoformat(created) if isinstance(created, str) else None
            except ValueError:
                at = None
            best = (int(tid), tid, at)
    return (best[1], best[2]) if best else (None, None)


class SearchCatchUp:
    """Reads recent search for each rule, page by page, honouring the rate-limit headers."""

    def __init__(
        self,
        client: XClient,
        intake: Intake,
        sleep: Callable[[float], bool],
        budget: Callable[[], int],
    ) -> None:
        self.client, self.intake, self.sleep, self.budget = client, intake, sleep, budget

    def run(
        self,
        queries: list[str],
        since_id: str | None,
        source: str,
        start_time: datetime | None = None,
    ) -> int:
        """Store every post newer than `since_id`; returns how many were new to the journal."""
        stored = 0
        for query in queries:
            token: str | None = None
            while True:
                if self.budget() <= 0:
                    log.warning("x_read_budget_exhausted", source=source)
                    return stored
                try:
                    page = self.client.search_recent(query, since_id, token, start_time)
                except XApiError as exc:
                    if exc.status == 429:
                        wait = exc.rate.reset if exc.rate and exc.rate.reset else time.time() + 60
                        if self.sleep(max(wait - time.time(), 0.0) + 1.0):
                            return stored
                        continue
                    raise
                events = search_events(page)
                newest_id, newest_at = _newest(events)
                stored += self.intake.store(
                    CHANNEL,
                    source,
                    [orjson.dumps(e).decode() for e in events],
                    newest_id=newest_id,
                    newest_at=newest_at,
                    live=False,
                )
                rate = self.client.last_rate
                exhausted = rate is not None and rate.remaining == 0 and rate.reset
                if exhausted and self.sleep(max((rate.reset or 0) - time.time(), 0.0) + 1.0):
                    return stored
                meta = page.get("meta") or {}
                token = meta.get("next_token") if isinstance(meta, dict) else None
                if not token:
                    break
        return stored


class _XReader:
    """What the stream consumer and the poller share: the journal, the stop flag, the budget."""

    def __init__(
        self,
        client: XClient,
        engine: Engine,
        settings: Settings,
        clock: Clock,
        stop: threading.Event | None = None,
    ) -> None:
        self.client, self.engine, self.settings, self.clock = client, engine, settings, clock
        self.intake = Intake(engine, clock)
        self.stop = stop or threading.Event()
        self.catch_up = SearchCatchUp(client, self.intake, self.stop.wait, self.budget_left)

    def budget_left(self) -> int:
        """Posts this month's budget still allows, across every X source."""
        with self.engine.connect() as conn:
            used = ledger.quota_used(conn, CHANNEL, self.clock.now())
        return self.settings.x_monthly_read_budget - used


class XStreamConsumer(_XReader):
    """Keeps one filtered-stream connection open and every post it carries journaled."""

    FLUSH_EVERY = 100  # events
    FLUSH_AFTER = 0.5  # seconds

    def __init__(
        self,
        client: XClient,
        engine: Engine,
        settings: Settings,
        clock: Clock,
        stop: threading.Event | None = None,
    ) -> None:
        super().__init__(client, engine, settings, clock, stop)
        self.backoff = Backoff()
        self.rules: list[str] = []
        self.connections = 0

    # Ledger --------------------------------------------------------------------------------

    def _state(self, state: str, error: str | None = None) -> None:
        with self.engine.begin() as conn:
            ledger.set_state(conn, STREAM_SOURCE, CHANNEL, state, self.clock.now(), error)

    def _open_gap(self, at_start: bool = False) -> None:
        with self.engine.begin() as conn:
            ledger.ensure(conn, STREAM_SOURCE, CHANNEL, self.clock.now())
            since = ledger.last_id(conn, STREAM_SOURCE)
            # A first start has nothing to recover; any later start or drop has.
            if since is not None or not at_start:
                ledger.open_gap(conn, STREAM_SOURCE, since, self.clock.now())

    # The loop ----------------------------------------------------------------------------

    def sync_rules(self) -> None:
        with self.engine.connect() as conn:
            terms = org_terms(conn)
        self.rules = pack_rules(terms, self.settings.x_rule_max_length)
        change = sync_rules(self.client, self.rules)
        log.info(
            "x_rules_synced", rules=len(self.rules), added=change.added, deleted=change.deleted
        )

    def run(self) -> None:
        """Until `stop` is set: connect, read, and on any drop back off and reconnect."""
        self.sync_rules()
        self._open_gap(at_start=True)  # whatever was posted while the desk was down
        while not self.stop.is_set():
            if self.budget_left() <= 0:
                self._state("stopped", "monthly X read budget used up")
                if self.stop.wait(60):
                    return
                continue
            delay = self.connect_once()
            if delay is not None and self.stop.wait(delay):
                return
        self._state("idle")

    def connect_once(self) -> float | None:
        """One connection's life; returns how long to wait before the next, None for none."""
        backfill = self._backfill_minutes()
        try:
            with self.client.stream(self.settings.x_stream_stall_seconds, backfill) as lines:
                self.connections += 1
                self._state("connected")
                self._recover(backfill)
                self.backoff.reset()
                self._read(lines)
            # The server ended the stream cleanly (X does this on operational disconnects).
            RECONNECTS.labels("closed").inc()
            self._dropped("stream closed by the server")
            return self.backoff.after_network_error()
        except httpx.ReadTimeout:
            RECONNECTS.labels("stall").inc()
            self._dropped(f"no data or keep-alive for {self.settings.x_stream_stall_seconds} s")
            return self.backoff.after_network_error()
        except httpx.TransportError as exc:
            RECONNECTS.labels("network").inc()
            self._dropped(f"network: {type(exc).__name__}: {exc}")
            return self.backoff.after_network_error()
        except XApiError as exc:
            if exc.status == 429:
                RECONNECTS.labels("rate_limited").inc()
                self._dropped(f"rate limited: {exc.detail}")
                reset = exc.rate.reset if exc.rate else None
                return self.backoff.after_rate_limit(reset, time.time())
            RECONNECTS.labels("http").inc()
            self._dropped(str(exc))
            return self.backoff.after_http_error()
        except _BudgetExhausted:
            self._dropped("monthly X read budget used up")
            return None

    def _dropped(self, why: str) -> None:
        log.warning("x_stream_dropped", reason=why)
        self._open_gap()
        self._state("reconnecting", why)

    def _backfill_minutes(self) -> int | None:
        if self.settings.x_access_level != "enterprise":
            return None
        with self.engine.connect() as conn:
            gaps = ledger.open_gaps(conn, STREAM_SOURCE)
        if not gaps:
            return None
        missed = (self.clock.now() - gaps[0]["started_at"]).total_seconds()
        return max(1, min(5, math.ceil(missed / 60)))

    def _recover(self, backfill: int | None) -> None:
        """Connected again: fill every open gap (the stream is already buffering new posts)."""
        with self.engine.begin() as conn:
            gaps = ledger.open_gaps(conn, STREAM_SOURCE)
            for gap in gaps:
                ledger.end_gap(conn, gap["id"], self.clock.now())
        for gap in gaps:
            missed = (self.clock.now() - gap["started_at"]).total_seconds()
            if backfill is not None and missed <= backfill * 60:
                # The stream replays the missed minutes itself.
                recovered, how = 0, "backfill"
            else:
                # Without a post seen yet, search from a little before the drop.
                start = None if gap["since_id"] else gap["started_at"] - timedelta(seconds=30)
                recovered = self.catch_up.run(self.rules, gap["since_id"], STREAM_SOURCE, start)
                how = "search"
            RECOVERED.labels(how).inc(recovered)
            with self.engine.begin() as conn:
                ledger.backfilled(conn, STREAM_SOURCE, gap["id"], recovered, self.clock.now())
            log.info("x_gap_backfilled", gap=gap["id"], how=how, recovered=recovered)

    def _read(self, lines: object) -> None:
        buffer: list[dict[str, object]] = []
        first_at = 0.0
        for line in lines:  # type: ignore[attr-defined]
            if self.stop.is_set():
                break
            if line:
                try:
                    event = orjson.loads(line)
                    parse_stream_event(event)  # refuse what the pipeline could not read
                except (orjson.JSONDecodeError, PayloadError) as exc:
                    # A torn line (connection cut mid-message) or a stream error object:
                    # nothing is lost, the next catch-up reads that post again.
                    log.warning("x_stream_bad_line", error=str(exc)[:200])
                    continue
                if not buffer:
                    first_at = time.monotonic()
                buffer.append(event)
            if buffer and (
                not line
                or len(buffer) >= self.FLUSH_EVERY
                or time.monotonic() - first_at > self.FLUSH_AFTER
            ):
                self._flush(buffer)
                buffer = []
        if buffer:
            self._flush(buffer)

    def _flush(self, events: list[dict[str, object]]) -> None:
        newest_id, newest_at = _newest(events)
        self.intake.store(
            CHANNEL,
            STREAM_SOURCE,
            [orjson.dumps(e).decode() for e in events],
            newest_id=newest_id,
            newest_at=newest_at,
        )
        if self.budget_left() <= 0:
            raise _BudgetExhausted


class _BudgetExhausted(Exception):
    pass


class XSearchPoller(_XReader):
    """For accounts without stream access: recent search every interval, from `since_id`.

    The interval stretches when this month's reads would otherwise overrun the budget."""

    def interval(self) -> float:
        """The configured interval, stretched so reads at this month's pace fit the budget."""
        now = self.clock.now()
        base = self.settings.x_poll_interval_seconds
        with self.engine.connect() as conn:
            used = ledger.quota_used(conn, CHANNEL, now)
        start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        elapsed = max((now - start).total_seconds(), 1.0)
        days = 31 if now.month == 12 else (start.replace(month=now.month + 1) - start).days
        projected = used / elapsed * days * 86400
        budget = self.settings.x_monthly_read_budget
        return base if projected <= budget else base * projected / max(budget, 1)

    def poll_once(self) -> int:
        with self.engine.connect() as conn:
            terms = org_terms(conn)
            since = ledger.last_id(conn, SEARCH_SOURCE)
        with self.engine.begin() as conn:
            ledger.set_state(conn, SEARCH_SOURCE, CHANNEL, "polling", self.clock.now())
        return self.catch_up.run(
            pack_rules(terms, self.settings.x_rule_max_length), since, SEARCH_SOURCE
        )

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.poll_once()
            except (XApiError, httpx.TransportError) as exc:
                log.warning("x_poll_failed", error=str(exc)[:300])
                with self.engine.begin() as conn:
                    ledger.set_state(
                        conn, SEARCH_SOURCE, CHANNEL, "reconnecting", self.clock.now(), str(exc)
                    )
            if self.stop.wait(self.interval()):
                return
