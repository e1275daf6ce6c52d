"""GeoReport v2 (open311.org/georeport-v2): services from the category taxonomy, requests
read into the journal, tickets shown as service requests, JSON or XML.

A POSTed request is journaled as `{"client": ..., "fields": {...}}`; its external id is a
digest of the client and the fields, so a client retrying the same POST files it once.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

import orjson

from sevadesk.channels.errors import PayloadError
from sevadesk.domain.messages import InboundMessage
from sevadesk.triage.rules import Taxonomy

CHANNEL = "open311"
MAX_DESCRIPTION = 4000
# Every field the spec lets a client send on POST /requests.
FIELDS = (
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
    "description",
    "media_url",
)


# The longest value each field may have. A phone number has at most 15 digits (ITU-T E.164)
# and an e-mail address 254 characters (RFC 5321), with room for spaces and a "+"; the
# reporter's contact becomes their identity, which the database holds in 255 characters.
FIELD_MAX = {
    "service_code": 40,
    "lat": 40,
    "long": 40,
    "address_string": 500,
    "address_id": 100,
    "email": 254,
    "device_id": 100,
    "account_id": 100,
    "first_name": 100,
    "last_name": 100,
    "phone": 32,
    "media_url": 2000,
}


class GeoReportError(Exception):
    """A request the spec says to refuse, with the HTTP status and the spec's description."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


def services(taxonomy: Taxonomy) -> list[dict[str, Any]]:
    return [
        {
            "service_code": code,
            "service_name": code.replace("_", " ").capitalize(),
            "description": "Complaints about " + code.replace("_", " "),
            "metadata": False,
            "type": "realtime",
            "keywords": ", ".join(k for k in taxonomy.keywords[code][:8] if k.isascii()),
            "group": ", ".join(taxonomy.sectors.get(code, [])),
        }
        for code in taxonomy.names
    ]


def _number(value: str | None, name: str, bound: float) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except ValueError as exc:
        raise GeoReportError(400, f"{name} is not a number") from exc
    if not math.isfinite(number) or abs(number) > bound:
        raise GeoReportError(400, f"{name} is out of range")
    return number


def request_payload(
    client: str,
    form: dict[str, str],
    taxonomy: Taxonomy,
    channel: str = CHANNEL,
    require_location: bool = True,
) -> dict[str, Any]:
    """Validate a POST /requests form as the spec asks; returns what the journal stores.
    The desk's own web form files through the same path (`channel="web"`)."""
    fields = {k: str(form[k]).strip() for k in FIELDS if form.get(k) not in (None, "")}
    for name, value in fields.items():
        if "\x00" in value:
            raise GeoReportError(400, f"{name} contains a NUL character")
        if len(value) > FIELD_MAX.get(name, MAX_DESCRIPTION):
            raise GeoReportError(
                400, f"{name} is longer than {FIELD_MAX.get(name, MAX_DESCRIPTION)} characters"
            )
    code = fields.get("service_code")
    if not code:
        raise GeoReportError(400, "service_code is required")
    if code not in taxonomy.keywords:
        raise GeoReportError(404, f"service_code {code!r} not found")
    lat = _number(fields.get("lat"), "lat", 90)
    lon = _number(fields.get("long"), "long", 180)
    if (lat is None) != (lon is None):
        raise GeoReportError(400, "lat and long go together")
    located = lat is not None or fields.get("address_string") or fields.get("address_id")
    if require_location and not located:
        raise GeoReportError(
            400, "a location is required: lat & long, address_string or address_id"
        )
    description = fields.get("description", "")
    if not description:
        raise GeoReportError(400, "description is required")
    if len(description) > MAX_DESCRIPTION:
        raise GeoReportError(400, f"description is longer than {MAX_DESCRIPTION} characters")
    digest = hashlib.sha256(orjson.dumps([client, fields], option=orjson.OPT_SORT_KEYS)).hexdigest()
    return {
        "channel": channel,
        "client": client,
        "id": ("o311-" if channel == CHANNEL else "web-") + digest[:24],
        "received_at": datetime.now(UTC).isoformat(),
        "fields": fields,
    }


def parse_request(payload: Any) -> InboundMessage:
    """The journal's `open311` adapter."""
    if not isinstance(payload, dict) or not isinstance(payload.get("fields"), dict):
        raise PayloadError("open311: expected {client, id, received_at, fields}")
    fields: dict[str, Any] = payload["fields"]
    description = fields.get("description")
    if not isinstance(description, str) or not description:
        raise PayloadError("open311: fields.description missing")
    channel = payload.get("channel", CHANNEL)
    if channel not in (CHANNEL, "web"):
        raise PayloadError(f"open311: unknown channel {channel!r}")
    request_id = payload.get("id")
    if not isinstance(request_id, str) or not request_id.startswith(("o311-", "web-")):
        raise PayloadError("open311: id missing")
    try:
        received = datetime.fromisoformat(str(payload.get("received_at")))
    except ValueError as exc:
        raise PayloadError("open311: received_at is not an ISO time") from exc
    if received.tzinfo is None:
        raise PayloadError("open311: received_at has no time zone")
    address = fields.get("address_string")
    text = description if not address else f"{description}\nAddress: {address}"
    lat, lon = fields.get("lat"), fields.get("long")
    location = None
    if lat is not None and lon is not None:
        try:
            location = (float(lat), float(lon))
        except (TypeError, ValueError) as exc:
            raise PayloadError("open311: lat/long are not numbers") from exc
    contact = fields.get("email") or fields.get("phone") or fields.get("account_id")
    name = " ".join(str(fields[k]) for k in ("first_name", "last_name") if fields.get(k)) or None
    return InboundMessage(
        channel=channel,
        external_id=request_id,
        # A reporter who gives no contact is anonymous: one citizen per request.
        author_id=f"{payload.get('client')}:{contact}" if contact else request_id,
        author_name=name,
        text=text,
        created_at=received,
        location=location,
        addressed=True,
        filed=True,
        category_hint=str(fields.get("service_code") or "") or None,
    )


_CLOSED = {"resolved", "closed", "rejected", "merged"}


def service_request(ticket: dict[str, Any]) -> dict[str, Any]:
    """A ticket as a GeoReport service request (personal data masked)."""

    def stamp(value: datetime | None) -> str | None:
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None

    category = ticket.get("category")
    return {
        "service_request_id": ticket["ref"],
        "status": "closed" if ticket["status"] in _CLOSED else "open",
        "status_notes": ticket.get("status_notes"),
        "service_name": category.replace("_", " ").capitalize() if category else None,
        "service_code": category,
        "description": ticket.get("masked_text"),
        "agency_responsible": ticket.get("unit_name"),
        "service_notice": None,
        "requested_datetime": stamp(ticket.get("opened_at")),
        "updated_datetime": stamp(ticket.get("updated_at")),
        "expected_datetime": stamp(ticket.get("resolution_due")),
        "address": ticket.get("address"),
        "address_id": None,
        "zipcode": ticket.get("pin"),
        "lat": ticket.get("lat"),
        "long": ticket.get("long"),
        "media_url": ticket.get("media_url"),
    }


def to_xml(root: str, item: str, rows: list[dict[str, Any]]) -> bytes:
    """The spec's XML shape: <root><item><field>value</field>…</item>…</root>."""
    top = ET.Element(root)
    for row in rows:
        element = ET.SubElement(top, item)
        for key, value in row.items():
            child = ET.SubElement(element, key)
            if value is not None:
                child.text = str(value).lower() if isinstance(value, bool) else str(value)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="unicode").encode()
