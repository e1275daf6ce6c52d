"""Filing a request made through the desk's own endpoints (Open311, the web form): stored
and processed at once, so the caller learns the ticket reference in the same answer."""

from __future__ import annotations

import threading
from typing import Any

import orjson
from fastapi import Request
from sqlalchemy import Engine

from sevadesk.channels.open311.georeport import GeoReportError
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store.org_repo import org_taxonomy
from sevadesk.tickets.queries import ticket_of_message
from sevadesk.triage.rules import Taxonomy

_lock = threading.Lock()


def _pipeline(request: Request) -> Pipeline:
    state = request.app.state
    if getattr(state, "filing_pipeline", None) is None:
        state.filing_pipeline = Pipeline(state.engine, None, state.settings, state.clock)
    pipeline: Pipeline = state.filing_pipeline
    return pipeline


def taxonomy(engine: Engine) -> Taxonomy:
    with engine.connect() as conn:
        return org_taxonomy(conn)


def file_request(request: Request, payload: dict[str, Any], source: str) -> str | None:
    """Journal and process one request; the ticket reference, or None when routing rules
    said to ignore it."""
    pipeline = _pipeline(request)
    with _lock:  # a Pipeline serves one thread at a time
        summary = pipeline.ingest(payload["channel"], source, [orjson.dumps(payload).decode()])
    if summary.rejected:
        raise GeoReportError(400, summary.rejections[0].reason)
    with request.app.state.engine.connect() as conn:
        return ticket_of_message(conn, payload["channel"], payload["id"])
