"""Sends outbox entries to X: replies with POST /2/tweets, private parts as DMs."""

from __future__ import annotations

import time
from typing import Any

import httpx

from sevadesk.channels.x.client import XApiError, XClient
from sevadesk.channels.x.text import fit_reply
from sevadesk.domain.delivery import (
    MaybeSent,
    OutboxEntry,
    ProgressHook,
    RetryLater,
    Sent,
    Undeliverable,
)

_DUPLICATE = "duplicate content"


class XSender:
    channel = "x"

    def __init__(self, client: XClient, public_url: str, long_reply: str = "link") -> None:
        self.client, self.public_url, self.long_reply = client, public_url.rstrip("/"), long_reply
        self._me: str | None = None

    def status_url(self, entry: OutboxEntry) -> str:
        return f"{self.public_url}/status/{entry.ticket_ref or ''}"

    def send(self, entry: OutboxEntry, progress: ProgressHook) -> Sent:
        try:
            if entry.kind == "dm":
                if not entry.recipient:
                    raise Undeliverable("no X user id to send the direct message to")
                return Sent(((self.client.send_dm(entry.recipient, entry.body), entry.body),), "dm")
            return self._post_thread(entry, progress)
        except XApiError as exc:
            raise self._translate(exc) from exc
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise RetryLater(f"could not reach X: {exc}") from exc
        except httpx.TransportError as exc:  # sent, but no answer: it may have been posted
            raise MaybeSent(f"no answer from X: {type(exc).__name__}") from exc

    def _post_thread(self, entry: OutboxEntry, progress: ProgressHook) -> Sent:
        payload: dict[str, Any] = dict(entry.payload)
        parts: list[str] = payload.get("parts") or fit_reply(
            entry.body, self.status_url(entry), self.long_reply
        )
        posted: list[str] = list(payload.get("posted", []))
        if "parts" not in payload:
            payload["parts"] = parts
            progress(payload)
        for part in parts[len(posted) :]:
            # Each part of a split reply answers the previous part, making a thread.
            reply_to = posted[-1] if posted else entry.in_reply_to_id
            posted.append(self.client.post_tweet(part, reply_to))
            payload["posted"] = posted
            progress(payload)
        return Sent(tuple(zip(posted, parts, strict=True)))

    def _translate(self, exc: XApiError) -> Exception:
        if exc.status == 429:
            reset = exc.rate.reset if exc.rate else None
            return RetryLater(exc.detail, max(reset - time.time(), 1.0) if reset else None)
        if exc.status >= 500:
            return RetryLater(f"X {exc.status}: {exc.detail}")
        if exc.status == 403 and _DUPLICATE in exc.detail.lower():
            # X refuses the same text twice from one account: an earlier attempt got through.
            return MaybeSent(exc.detail)
        return Undeliverable(f"X {exc.status}: {exc.detail}")

    def find_sent(self, entry: OutboxEntry) -> Sent | None:
        """Looks for the reply on the account's own timeline (the first part's text under
        the post it answers)."""
        if entry.kind == "dm":
            return None  # X offers no lookup by content for DMs; resending is the safe side
        parts: list[str] = entry.payload.get("parts") or fit_reply(
            entry.body, self.status_url(entry), self.long_reply
        )
        posted: list[str] = list(entry.payload.get("posted", []))
        expected_text = parts[len(posted)] if len(posted) < len(parts) else None
        if expected_text is None:
            return Sent(tuple(zip(posted, parts, strict=True)))
        reply_to = posted[-1] if posted else entry.in_reply_to_id
        if self._me is None:
            self._me = str(self.client.me()["id"])
        timeline = self.client.user_tweets(self._me).get("data") or []
        for tweet in timeline:
            refs = tweet.get("referenced_tweets") or []
            answers = any(r.get("type") == "replied_to" and r.get("id") == reply_to for r in refs)
            if tweet.get("text") == expected_text and (answers or reply_to is None):
                posted.append(str(tweet["id"]))
                if len(posted) == len(parts):
                    return Sent(tuple(zip(posted, parts, strict=True)))
                entry.payload = {**entry.payload, "parts": parts, "posted": posted}
                return None  # the rest of the thread still has to go out
        return None
