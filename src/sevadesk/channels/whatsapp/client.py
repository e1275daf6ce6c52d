"""A client for the WhatsApp Cloud API's messages endpoint, at a configurable base URL."""

from __future__ import annotations

from typing import Any

import httpx

from sevadesk.config import Settings


class GraphApiError(Exception):
    """The Graph API's error object: `code` is Meta's error code (131047, 130429 …)."""

    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(f"Graph API {status} (code {code}): {message}")
        self.status, self.code, self.message = status, code, message


class WhatsAppClient:
    def __init__(
        self,
        base_url: str,
        api_version: str,
        phone_number_id: str,
        token: str | None,
        timeout: float = 15.0,
    ) -> None:
        self.phone_number_id = phone_number_id
        self._token = token
        self._http = httpx.Client(base_url=f"{base_url.rstrip('/')}/{api_version}", timeout=timeout)

    @classmethod
    def from_settings(cls, settings: Settings) -> WhatsAppClient:
        return cls(
            settings.whatsapp_base_url,
            settings.whatsapp_api_version,
            settings.whatsapp_phone_number_id,
            settings.secret("whatsapp_token"),
            settings.outbox_timeout_seconds,
        )

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        if not self._token:
            raise GraphApiError(401, 190, "SEVA_WHATSAPP_TOKEN is not set")
        response = self._http.request(
            method, path, headers={"Authorization": f"Bearer {self._token}"}, **kw
        )
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400:
            error = body.get("error") if isinstance(body, dict) else None
            error = error if isinstance(error, dict) else {}
            details = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
            message = str(details.get("details") or error.get("message") or response.text[:200])
            code = error.get("code") if isinstance(error.get("code"), int) else None
            raise GraphApiError(response.status_code, code, message)
        return body if isinstance(body, dict) else {}

    def phone_number(self) -> dict[str, Any]:
        return self._call(
            "GET",
            f"/{self.phone_number_id}",
            params={"fields": "display_phone_number,verified_name,quality_rating"},
        )

    def send(self, to: str, message: dict[str, Any], callback_data: str | None = None) -> str:
        """POST /{phone-number-id}/messages; returns the wamid. `message` holds `type` and
        its object (`text`, `template` or `interactive`)."""
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            **message,
        }
        if callback_data:
            # Echoed back on every status webhook: how the desk proves a send went out.
            body["biz_opaque_callback_data"] = callback_data
        result = self._call("POST", f"/{self.phone_number_id}/messages", json=body)
        messages = result.get("messages")
        if not (isinstance(messages, list) and messages and isinstance(messages[0], dict)):
            raise GraphApiError(200, None, "response without messages[0].id")
        return str(messages[0]["id"])


def text_message(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"preview_url": False, "body": body}}


def template_message(name: str, language: str, parameters: list[str]) -> dict[str, Any]:
    """A template send. The component is `"body"` in lower case, as Meta's Cloud API messages
    reference writes it (component object: type "header", "body" or "button"); the
    upper-case `BODY` that pywa and Meta's template examples use is the vocabulary for
    creating a template (POST /{waba-id}/message_templates), not for sending one."""
    return {
        "type": "template",
        "template": {
            "name": name,
            "language": {"code": language},
            "components": [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": p} for p in parameters],
                }
            ],
        },
    }


def template_parameter(text: str, limit: int = 1000) -> str:
    """Meta refuses template parameters with new lines, tabs or more than four spaces in a
    row; flatten them and keep within the length limit."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
