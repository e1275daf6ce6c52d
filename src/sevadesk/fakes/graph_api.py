"""A fake of Meta's Graph API for the WhatsApp Cloud API: the messages endpoint (text,
template, interactive, validated as Meta validates them), the phone-number lookup, and
webhook deliveries signed with the app secret (citizen messages and delivery statuses).

Meta's rules it enforces: free-form messages only within 24 hours of the citizen's last
message (error 131047 otherwise), only approved templates with the right parameter count,
interactive limits (3 buttons of 20 characters; 10 list rows of 24). As on Meta, a message's
fate is told only by its status webhooks (sent, delivered, read, or failed), each echoing the
`biz_opaque_callback_data` it was sent with: there is no endpoint to ask.

Faults: `fail` refuses the next requests; `fail_after_accepting` accepts a message (it goes
out, its statuses follow) and then answers a 5xx or answers too late; `statuses_late` holds
the status webhooks back; `slow` makes every call take its time.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from typing import Any

import httpx
import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from sevadesk.channels.signatures import meta_signature
from sevadesk.domain.numbers import ascii_digits

WINDOW_SECONDS = 24 * 3600
_SEND_COMPONENTS = frozenset({"header", "body", "button"})


def _error(status: int, code: int, message: str, details: str | None = None) -> Response:
    error: dict[str, Any] = {
        "message": f"(#{code}) {message}",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEfGhIjK",
    }
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return JSONResponse({"error": error}, status_code=status)


class FakeGraph:
    def __init__(
        self,
        token: str,
        app_secret: str,
        phone_number_id: str = "1122334455667",
        display_number: str = "911123380000",
        templates: dict[str, int] | None = None,
    ) -> None:
        self.token, self.app_secret = token, app_secret
        self.phone_number_id, self.display_number = phone_number_id, display_number
        self.templates = templates if templates is not None else {"ticket_update": 2}
        self.webhook_url: str | None = None
        self.send_statuses = True
        self.lock = threading.Lock()
        self.sent: list[dict[str, Any]] = []
        self.last_inbound: dict[str, float] = {}
        self.failing: list[tuple[int, int]] = []
        self.after_accepting: list[int | str] = []  # a status to answer, or "timeout"
        self.accepted_delay = 2.0
        self.status_delay = 0.05  # before the first status webhook, then 0.05 s apart
        self.call_delay = 0.0
        self.accepted: list[dict[str, Any]] = []  # messages that went out, with their wamid
        self._ids = itertools.count(1)

    # Test controls -------------------------------------------------------------------------

    def fail(self, status: int, code: int, times: int = 1) -> None:
        self.failing.extend([(status, code)] * times)

    def fail_after_accepting(self, *faults: int | str, delay: float = 2.0) -> None:
        """The next messages go out, then the answer is a 5xx (code 131000, "Something went
        wrong") or, for "timeout", comes `delay` seconds late."""
        with self.lock:
            self.after_accepting.extend(faults)
            self.accepted_delay = delay

    def statuses_late(self, seconds: float) -> None:
        self.status_delay = seconds

    def slow(self, seconds: float) -> None:
        """Every call takes this long to answer (a loaded Graph API)."""
        self.call_delay = seconds

    def _wamid(self) -> str:
        return f"wamid.HBgM{next(self._ids):012d}"

    def _envelope(self, value: dict[str, Any]) -> dict[str, Any]:
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "102290129340398",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": self.display_number,
                                    "phone_number_id": self.phone_number_id,
                                },
                                **value,
                            },
                        }
                    ],
                }
            ],
        }

    def message_body(
        self,
        wa_id: str,
        text: str | None = None,
        name: str = "Citizen",
        at: float | None = None,
        context_id: str | None = None,
        message: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The webhook body Meta sends when a citizen writes (`message` overrides the text)."""
        stamp = at if at is not None else time.time()
        with self.lock:
            self.last_inbound[wa_id] = max(self.last_inbound.get(wa_id, 0.0), stamp)
            wamid = self._wamid()
        msg: dict[str, Any] = message or {"type": "text", "text": {"body": text or ""}}
        msg = {"from": wa_id, "id": wamid, "timestamp": str(int(stamp)), **msg}
        if context_id:
            msg["context"] = {"from": self.display_number, "id": context_id}
        return self._envelope(
            {"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [msg]}
        )

    def revoke_body(self, wa_id: str, wamid: str, at: float | None = None) -> dict[str, Any]:
        """The citizen deletes message `wamid` for everyone: Meta's `revoke` message."""
        return self._revision(wa_id, "revoke", {"original_message_id": wamid}, at)

    def edit_body(
        self, wa_id: str, wamid: str, text: str, at: float | None = None
    ) -> dict[str, Any]:
        """The citizen edits message `wamid`: Meta's `edit` message, carrying the new one."""
        edited = {"type": "text", "text": {"body": text}}
        return self._revision(wa_id, "edit", {"original_message_id": wamid, "message": edited}, at)

    def _revision(
        self, wa_id: str, kind: str, value: dict[str, Any], at: float | None
    ) -> dict[str, Any]:
        stamp = str(int(at if at is not None else time.time()))
        with self.lock:
            wamid = self._wamid()
        msg = {"from": wa_id, "id": wamid, "timestamp": stamp, "type": kind, kind: value}
        return self._envelope(
            {"contacts": [{"profile": {"name": "Citizen"}, "wa_id": wa_id}], "messages": [msg]}
        )

    def status_body(
        self, wamid: str, status: str, to: str, callback: str | None = None
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": wamid,
            "status": status,
            "timestamp": str(int(time.time())),
            "recipient_id": to,
        }
        if callback:
            item["biz_opaque_callback_data"] = callback
        if status == "failed":
            item["errors"] = [{"code": 131026, "title": "Message undeliverable"}]
        else:
            item["conversation"] = {"id": "conv-" + to, "origin": {"type": "service"}}
            item["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "service"}
        return self._envelope({"statuses": [item]})

    def deliver(self, body: dict[str, Any], secret: str | None = "") -> httpx.Response:
        """POST to the desk's webhook, signed with the app secret (or `secret` when given;
        None sends no signature)."""
        assert self.webhook_url, "set webhook_url first"
        raw = orjson.dumps(body)
        headers = {"content-type": "application/json"}
        if secret is not None:
            headers["x-hub-signature-256"] = meta_signature(secret or self.app_secret, raw)
        return httpx.post(self.webhook_url, content=raw, headers=headers, timeout=10)

    def citizen_says(self, wa_id: str, text: str, **kw: Any) -> httpx.Response:
        return self.deliver(self.message_body(wa_id, text, **kw))

    # Validation ---------------------------------------------------------------------------

    def _validate(self, body: dict[str, Any]) -> Response | None:
        if body.get("messaging_product") != "whatsapp":
            return _error(400, 100, "Invalid parameter", "messaging_product must be whatsapp")
        to = body.get("to")
        if not ascii_digits(to):
            return _error(400, 100, "Invalid parameter", "to must be a phone number")
        kind = body.get("type", "text")
        if kind == "text":
            text = (body.get("text") or {}).get("body")
            if not isinstance(text, str) or not 0 < len(text) <= 4096:
                return _error(400, 100, "Invalid parameter", "text.body must be 1-4096 chars")
        elif kind == "template":
            tpl = body.get("template") or {}
            wanted = self.templates.get(tpl.get("name"))
            if wanted is None:
                return _error(404, 132001, "Template name does not exist in the translation")
            components = tpl.get("components", [])
            # Sending a template names its components in lower case ("header", "body",
            # "button": Cloud API messages reference, component object); the upper-case
            # HEADER/BODY/BUTTONS belong to creating a template (message_templates).
            for c in components:
                if c.get("type") not in _SEND_COMPONENTS:
                    return _error(
                        400,
                        100,
                        "Invalid parameter",
                        "template.components[].type must be one of header, body, button, "
                        f"not {c.get('type')!r}",
                    )
            params = [p for c in components for p in c.get("parameters", [])]
            if len(params) != wanted:
                return _error(400, 132000, "Number of parameters does not match")
            for p in params:
                text = p.get("text", "")
                if "\n" in text or "\t" in text or "     " in text:
                    return _error(400, 132018, "There was an issue with the parameters")
        elif kind == "interactive":
            problem = _interactive_problem(body.get("interactive") or {})
            if problem:
                return _error(400, 131009, "Parameter value is not valid", problem)
        else:
            return _error(400, 100, "Invalid parameter", f"unsupported type {kind}")
        if kind != "template":
            last = self.last_inbound.get(to)
            if last is None or time.time() - last > WINDOW_SECONDS:
                return _error(
                    400,
                    131047,
                    "Re-engagement message",
                    "Message failed to send because more than 24 hours have passed since the"
                    " customer last replied to this number.",
                )
        return None

    def _statuses_later(self, wamid: str, to: str, callback: str | None) -> None:
        if not (self.webhook_url and self.send_statuses):
            return

        delay = self.status_delay

        def run() -> None:
            time.sleep(max(delay - 0.05, 0.0))
            for status in ("sent", "delivered", "read"):
                time.sleep(0.05)
                try:
                    self.deliver(self.status_body(wamid, status, to, callback))
                except httpx.HTTPError:
                    return

        threading.Thread(target=run, daemon=True).start()


def _interactive_problem(inter: dict[str, Any]) -> str | None:
    if not isinstance((inter.get("body") or {}).get("text"), str):
        return "interactive.body.text is required"
    action = inter.get("action") or {}
    if inter.get("type") == "button":
        buttons = action.get("buttons") or []
        if not 1 <= len(buttons) <= 3:
            return "1 to 3 buttons"
        if any(len((b.get("reply") or {}).get("title", "")) > 20 for b in buttons):
            return "button titles are at most 20 characters"
    elif inter.get("type") == "list":
        rows = [r for s in action.get("sections") or [] for r in s.get("rows") or []]
        if not 1 <= len(rows) <= 10:
            return "1 to 10 list rows"
        if any(len(r.get("title", "")) > 24 for r in rows):
            return "row titles are at most 24 characters"
        if len(action.get("button", "")) > 20 or not action.get("button"):
            return "action.button is required, at most 20 characters"
    else:
        return "interactive.type must be button or list"
    return None


def create_fake_graph(fake: FakeGraph) -> FastAPI:
    app = FastAPI(title="fake Graph API (WhatsApp Cloud API)")

    @app.middleware("http")
    async def auth(request: Request, call_next: Any) -> Response:
        if request.headers.get("authorization") != f"Bearer {fake.token}":
            return _error(401, 190, "Invalid OAuth access token")
        if fake.call_delay:
            await asyncio.sleep(fake.call_delay)
        response: Response = await call_next(request)
        return response

    @app.get("/{version}/{phone_number_id}")
    def phone(version: str, phone_number_id: str) -> Response:
        if phone_number_id != fake.phone_number_id:
            return _error(400, 100, "Unsupported get request")
        return JSONResponse(
            {
                "verified_name": "Seva Helpdesk",
                "display_phone_number": fake.display_number,
                "quality_rating": "GREEN",
                "id": fake.phone_number_id,
            }
        )

    @app.post("/{version}/{phone_number_id}/messages")
    async def messages(version: str, phone_number_id: str, request: Request) -> Response:
        if phone_number_id != fake.phone_number_id:
            return _error(400, 100, "Unsupported post request")
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error(400, 100, "Invalid parameter", "body is not JSON")
        with fake.lock:
            fake.sent.append(body)
            if fake.failing:
                status, code = fake.failing.pop(0)
                return _error(status, code, "injected fault")
            problem = fake._validate(body)
            if problem is not None:
                return problem
            wamid = fake._wamid()
            fake.accepted.append({**body, "wamid": wamid})
            fault = fake.after_accepting.pop(0) if fake.after_accepting else None
        fake._statuses_later(wamid, body["to"], body.get("biz_opaque_callback_data"))
        if fault == "timeout":
            await asyncio.sleep(fake.accepted_delay)  # the client has given up by now
        elif isinstance(fault, int):
            return _error(fault, 131000, "Something went wrong")
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": wamid}],
            }
        )

    return app
