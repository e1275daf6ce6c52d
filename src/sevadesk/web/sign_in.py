"""Password sign-in, for the desk's form and the API's token endpoint alike.

- Throttled per account and per client address (store/sign_in_repo.py): a locked attempt is
  refused before any password is checked, so guessing costs the server nothing.
- argon2 runs off the event loop, at most `password_checks_at_once` at a time: waiting
  attempts hold no thread of the pool that serves everyone else's requests.
- An unknown name costs one argon2 verification too (store/credentials.py), so the time of
  the answer does not tell which names exist; the throttle counts unknown names the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import anyio
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection

from sevadesk.config import Settings
from sevadesk.domain.sign_in import LockoutPolicy, SignInLocked
from sevadesk.store import sign_in_repo
from sevadesk.store.credentials import verify_password
from sevadesk.store.sign_in_repo import ACCOUNT, ADDRESS, Attempt
from sevadesk.store.users_repo import Actor, password_hash_of

T = TypeVar("T")

__all__ = ["SignInFailed", "SignInLocked", "sign_in"]


class SignInFailed(Exception):
    """Wrong username or password (which of the two is not said)."""


def policies(settings: Settings) -> dict[str, LockoutPolicy]:
    first = timedelta(seconds=settings.login_lockout_base_seconds)
    longest = timedelta(seconds=settings.login_lockout_max_seconds)
    return {
        ACCOUNT: LockoutPolicy(settings.login_free_failures, first, longest),
        ADDRESS: LockoutPolicy(settings.login_address_free_failures, first, longest),
    }


def _limiter(request: Request) -> anyio.CapacityLimiter:
    # One limiter per event loop (a test client may run several loops in turn).
    state = request.app.state
    loop = asyncio.get_running_loop()
    held: tuple[Any, anyio.CapacityLimiter] | None = getattr(state, "password_limiter", None)
    if held is None or held[0] is not loop:
        held = (loop, anyio.CapacityLimiter(max(1, state.settings.password_checks_at_once)))
        state.password_limiter = held
    return held[1]


async def sign_in(
    request: Request,
    username: str,
    password: str,
    then: Callable[[Connection, Actor], T],
) -> T:
    """Check `username` and `password`; on success run `then` (open a session, issue a token)
    in the transaction that clears the account's failures. Raises SignInLocked or
    SignInFailed."""
    state = request.app.state
    engine, clock = state.engine, state.clock
    attempt = Attempt.of(username, request.client.host if request.client else None)
    # A name no user can have is not looked up (it may hold a NUL byte, which PostgreSQL
    # refuses in a query); it is checked against the stand-in hash like any unknown name.
    plausible = attempt.account == username

    def look_up() -> tuple[Actor, str | None] | None:
        with engine.connect() as conn:
            lock = sign_in_repo.current_lock(conn, attempt, clock.now())
            if lock is not None:
                raise lock
            return password_hash_of(conn, username) if plausible else None

    found = await run_in_threadpool(look_up)
    matched = await anyio.to_thread.run_sync(
        verify_password, found[1] if found else None, password, limiter=_limiter(request)
    )

    def record() -> T:
        now = clock.now()
        with engine.begin() as conn:
            if found is not None and matched:
                sign_in_repo.clear_account(conn, attempt)
                return then(conn, found[0])
            lock = sign_in_repo.record_failure(conn, attempt, now, policies(state.settings))
        if lock is not None:
            raise lock
        raise SignInFailed

    return await run_in_threadpool(record)
