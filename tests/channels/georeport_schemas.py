"""GeoReport v2 response schemas as other people's tools check them, transcribed for the
contract tests (constraints kept, prose descriptions dropped).

Sources (public repositories):

- open311/schema-validation, `schema/georeport-v2/service.json`, `services.json`,
  `request.json`, `requests.json` and `service-definition.json` (JSON Schema draft 4, the
  Open311 community's validator). Transcribed as they are.
- mysociety/open311-adapter, `perllib/Open311/Endpoint/Schema.pm` (the Data::Rx types
  `/open311/service`, `/open311/service_request`, `/open311/datetime`, `/open311/status`,
  `/open311/post_type`, `/open311/example/identifier`) and `perllib/Open311/Endpoint.pm`
  (`POST_Service_Request_output_schema`: `service_request_id` for a realtime service, `token`
  for a batch one; optional `service_notice`, `account_id`). Rx to JSON Schema: `//rec` is a
  closed object (`additionalProperties: false`), `required` keys must be present, `optional`
  ones may be; `//str` a string, `//num` a number, `/open311/bool` a JSON boolean (the
  spec's JSON examples write `"metadata":true`).

Where mySociety's record and the spec differ, the spec wins and the difference is written
here, so a reader sees exactly what the desk does not follow:

1. mySociety's `service_request` requires `address`, `address_id`, `zipcode`, `lat`, `long`
   and `media_url` as non-null values because its Perl objects default them to "" and
   (0, 0). The desk answers null for a value it does not have (the spec's own example has
   `"description":null`; a (0, 0) position would be a lie off the coast of Africa). These
   six keys must be present; each is its type or null.
2. mySociety's record has no `status_notes` nor `expected_datetime`: both are GeoReport v2
   response fields (open311/open311.github.io, `GeoReport_v2/index.md`, GET Service
   Requests), so they are allowed, as string (or date-time) or null.
3. `description`, `agency_responsible`, `service_notice` are optional strings in mySociety's
   record; the desk always sends them, null when empty (as the spec's example does).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

# ---- open311/schema-validation (schema/georeport-v2/*.json) ---------------------------------


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


SERVICE = {
    "required": ["service_code", "service_name", "metadata", "type"],
    "properties": {
        "service_code": {"type": "string"},
        "service_name": {"type": "string"},
        "description": _nullable({"type": "string"}),
        "metadata": {"type": "boolean"},
        "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
        "keywords": _nullable({"type": "string"}),
        "group": _nullable({"type": "string"}),
    },
}
SERVICES = {"type": "array", "items": {"$ref": "service.json", "minItems": 1}}

REQUEST = {
    "required": ["service_request_id", "status", "service_code", "requested_datetime"],
    "properties": {
        "service_request_id": {"type": "string"},
        "status": {"type": "string", "enum": ["open", "closed"]},
        "status_notes": _nullable({"type": "string"}),
        "service_name": _nullable({"type": "string"}),
        "service_code": {"type": "string"},
        "description": _nullable({"type": "string", "maxLength": 4000}),
        "agency_responsible": _nullable({"type": "string"}),
        "service_notice": _nullable({"type": "string"}),
        "requested_datetime": {"type": "string", "format": "date-time"},
        "updated_datetime": _nullable({"type": "string", "format": "date-time"}),
        "expected_datetime": _nullable({"type": "string", "format": "date-time"}),
        "address": _nullable({"type": "string"}),
        "address_id": _nullable({"type": "string"}),
        "zipcode": _nullable({"type": "string"}),
        "lat": _nullable({"type": "number"}),
        "long": _nullable({"type": "number"}),
        "media_url": _nullable({"type": "string", "format": "uri"}),
    },
}
REQUESTS = {"type": "array", "items": {"$ref": "request.json", "minItems": 1}}

SERVICE_DEFINITION = {
    "required": ["service_code", "attributes"],
    "properties": {
        "service_code": {"type": "string"},
        "attributes": {
            "type": "array",
            "items": {
                "required": ["variable", "code", "datatype", "required"],
                "properties": {
                    "variable": {"type": "boolean"},
                    "code": {"type": "string"},
                    "datatype": {
                        "type": "string",
                        "enum": [
                            "string",
                            "number",
                            "datetime",
                            "text",
                            "singlevaluelist",
                            "multivaluelist",
                        ],
                    },
                    "required": {"type": "boolean"},
                    "datatype_description": _nullable({"type": "string"}),
                    "order": _nullable({"type": "integer"}),
                    "description": _nullable({"type": "string"}),
                },
            },
        },
    },
}

# ---- mysociety/open311-adapter (perllib/Open311/Endpoint/Schema.pm, Endpoint.pm) ------------

# /open311/datetime: yyyy-mm-ddThh:mm:ss then Z or ±hh:mm; whole seconds, ASCII digits.
RX_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2})$", re.ASCII)
# /open311/example/identifier, the default type of service_code and service_request_id.
RX_IDENTIFIER = r"^[\w\-_]+$"

MYSOCIETY_SERVICE = {
    "type": "object",
    "required": ["service_name", "type", "metadata", "description", "service_code"],
    "properties": {
        "service_name": {"type": "string"},
        "type": {"enum": ["realtime", "batch", "blackbox"]},
        "metadata": {"type": "boolean"},
        "description": {"type": "string"},
        "service_code": {"type": "string"},
        "keywords": {"type": "string"},
        "group": {"type": "string"},
        "groups": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": False,
}

_RX_DT = {"type": "string", "format": "rx-datetime"}
MYSOCIETY_SERVICE_REQUEST = {
    "type": "object",
    "required": [
        "service_request_id",
        "status",
        "service_name",
        "service_code",
        "requested_datetime",
        "updated_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    ],
    "properties": {
        "service_request_id": {"type": "string", "pattern": RX_IDENTIFIER},
        "status": {"enum": ["open", "closed"]},
        "service_name": {"type": "string"},
        "service_code": {"type": "string", "pattern": RX_IDENTIFIER},
        "requested_datetime": _RX_DT,
        "updated_datetime": _RX_DT,
        # Deviation 1: null for a value the desk does not have.
        "address": _nullable({"type": "string"}),
        "address_id": _nullable({"type": "string"}),
        "zipcode": _nullable({"type": "string"}),
        "lat": _nullable({"type": "number"}),
        "long": _nullable({"type": "number"}),
        "media_url": _nullable({"type": "string"}),
        "request": {"type": "string"},
        # Deviation 3: always sent, null when empty.
        "description": _nullable({"type": "string"}),
        "agency_responsible": _nullable({"type": "string"}),
        "service_notice": _nullable({"type": "string"}),
        # Deviation 2: the spec's fields mySociety's record leaves out.
        "status_notes": _nullable({"type": "string"}),
        "expected_datetime": _nullable(_RX_DT),
    },
    "additionalProperties": False,
}

MYSOCIETY_POSTED = {
    "type": "array",
    "items": {
        "type": "object",
        "oneOf": [
            {"required": ["service_request_id"], "not": {"required": ["token"]}},
            {"required": ["token"], "not": {"required": ["service_request_id"]}},
        ],
        "properties": {
            "service_request_id": {"type": "string", "pattern": RX_IDENTIFIER},
            "token": {"type": "string"},
            "service_notice": {"type": "string"},
            "account_id": {"type": "string"},
        },
        "additionalProperties": False,
    },
}

# ---- validation --------------------------------------------------------------------------

FORMATS = FormatChecker()


@FORMATS.checks("date-time")
def _date_time(value: object) -> bool:
    """RFC 3339 as GeoReport writes it (the w3 note): the desk's form is the Rx one."""
    return not isinstance(value, str) or RX_DATETIME.match(value) is not None


@FORMATS.checks("rx-datetime")
def _rx_datetime(value: object) -> bool:
    return not isinstance(value, str) or RX_DATETIME.match(value) is not None


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme) and bool(parts.netloc) and " " not in value


_REGISTRY: Registry = Registry().with_resources(  # type: ignore[type-arg]
    (name, Resource(contents=schema, specification=DRAFT4))
    for name, schema in (("service.json", SERVICE), ("request.json", REQUEST))
)


def problems(schema: dict[str, Any], document: Any) -> list[str]:
    """Every way `document` fails `schema` (empty when it is valid)."""
    validator = Draft4Validator(schema, registry=_REGISTRY, format_checker=FORMATS)
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def service_list_problems(services: Any) -> list[str]:
    found = problems(SERVICES, services)
    for i, service in enumerate(services if isinstance(services, list) else []):
        found += [f"[{i}] mySociety {p}" for p in problems(MYSOCIETY_SERVICE, service)]
    return found


def request_list_problems(requests: Any) -> list[str]:
    found = problems(REQUESTS, requests)
    for i, request in enumerate(requests if isinstance(requests, list) else []):
        found += [f"[{i}] mySociety {p}" for p in problems(MYSOCIETY_SERVICE_REQUEST, request)]
    return found
