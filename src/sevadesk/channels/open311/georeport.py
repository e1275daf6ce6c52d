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
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import orjson

from sevadesk.channels.errors import PayloadError
from sevadesk.domain import post_text
from sevadesk.domain.messages import InboundMessage
from sevadesk.triage.rules import Taxonomy

CHANNEL = "open311"
MAX_DESCRIPTION = 4000
MAX_MEDIA_URL = 1000
# The service of a ticket with no category, and the code a client sends when none of the
# desk's categories fits: triage then chooses. GeoReport has no null service_code.
OTHER = "other"
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
    ] + [
        {
            "service_code": OTHER,
            "service_name": "Other",
            "description": "Anything else: the desk reads the description and chooses the "
            "category; tickets not yet categorised are listed under this code",
            "metadata": False,
            "type": "realtime",
            "keywords": "",
            "group": "",
        }
    ]


def service_definition(taxonomy: Taxonomy, code: str) -> dict[str, Any]:
    """GET services/{code}: no service asks for extra attributes (metadata is false)."""
    if code != OTHER and code not in taxonomy.keywords:
        raise GeoReportError(404, f"service_code {code!r} not found")
    return {"service_code": code, "attributes": []}


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
    received_at: datetime | None = None,
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
    if code != OTHER and code not in taxonomy.keywords:
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
    media_url = fields.get("media_url", "")
    # The spec makes description optional: a photo of the problem says enough. The desk's
    # own form takes no photo, so there the description is what there is.
    if not description and channel != CHANNEL:
        raise GeoReportError(400, "description is required")
    if not description and not media_url:
        raise GeoReportError(400, "a description or a media_url is required")
    if len(description) > MAX_DESCRIPTION:
        raise GeoReportError(400, f"description is longer than {MAX_DESCRIPTION} characters")
    if media_url and not _web_url(media_url):
        raise GeoReportError(400, "media_url must be an http or https URL")
    digest = hashlib.sha256(orjson.dumps([client, fields], option=orjson.OPT_SORT_KEYS)).hexdigest()
    return {
        "channel": channel,
        "client": client,
        "id": ("o311-" if channel == CHANNEL else "web-") + digest[:24],
        "received_at": (received_at or datetime.now(UTC)).isoformat(),
        "fields": fields,
    }


def _web_url(value: str) -> bool:
    if len(value) > MAX_MEDIA_URL or any(ch.isspace() for ch in value):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def parse_request(payload: Any) -> InboundMessage:
    """The journal's `open311` adapter."""
    if not isinstance(payload, dict) or not isinstance(payload.get("fields"), dict):
        raise PayloadError("open311: expected {client, id, received_at, fields}")
    fields: dict[str, Any] = payload["fields"]
    description = fields.get("description")
    media_url = fields.get("media_url")
    if not isinstance(media_url, str) or not media_url:
        media_url = None
    if not isinstance(description, str) or not description:
        if media_url is None:
            raise PayloadError("open311: fields.description or fields.media_url missing")
        description = f"Photo report: {media_url}"
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
    address = str(address) if address else None
    text = description if not address else f"{description}\nAddress: {address}"
    lat, lon = fields.get("lat"), fields.get("long")
    location = None
    if lat is not None and lon is not None:
        try:
            location = (float(lat), float(lon))
        except (TypeError, ValueError) as exc:
            raise PayloadError("open311: lat/long are not numbers") from exc
    agency = payload.get("agency")
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
        category_hint=_category_hint(fields.get("service_code")),
        address=address,
        media_url=media_url,
        # The desk's form: the handles and hashtags the citizen wrote route as in a post,
        # and the agency they chose (a unit code) wins over both.
        mentions=post_text.mentions(description) if channel == "web" else (),
        hashtags=post_text.hashtags(description) if channel == "web" else (),
        agency=agency if channel == "web" and isinstance(agency, str) and agency else None,
    )


def _category_hint(code: Any) -> str | None:
    """The citizen's chosen category; none for the catch-all service (triage chooses)."""
    return str(code) if code and code != OTHER else None


_CLOSED = {"resolved", "closed", "rejected", "merged"}


def stamp(value: datetime | None) -> str | None:
    """Every GeoReport datetime in one W3C form: UTC, whole seconds, an explicit offset."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


def service_name(code: str) -> str:
    return code.replace("_", " ").capitalize()


def service_request(ticket: dict[str, Any]) -> dict[str, Any]:
    """A ticket as a GeoReport service request (personal data masked; a ticket sent
    privately shows no words and no place: `public_tickets` leaves them out)."""
    code = ticket.get("category") or OTHER
    return {
        "service_request_id": ticket["ref"],
        "status": "closed" if ticket["status"] in _CLOSED else "open",
        "status_notes": ticket.get("status_notes"),
        "service_name": service_name(code),
        "service_code": code,
        "description": ticket.get("masked_text"),
        "agency_responsible": ticket.get("unit_name"),
        "service_notice": None,
        "requested_datetime": stamp(ticket.get("opened_at")),
        "updated_datetime": stamp(ticket.get("updated_at")),
        "expected_datetime": stamp(ticket.get("resolution_due")),
        "address": ticket.get("address"),
        "address_id": None,
        "zipcode": ticket.get("zipcode"),
        "lat": ticket.get("lat"),
        "long": ticket.get("long"),
        "media_url": ticket.get("media_url"),
    }


SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this API last changed in a way a client would notice (the discovery's changeset).
CHANGESET = datetime(2026, 12, 7, 18, 30, tzinfo=UTC)


def discovery(base_url: str, contact: str, key_service: str) -> dict[str, Any]:
    """The Service Discovery document (open311.org/georeport-v2 "Service Discovery")."""
    return {
        "changeset": stamp(CHANGESET),
        "contact": contact,
        "key_service": key_service,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url.rstrip("/") + "/open311/v2",
                "changeset": stamp(CHANGESET),
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }


def tokens(token: str, ref: str | None) -> list[dict[str, Any]]:
    """GET tokens/{token}: the request the token stands for (null while none was opened)."""
    return [{"token": token, "service_request_id": ref}]


def to_xml(root: str, item: str, rows: list[dict[str, Any]]) -> bytes:
    """The spec's XML shape: <root><item><field>value</field>…</item>…</root>; a list field
    is a wrapper whose children take the singular name (endpoints → endpoint)."""
    top = ET.Element(root)
    for row in rows:
        _xml_fields(ET.SubElement(top, item), row)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="unicode").encode()


def to_xml_document(root: str, document: dict[str, Any]) -> bytes:
    """One object as XML (the discovery document)."""
    top = ET.Element(root)
    _xml_fields(top, document)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="unicode").encode()


def _xml_fields(element: ET.Element, fields: dict[str, Any]) -> None:
    for key, value in fields.items():
        child = ET.SubElement(element, key)
        if isinstance(value, list):
            for entry in value:
                grandchild = ET.SubElement(child, key.removesuffix("s"))
                if isinstance(entry, dict):
                    _xml_fields(grandchild, entry)
                else:
                    grandchild.text = str(entry)
        elif value is not None:
            child.text = str(value).lower() if isinstance(value, bool) else str(value)
