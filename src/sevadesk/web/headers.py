"""Security headers on every answer: a Content-Security-Policy that runs only the desk's own
scripts, no framing, no MIME sniffing, no referrer sent off the site, and HSTS over HTTPS."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Scripts only from /static (no inline script, no eval). Inline styles stay allowed: the
# templates set a few style attributes (the reports' heat colours are computed per row),
# and a style cannot run code.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
# The API docs (Swagger UI, ReDoc) load their script and styles from this server
# (fastapi-offline's copies, under DOCS_ASSETS); Swagger UI's page starts with an inline
# script, and ReDoc builds its search index in a worker from a blob: only those pages get them.
DOCS_ASSETS = "/api/docs-assets"
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
DOCS_PATHS = frozenset({"/api/docs", "/api/redoc", "/docs/oauth2-redirect"})


class SecurityHeaders:
    """Pure ASGI middleware (no body buffering, so server-sent events stream as before).

    HSTS goes only on HTTPS answers: browsers ignore it over plain HTTP, and the scheme is
    the one uvicorn resolved (X-Forwarded-Proto counts only from SEVA_FORWARDED_ALLOW_IPS)."""

    def __init__(self, app: ASGIApp, hsts_seconds: int) -> None:
        self.app = app
        self.hsts_seconds = hsts_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"] in DOCS_PATHS else POLICY
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-security-policy", policy)
                headers.setdefault("x-frame-options", "DENY")
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("referrer-policy", "same-origin")
                if https and self.hsts_seconds > 0:
                    headers.setdefault("strict-transport-security", f"max-age={self.hsts_seconds}")
            await send(message)

        await self.app(scope, receive, send_with_headers)
