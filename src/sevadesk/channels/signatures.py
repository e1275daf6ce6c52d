"""HMAC-SHA256 webhook signatures as X and Meta define them, compared in constant time.

X (Account Activity): the CRC answer is `sha256=` + base64(HMAC(consumer secret, crc_token)),
and every POST carries `x-twitter-webhooks-signature: sha256=<base64 HMAC of the raw body>`.
Meta (WhatsApp Cloud API): `X-Hub-Signature-256: sha256=<hex HMAC of the raw body>` with the
app secret. Secrets are rotated by listing the new one first and the old one after it for the
grace period; a signature made with a secret no longer listed is stale and refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence


class SignatureError(Exception):
    """A webhook request whose signature is missing (401) or does not verify (403)."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.status = status


def _mac(secret: str, body: bytes) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


def x_crc_response(consumer_secret: str, crc_token: str) -> str:
    return "sha256=" + base64.b64encode(_mac(consumer_secret, crc_token.encode())).decode()


def x_signature(consumer_secret: str, body: bytes) -> str:
    return "sha256=" + base64.b64encode(_mac(consumer_secret, body)).decode()


def meta_signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + _mac(app_secret, body).hex()


def verify(header: str | None, body: bytes, secrets: Sequence[str], scheme: str) -> None:
    """Raises SignatureError unless `header` signs `body` with one of `secrets`.

    `scheme` is "x" (base64) or "meta" (hex)."""
    if not secrets:
        raise SignatureError("webhook secret not configured: refusing unsigned deliveries", 503)
    if not header:
        raise SignatureError("signature header missing", 401)
    sign = x_signature if scheme == "x" else meta_signature
    for secret in secrets:
        if hmac.compare_digest(header.strip().encode(), sign(secret, body).encode()):
            return
    raise SignatureError("signature does not match the body", 403)
