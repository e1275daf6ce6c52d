"""Password hashing (argon2id) and API tokens (random, stored only as a SHA-256 digest)."""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def _stand_in_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches. Without a hash to check (no such user, or no password
    set) a stand-in hash with the same parameters is checked and False returned, so that the
    answer takes as long as for a real user: timing tells nothing of who exists."""
    try:
        # surrogatepass: a lone surrogate from a form is checked (and fails), not a crash.
        secret = password.encode("utf-8", "surrogatepass")
        matched = _hasher.verify(password_hash or _stand_in_hash(), secret)
    except (VerificationError, InvalidHashError):
        return False
    return matched and bool(password_hash)


def new_token() -> str:
    return "seva_" + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    # A 256-bit random token needs no slow hash: SHA-256 keeps lookups O(1) and a leaked
    # table useless.
    return hashlib.sha256(token.encode()).hexdigest()
