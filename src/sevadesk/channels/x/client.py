"""A client for the parts of X API v2 the desk uses, pointed at a configurable base URL.

Two credentials, as X splits them: the app-only bearer token reads (filtered stream, recent
search), the OAuth 2.0 user token of the agency's account writes (replies, DMs).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from sevadesk.config import Settings
from sevadesk.domain.numbers import ascii_digits

# What every read asks for, so one parser reads stream, search and timeline alike.
TWEET_FIELDS = "created_at,author_id,conversation_id,referenced_tweets,entities,lang"
EXPANSIONS = "author_id,referenced_tweets.id"
USER_FIELDS = "username,name"
READ_PARAMS = {"tweet.fields": TWEET_FIELDS, "expansions": EXPANSIONS, "user.fields": USER_FIELDS}


@dataclass(frozen=True, slots=True)
class RateLimit:
    """The `x-rate-limit-*` headers of the last response: requests left and when they reset."""

    limit: int | None
    remaining: int | None
    reset: float | None  # epoch seconds

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> RateLimit:
        def number(name: str) -> int | None:
            value = headers.get(name)
            return int(value) if ascii_digits(value) else None

        reset = number("x-rate-limit-reset")
        return cls(
            number("x-rate-limit-limit"),
            number("x-rate-limit-remaining"),
            float(reset) if reset is not None else None,
        )


def _x_time(at: datetime) -> str:
    """A time as X's query parameters take it (RFC 3339, seconds, UTC)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class XApiError(Exception):
    """X answered with an error status; `detail` is X's own explanation."""

    def __init__(self, status: int, detail: str, rate: RateLimit | None = None) -> None:
        super().__init__(f"X API {status}: {detail}")
        self.status, self.detail, self.rate = status, detail, rate

    @property
    def retryable(self) -> bool:
        return self.status == 429 or self.status >= 500


class MissingCredential(Exception):
    """A call needs a token the configuration does not have."""


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict):
        if body.get("detail"):
            return str(body["detail"])[:300]
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("message") or errors[0].get("detail") or errors[0])[:300]
    return str(body)[:300]


class XClient:
    def __init__(
        self,
        base_url: str,
        bearer_token: str | None,
        user_token: str | None,
        timeout: float = 15.0,
    ) -> None:
        self._bearer = bearer_token
        self._user = user_token
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        self.last_rate: RateLimit | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> XClient:
        return cls(
            settings.x_api_base_url,
            settings.secret("x_bearer_token"),
            settings.secret("x_user_token"),
            settings.outbox_timeout_seconds,
        )

    def close(self) -> None:
        self._http.close()

    def _auth(self, user: bool) -> dict[str, str]:
        token = self._user if user else self._bearer
        if not token:
            kind = "SEVA_X_USER_TOKEN" if user else "SEVA_X_BEARER_TOKEN"
            raise MissingCredential(f"{kind} is not set")
        return {"Authorization": f"Bearer {token}"}

    def _check(self, response: httpx.Response) -> httpx.Response:
        self.last_rate = RateLimit.from_headers(response.headers)
        if response.status_code >= 400:
            raise XApiError(response.status_code, _detail(response), self.last_rate)
        return response

    def _call(self, method: str, path: str, *, user: bool = False, **kw: Any) -> Any:
        response = self._http.request(method, path, headers=self._auth(user), **kw)
        return self._check(response).json()

    # Filtered stream ---------------------------------------------------------------------

    def stream_rules(self) -> list[dict[str, Any]]:
        rules = self._call("GET", "/2/tweets/search/stream/rules").get("data") or []
        return [r for r in rules if isinstance(r, dict)]

    def change_rules(self, add: list[dict[str, str]], delete_ids: list[str]) -> None:
        if delete_ids:
            self._call(
                "POST", "/2/tweets/search/stream/rules", json={"delete": {"ids": delete_ids}}
            )
        if add:
            self._call("POST", "/2/tweets/search/stream/rules", json={"add": add})

    @contextmanager
    def stream(
        self, stall_seconds: float, backfill_minutes: int | None = None
    ) -> Iterator[Iterator[str]]:
        """Opens the filtered stream; yields its lines ('' for a keep-alive). A silence
        longer than `stall_seconds` raises httpx.ReadTimeout, which the caller treats as a
        dropped connection, as X's documentation asks."""
        params: dict[str, Any] = dict(READ_PARAMS)
        if backfill_minutes:
            params["backfill_minutes"] = backfill_minutes
        timeout = httpx.Timeout(10.0, read=stall_seconds)
        with self._http.stream(
            "GET",
            "/2/tweets/search/stream",
            params=params,
            headers=self._auth(False),
            timeout=timeout,
        ) as response:
            if response.status_code >= 400:
                response.read()
                self._check(response)
            self.last_rate = RateLimit.from_headers(response.headers)
            yield (line.strip() for line in response.iter_lines())

    # Search and timelines ----------------------------------------------------------------

    def search_recent(
        self,
        query: str,
        since_id: str | None = None,
        next_token: str | None = None,
        start_time: datetime | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {**READ_PARAMS, "query": query, "max_results": 100}
        if start_time is not None and not since_id:
            params["start_time"] = _x_time(start_time)
        if since_id:
            params["since_id"] = since_id
        if next_token:
            params["next_token"] = next_token
        result: dict[str, Any] = self._call("GET", "/2/tweets/search/recent", params=params)
        return result

    def me(self) -> dict[str, Any]:
        data: dict[str, Any] = self._call("GET", "/2/users/me", user=True).get("data") or {}
        return data

    def user_tweets(
        self,
        user_id: str,
        since_id: str | None = None,
        start_time: datetime | None = None,
        pagination_token: str | None = None,
    ) -> dict[str, Any]:
        """One page (up to 100, newest first) of a user's posts; `meta.next_token` names the
        next page."""
        params: dict[str, Any] = {**READ_PARAMS, "max_results": 100}
        if since_id:
            params["since_id"] = since_id
        if start_time is not None:
            params["start_time"] = _x_time(start_time)
        if pagination_token:
            params["pagination_token"] = pagination_token
        result: dict[str, Any] = self._call(
            "GET", f"/2/users/{user_id}/tweets", user=True, params=params
        )
        return result

    def dm_events(self, pagination_token: str | None = None) -> dict[str, Any]:
        """One page (up to 100, newest first) of the account's direct-message events of the
        last 30 days (GET /2/dm_events), with who sent each, in which conversation, when."""
        params: dict[str, Any] = {
            "event_types": "MessageCreate",
            "dm_event.fields": "id,text,event_type,created_at,sender_id,dm_conversation_id",
            "max_results": 100,
        }
        if pagination_token:
            params["pagination_token"] = pagination_token
        result: dict[str, Any] = self._call("GET", "/2/dm_events", user=True, params=params)
        return result

    # Writing -----------------------------------------------------------------------------

    def post_tweet(self, text: str, in_reply_to: str | None) -> str:
        body: dict[str, Any] = {"text": text}
        if in_reply_to:
            body["reply"] = {"in_reply_to_tweet_id": in_reply_to}
        data = self._call("POST", "/2/tweets", user=True, json=body).get("data") or {}
        return str(data["id"])

    def send_dm(self, participant_id: str, text: str) -> str:
        data = (
            self._call(
                "POST",
                f"/2/dm_conversations/with/{participant_id}/messages",
                user=True,
                json={"text": text},
            ).get("data")
            or {}
        )
        return str(data["dm_event_id"])
