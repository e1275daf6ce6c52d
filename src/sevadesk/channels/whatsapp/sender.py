"""Sends outbox entries on WhatsApp, inside the 24-hour customer-service window as text (or
interactive), outside it as the organisation's approved update template, as Meta requires.

Meta offers no way to ask whether a message went out: its status webhooks, which echo the
entry's idempotency key (`biz_opaque_callback_data`), are the only word. So a send whose
answer was lost (a timeout, a 5xx) is unknown until a status names its key or the grace
period passes with none; only then is it sent again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import httpx

from sevadesk.channels.whatsapp.client import (
    GraphApiError,
    WhatsAppClient,
    template_message,
    template_parameter,
    text_message,
)
from sevadesk.domain.delivery import (
    MaybeSent,
    OutboxEntry,
    ProgressHook,
    RetryLater,
    Sent,
    Undeliverable,
)

WINDOW = timedelta(hours=24)
# Meta error codes (Cloud API "Error codes"): throttling, and the window having closed.
_THROTTLED = {4, 80007, 130429, 131048, 131056}
_TRANSIENT = {1, 2, 131000, 131016}
_REENGAGEMENT = 131047


class WhatsAppSender:
    channel = "whatsapp"

    def __init__(
        self,
        client: WhatsAppClient,
        last_inbound: Callable[[str], datetime | None],
        sent_receipt: Callable[[str], str | None],
        now: Callable[[], datetime],
        template: str = "ticket_update",
        language: str = "en",
        unknown_grace_seconds: float = 600.0,
    ) -> None:
        """`last_inbound(wa_id)`: when the citizen last wrote; `sent_receipt(key)`: the wamid a
        status webhook reported for this idempotency key, if any; `unknown_grace_seconds`:
        how long a send whose answer was lost waits for that webhook."""
        self.client, self.last_inbound, self.sent_receipt = client, last_inbound, sent_receipt
        self.now, self.template, self.language = now, template, language
        self.unknown_grace_seconds = unknown_grace_seconds

    def in_window(self, wa_id: str) -> bool:
        last = self.last_inbound(wa_id)
        return last is not None and self.now() - last < WINDOW

    def _template(self, entry: OutboxEntry) -> dict[str, object]:
        params = [entry.ticket_ref or "-", template_parameter(entry.body)]
        return template_message(self.template, self.language, params)

    def send(self, entry: OutboxEntry, progress: ProgressHook) -> Sent:
        if not entry.recipient:
            raise Undeliverable("no WhatsApp number to send to")
        if entry.kind == "template":
            message, kind = entry.payload.get("message") or self._template(entry), "template"
        elif self.in_window(entry.recipient):
            message = entry.payload.get("message") or text_message(entry.body)
            kind = entry.kind if entry.kind == "interactive" else "text"
        else:
            message, kind = self._template(entry), "template"
        try:
            try:
                wamid = self.client.send(entry.recipient, message, entry.idempotency_key)
            except GraphApiError as exc:
                if exc.code != _REENGAGEMENT or kind == "template":
                    raise
                # Our clock and Meta's disagree about the window: Meta's view wins.
                message, kind = self._template(entry), "template"
                wamid = self.client.send(entry.recipient, message, entry.idempotency_key)
        except GraphApiError as exc:
            if exc.code in _THROTTLED or exc.status == 429:
                raise RetryLater(str(exc), 60.0) from exc
            if exc.status >= 500:
                # The message may have gone out before the error ("Something went wrong").
                raise MaybeSent(str(exc)) from exc
            if exc.code in _TRANSIENT:
                raise RetryLater(str(exc)) from exc
            raise Undeliverable(str(exc)) from exc
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise RetryLater(f"could not reach the Graph API: {exc}") from exc
        except httpx.TransportError as exc:
            raise MaybeSent(f"no answer from the Graph API: {type(exc).__name__}") from exc
        return Sent(((wamid, entry.body),), kind)

    def find_sent(self, entry: OutboxEntry) -> Sent | None:
        """A status webhook carrying this entry's key proves the message went out."""
        wamid = self.sent_receipt(entry.idempotency_key)
        return Sent(((wamid, entry.body),)) if wamid else None
