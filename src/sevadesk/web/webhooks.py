"""Webhook receivers: WhatsApp Cloud API and X Account Activity.

Every POST is verified against the raw body before anything is read, then stored (journal,
receipts) and committed before the 200 goes back. Missing signature → 401, wrong or stale
(made with a secret no longer configured) → 403; nothing is stored for either. A body that is
signed but not declared JSON is refused (415), one over MAX_BODY (413) as it streams in.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from sevadesk.channels.errors import PayloadError
from sevadesk.channels.signatures import SignatureError, verify, x_crc_response
from sevadesk.channels.whatsapp.payloads import split_webhook
from sevadesk.channels.x.payloads import account_activity_events, tweet_deletions
from sevadesk.config import Settings
from sevadesk.pipeline.deliveries import accept_whatsapp, accept_x, keep_unreadable

MAX_BODY = 3 * 1024 * 1024  # Meta and X deliveries are far smaller
router = APIRouter(prefix="/webhooks", tags=["webhooks"], max_body_size=MAX_BODY)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _is_json(content_type: str) -> bool:
    # Meta and X both send application/json (X adds "; charset=utf-8").
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


async def _verified_json(request: Request, header: str, secrets: list[str], scheme: str) -> Any:
    raw = await request.body()
    try:
        verify(request.headers.get(header), raw, secrets, scheme)
    except SignatureError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    # After the signature, so that a forged delivery is told only that it is forged.
    if not _is_json(request.headers.get("content-type", "")):
        raise HTTPException(415, "a delivery must be sent as application/json")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise HTTPException(400, f"body is not JSON: {exc}") from exc


def _keep(request: Request, channel: str, source: str, body: Any, error: str) -> None:
    raw = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    keep_unreadable(
        request.app.state.engine, channel, source, raw, error, request.app.state.clock.now()
    )


@router.get(
    "/whatsapp",
    # The challenge goes back as plain text; a refusal is JSON, as everywhere else.
    response_class=Response,
    responses={
        200: {
            "description": "hub.challenge, echoed",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
def whatsapp_verify(
    request: Request,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> PlainTextResponse:
    """Meta's subscription check: echo `hub.challenge` when the verify token matches."""
    expected = _settings(request).secret("whatsapp_verify_token")
    if mode != "subscribe" or expected is None or token is None:
        raise HTTPException(403, "verify token does not match")
    if not hmac.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(403, "verify token does not match")
    if not challenge:
        raise HTTPException(400, "hub.challenge missing")
    return PlainTextResponse(challenge)


@router.post("/whatsapp")
async def whatsapp_delivery(request: Request) -> dict[str, Any]:
    settings = _settings(request)
    body = await _verified_json(
        request,
        "x-hub-signature-256",
        Settings.secret_list(settings.whatsapp_app_secrets),
        "meta",
    )
    try:
        batch = split_webhook(body)
    except PayloadError as exc:
        await run_in_threadpool(_keep, request, "whatsapp-event", "wa-webhook", body, str(exc))
        raise HTTPException(422, str(exc)) from exc
    # Database work never runs on the event loop: a wait for SQLite's write lock there would
    # stall every other request, including the one holding the lock.
    accepted = await run_in_threadpool(
        accept_whatsapp, request.app.state.engine, batch, request.app.state.clock.now()
    )
    workers = getattr(request.app.state, "workers", None)
    if accepted.messages and workers is not None and workers.bot is not None:
        # Stored and committed above; now answer at once (the drain loop would pick it up too).
        await run_in_threadpool(workers.bot.handle_pending)
    return {"stored": accepted.as_dict()}


@router.get("/x")
def x_crc(request: Request, crc_token: str) -> dict[str, str]:
    """X's challenge-response check, sent on registration and hourly."""
    secrets = Settings.secret_list(_settings(request).x_consumer_secrets)
    if not secrets:
        raise HTTPException(503, "SEVA_X_CONSUMER_SECRETS is not set")
    return {"response_token": x_crc_response(secrets[0], crc_token)}


@router.post("/x")
async def x_delivery(request: Request) -> dict[str, Any]:
    settings = _settings(request)
    body = await _verified_json(
        request,
        "x-twitter-webhooks-signature",
        Settings.secret_list(settings.x_consumer_secrets),
        "x",
    )
    try:
        payloads, ignored = account_activity_events(body)
        deletions = tweet_deletions(body)
    except PayloadError as exc:
        await run_in_threadpool(_keep, request, "x-event", "x-webhook", body, str(exc))
        raise HTTPException(422, str(exc)) from exc
    accepted = await run_in_threadpool(
        accept_x,
        request.app.state.engine,
        payloads,
        ignored,
        request.app.state.clock.now(),
        deletions,
    )
    return {"stored": accepted.as_dict()}
