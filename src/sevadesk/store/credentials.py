"""Password hashing (argon2id) and API tokens (random, stored only as a SHA-256 digest)."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return "seva_" + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    # A 256-bit random token needs no slow hash: SHA-256 keeps lookups O(1) and a leaked
    # table useless.
    return hashlib.sha256(token.encode()).hexdigest()
