"""Stage 2: each channel's adapter turns a raw journal payload into an InboundMessage, which
must also be storable (pipeline/bounds.py) or its entry is rejected with the reason."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from sevadesk.channels.errors import PayloadError
from sevadesk.channels.open311.georeport import parse_request
from sevadesk.channels.whatsapp.payloads import parse_message
from sevadesk.channels.x.payloads import parse_x_payload
from sevadesk.domain.messages import InboundMessage
from sevadesk.pipeline import bounds
from sevadesk.pipeline.batch import Item, JournalEntry

Adapter = Callable[[Any], InboundMessage]

ADAPTERS: dict[str, Adapter] = {
    "x": parse_x_payload,
    "whatsapp": parse_message,
    "open311": parse_request,
    "web": parse_request,
}


def normalise(entries: Sequence[JournalEntry]) -> tuple[list[Item], list[tuple[int, str]]]:
    """Returns (items, rejected) where rejected pairs a journal id with the reason."""
    items: list[Item] = []
    rejected: list[tuple[int, str]] = []
    for entry in entries:
        adapter = ADAPTERS.get(entry.channel)
        if adapter is None:
            rejected.append((entry.id, f"no adapter for channel {entry.channel!r}"))
            continue
        try:
            msg = adapter(orjson.loads(entry.payload))
        except orjson.JSONDecodeError as exc:
            rejected.append((entry.id, f"not JSON: {exc}"))
            continue
        except PayloadError as exc:
            rejected.append((entry.id, str(exc)))
            continue
        try:
            items.append(Item(entry.id, bounds.storable(msg)))
        except ValueError as exc:
            rejected.append((entry.id, str(exc)))
    return items, rejected
