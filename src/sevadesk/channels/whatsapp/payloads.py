"""Read WhatsApp Cloud API webhook bodies.

A delivery is `{"object": "whatsapp_business_account", "entry": [{"changes": [{"field",
"value"}]}]}`; a `messages` change carries `metadata`, `contacts`, and `messages` and/or
`statuses`. `split_webhook` turns one delivery into one journal payload per citizen message
(with its metadata and contact), the delivery statuses, and the events that open nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sevadesk.channels.errors import PayloadError
from sevadesk.domain.messages import InboundMessage
from sevadesk.domain.numbers import ascii_digits
from sevadesk.domain.revisions import DELETED, EDITED, Revision

CHANNEL = "whatsapp"
MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")
# Message types that are not something the citizen asks of the desk.
NOT_A_MESSAGE = frozenset(
    {"reaction", "unsupported", "system", "order", "revoke", "ephemeral", "edit", "request_welcome"}
)
_REPLIES = ("button_reply", "list_reply", "nfm_reply")
STATUSES = ("sent", "delivered", "read", "failed", "played", "deleted")


@dataclass(slots=True, frozen=True)
class DeliveryStatus:
    wamid: str
    status: str
    at: datetime
    recipient_id: str | None
    error: str | None = None
    callback_data: str | None = None  # biz_opaque_callback_data: the desk's idempotency key


@dataclass(slots=True)
class WebhookBatch:
    messages: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[DeliveryStatus] = field(default_factory=list)
    other: list[dict[str, Any]] = field(default_factory=list)  # stored, open nothing
    # Citizens' `revoke` and `edit` of earlier messages (also stored among `other`).
    revisions: list[Revision] = field(default_factory=list)
    # `user_changed_number` system messages: (old wa_id, new wa_id), also among `other`.
    number_changes: list[NumberChange] = field(default_factory=list)


@dataclass(slots=True, frozen=True)
class NumberChange:
    """Meta's system message when a citizen moves their WhatsApp account to a new number:
    `from` is the old number, `system.wa_id` the new one."""

    old: str
    new: str
    event_id: str
    at: datetime


def _number_change(message: dict[str, Any]) -> NumberChange | None:
    system = message.get("system")
    if message.get("type") != "system" or not isinstance(system, dict):
        return None
    if system.get("type") != "user_changed_number":
        return None
    old, new, event = message.get("from"), system.get("wa_id"), message.get("id")
    if not all(ascii_digits(v) for v in (old, new)) or not isinstance(event, str) or old == new:
        return None  # kept among `other`, links nothing
    try:
        at = _time(message.get("timestamp"), "message.timestamp")
    except PayloadError:
        return None
    return NumberChange(str(old), str(new), event, at)


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{where}: expected an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{where}: expected a list")
    return value


def _time(value: Any, where: str) -> datetime:
    if not ascii_digits(value) and not isinstance(value, int):
        raise PayloadError(f"{where}: expected seconds since the epoch")
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise PayloadError(f"{where}: out of range: {value!r}"[:200]) from exc


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{where}: expected a non-empty string")
    return value


def _status(raw: Any, where: str) -> DeliveryStatus:
    item = _obj(raw, where)
    status = _str(item.get("status"), f"{where}.status")
    errors = _list(item.get("errors"), f"{where}.errors")
    error = None
    if errors:
        first = _obj(errors[0], f"{where}.errors[0]")
        details = first.get("error_data")
        detail = details.get("details") if isinstance(details, dict) else None
        error = f"{first.get('code')}: {first.get('title') or first.get('message')}"
        if detail:
            error += f" ({detail})"
    recipient = item.get("recipient_id")
    callback = item.get("biz_opaque_callback_data")
    return DeliveryStatus(
        wamid=_str(item.get("id"), f"{where}.id"),
        status=status,
        at=_time(item.get("timestamp"), f"{where}.timestamp"),
        recipient_id=recipient if isinstance(recipient, str) else None,
        error=error,
        callback_data=callback if isinstance(callback, str) else None,
    )


def _empty_interactive(message: dict[str, Any]) -> bool:
    """Interactive events that carry no answer (call permissions, failed deliveries)."""
    if message.get("type") != "interactive":
        return False
    inter = message.get("interactive")
    return not (isinstance(inter, dict) and any(isinstance(inter.get(k), dict) for k in _REPLIES))


def split_webhook(body: Any) -> WebhookBatch:
    """One webhook delivery → what to journal, which statuses to record, what else came."""
    root = _obj(body, "body")
    if root.get("object") != "whatsapp_business_account":
        raise PayloadError("object: expected 'whatsapp_business_account'")
    batch = WebhookBatch()
    for i, entry in enumerate(_list(root.get("entry"), "entry")):
        entry = _obj(entry, f"entry[{i}]")
        for j, change in enumerate(_list(entry.get("changes"), f"entry[{i}].changes")):
            where = f"entry[{i}].changes[{j}]"
            change = _obj(change, where)
            value = _obj(change.get("value"), f"{where}.value")
            if change.get("field") != "messages":
                batch.other.append({"field": change.get("field"), "value": value})
                continue
            metadata = _obj(value.get("metadata") or {}, f"{where}.value.metadata")
            contacts = {
                c["wa_id"]: c
                for c in _list(value.get("contacts"), f"{where}.value.contacts")
                if isinstance(c, dict) and isinstance(c.get("wa_id"), str)
            }
            for k, message in enumerate(_list(value.get("messages"), f"{where}.value.messages")):
                message = _obj(message, f"{where}.value.messages[{k}]")
                if message.get("type") in NOT_A_MESSAGE or _empty_interactive(message):
                    batch.other.append({"field": "messages", "value": message})
                    if (revision := _revision(message)) is not None:
                        batch.revisions.append(revision)
                    if (change := _number_change(message)) is not None:
                        batch.number_changes.append(change)
                    continue
                # A sender that is not a string is reported when the message itself is parsed.
                sender = message.get("from")
                contact = contacts.get(sender) if isinstance(sender, str) else None
                batch.messages.append(
                    {"metadata": metadata, "contact": contact, "message": message}
                )
            for k, status in enumerate(_list(value.get("statuses"), f"{where}.value.statuses")):
                batch.statuses.append(_status(status, f"{where}.value.statuses[{k}]"))
    return batch


def _revision(message: dict[str, Any]) -> Revision | None:
    """A citizen's `revoke` (they deleted the message for everyone) or `edit` (new words for
    it), which name the message by `original_message_id`. A type `unsupported` with errors
    names no message, so it revises nothing; a malformed revision is kept, not applied."""
    kind = message.get("type")
    inner = message.get(kind) if kind in ("revoke", "edit") else None
    original = inner.get("original_message_id") if isinstance(inner, dict) else None
    event = message.get("id")
    if not (isinstance(original, str) and original and isinstance(event, str) and event):
        return None
    assert isinstance(inner, dict)
    try:
        at = _time(message.get("timestamp"), "message.timestamp")
        if kind == "revoke":
            return Revision(CHANNEL, original, DELETED, event, at)
        text, _media = _text(_obj(inner.get("message"), "edit.message"))
    except PayloadError:
        return None
    return Revision(CHANNEL, original, EDITED, event, at, text)


def _text(message: dict[str, Any]) -> tuple[str, tuple[tuple[str, str, str], ...]]:
    kind = message.get("type")
    if kind == "text":
        body = _obj(message.get("text"), "message.text").get("body")
        return _str(body, "message.text.body"), ()
    if kind == "interactive":
        inter = _obj(message.get("interactive"), "message.interactive")
        if isinstance(inter.get("nfm_reply"), dict):
            return _flow_answers(inter["nfm_reply"]), ()
        reply = inter.get("button_reply") or inter.get("list_reply")
        reply = _obj(reply, "message.interactive (button_reply, list_reply or nfm_reply)")
        title = reply.get("title") or reply.get("body")
        return _str(title, "message.interactive reply title"), ()
    if kind == "button":
        return _str(_obj(message.get("button"), "message.button").get("text"), "button.text"), ()
    if kind == "location":
        loc = _obj(message.get("location"), "message.location")
        parts = [str(loc[k]) for k in ("name", "address") if isinstance(loc.get(k), str)]
        return "[location] " + ", ".join(parts), ()
    if kind in MEDIA_KINDS:
        media = _obj(message.get(kind), f"message.{kind}")
        media_id = _str(media.get("id"), f"message.{kind}.id")
        mime = media.get("mime_type") if isinstance(media.get("mime_type"), str) else ""
        caption = media.get("caption")
        if kind == "audio":
            # Audio carries no caption: the media id is what an agent needs to fetch it.
            label = "voice note" if media.get("voice") is True else "audio"
            text = f"[{label}, media {media_id}]"
        else:
            text = caption if isinstance(caption, str) and caption else f"[{kind}]"
        return text, ((kind, media_id, mime),)
    if kind == "contacts":
        names = []
        for c in _list(message.get("contacts"), "message.contacts"):
            name = c.get("name") if isinstance(c, dict) else None
            if isinstance(name, dict) and isinstance(name.get("formatted_name"), str):
                names.append(name["formatted_name"])
        return "[contact] " + ", ".join(names), ()
    raise PayloadError(f"message.type: {kind!r} is not a message the desk reads")


def _flow_answers(reply: dict[str, Any]) -> str:
    """A WhatsApp Flow's reply: `body` is only Meta's "Sent"; the citizen's answers are the
    `response_json` string (field → value). Kept as "[form] field: value" lines, without the
    flow_token (the desk's own correlation id, not the citizen's words)."""
    raw = reply.get("response_json")
    answers: Any = None
    if isinstance(raw, str):
        try:
            answers = json.loads(raw)
        except ValueError:
            answers = raw
    elif isinstance(raw, dict):
        answers = raw
    lines: list[str] = []
    if isinstance(answers, dict):
        for key, value in answers.items():
            if key == "flow_token" or value in (None, "", [], {}):
                continue
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            lines.append(f"{key}: {shown}")
    elif isinstance(answers, str) and answers.strip():
        lines.append(answers.strip())
    if not lines:
        body = reply.get("body")
        return _str(body, "message.interactive.nfm_reply (response_json or body)")
    name = reply.get("name")
    head = f"[form {name}]" if isinstance(name, str) and name and name != "flow" else "[form]"
    return "\n".join([head, *lines])


def _location(message: dict[str, Any]) -> tuple[float, float] | None:
    loc = message.get("location")
    if message.get("type") != "location" or not isinstance(loc, dict):
        return None
    lat, lon = loc.get("latitude"), loc.get("longitude")
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        raise PayloadError("message.location: latitude and longitude must be numbers")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise PayloadError("message.location: latitude/longitude out of range")
    return float(lat), float(lon)


def _bot_location(bot: dict[str, Any]) -> tuple[float, float] | None:
    value = bot.get("location")
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) for v in value)
    ):
        return float(value[0]), float(value[1])
    return None


def parse_message(payload: Any) -> InboundMessage:
    """The journal's `whatsapp` adapter: one payload made by `split_webhook`."""
    root = _obj(payload, "payload")
    message = _obj(root.get("message"), "message")
    sender = _str(message.get("from"), "message.from")
    contact = root.get("contact") if isinstance(root.get("contact"), dict) else {}
    profile = contact.get("profile") if isinstance(contact.get("profile"), dict) else {}
    name = profile.get("name") if isinstance(profile.get("name"), str) else None
    context = message.get("context") if isinstance(message.get("context"), dict) else {}
    reply_to = context.get("id") if isinstance(context.get("id"), str) else None
    text, media = _text(message)
    # What the bot adds when it files a conversation as a ticket (see bot/services.py).
    bot = root.get("bot") if isinstance(root.get("bot"), dict) else {}
    handle = bot.get("to") if isinstance(bot.get("to"), str) else None
    extra_media = tuple(
        (str(m[0]), str(m[1]), str(m[2]))
        for m in bot.get("media") or []
        if isinstance(m, list | tuple) and len(m) == 3
    )
    return InboundMessage(
        channel=CHANNEL,
        external_id=_str(message.get("id"), "message.id"),
        author_id=sender,
        author_name=name,
        text=text,
        created_at=_time(message.get("timestamp"), "message.timestamp"),
        in_reply_to_id=reply_to,
        conversation_id=bot.get("conversation")
        if isinstance(bot.get("conversation"), str)
        else None,
        mentions=(handle,) if handle else (),
        media=media + extra_media,
        location=_location(message) or _bot_location(bot),
        addressed=True,
        filed=bool(bot.get("filed")),
        category_hint=bot.get("category") if isinstance(bot.get("category"), str) else None,
        voice_note=message.get("type") == "audio" and not bot,
    )
