"""Sends outbox entries to X: replies with POST /2/tweets, private parts as DMs.

A write that timed out or got a 5xx may have been made: the outbox then asks X before it
sends again, reading the account's own posts (its timeline, page by page, from the time
the reply was queued) or its DM events (GET /2/dm_events), for the same text to the same
place.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
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
# How far back of an entry's queuing a lookup starts (clocks differ), and how many pages of
# 100 it reads at most: a reply is looked up within minutes, not after thousands of posts.
_LOOKUP_SLACK = timedelta(minutes=5)
_MAX_PAGES = 20


class XSender:
    channel = "x"
    unknown_grace_seconds = 0.0  # X's lookups answer at once: the usual backoff will do

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
            # X may have made the post before failing: a 5xx to a write is not a "no".
            return MaybeSent(f"X {exc.status}: {exc.detail}")
        if exc.status == 403 and _DUPLICATE in exc.detail.lower():
            # X refuses the same text twice from one account: an earlier attempt got through.
            return MaybeSent(exc.detail)
        return Undeliverable(f"X {exc.status}: {exc.detail}")

    def _my_id(self) -> str:
        if self._me is None:
            self._me = str(self.client.me()["id"])
        return self._me

    @staticmethod
    def _since(entry: OutboxEntry) -> datetime | None:
        return entry.created_at - _LOOKUP_SLACK if entry.created_at else None

    def find_sent(self, entry: OutboxEntry) -> Sent | None:
        """Looks for the reply among the account's own posts since it was queued (the next
        part's text under the post it answers), or for the DM among its DM events."""
        if entry.kind == "dm":
            return self._find_dm(entry)
        parts: list[str] = entry.payload.get("parts") or fit_reply(
            entry.body, self.status_url(entry), self.long_reply
        )
        posted: list[str] = list(entry.payload.get("posted", []))
        expected_text = parts[len(posted)] if len(posted) < len(parts) else None
        if expected_text is None:
            return Sent(tuple(zip(posted, parts, strict=True)))
        reply_to = posted[-1] if posted else entry.in_reply_to_id
        me, since, token = self._my_id(), self._since(entry), None
        for _ in range(_MAX_PAGES):
            page = self.client.user_tweets(me, start_time=since, pagination_token=token)
            for tweet in page.get("data") or []:
                refs = tweet.get("referenced_tweets") or []
                answers = any(
                    r.get("type") == "replied_to" and r.get("id") == reply_to for r in refs
                )
                if tweet.get("text") == expected_text and (answers or reply_to is None):
                    posted.append(str(tweet["id"]))
                    if len(posted) == len(parts):
                        return Sent(tuple(zip(posted, parts, strict=True)))
                    entry.payload = {**entry.payload, "parts": parts, "posted": posted}
                    return None  # the rest of the thread still has to go out
            token = (page.get("meta") or {}).get("next_token")
            if not token:
                return None
        raise MaybeSent(f"not found in the newest {_MAX_PAGES * 100} posts; still unknown")

    def _find_dm(self, entry: OutboxEntry) -> Sent | None:
        if not entry.recipient:
            return None
        me, since, token = self._my_id(), self._since(entry), None
        # A one-to-one conversation's id is its two user ids, the smaller first.
        pair = sorted((me, entry.recipient), key=lambda i: (len(i), i))
        conversation = "-".join(pair)
        for _ in range(_MAX_PAGES):
            page = self.client.dm_events(token)
            for event in page.get("data") or []:
                at = _read_time(event.get("created_at"))
                if since is not None and at is not None and at < since:
                    return None  # newest first: everything further is older still
                if (
                    event.get("sender_id") == me
                    and event.get("dm_conversation_id") == conversation
                    and event.get("text") == entry.body
                ):
                    return Sent(((str(event["id"]), entry.body),), "dm")
            token = (page.get("meta") or {}).get("next_token")
            if not token:
                return None
        raise MaybeSent(f"not found in the newest {_MAX_PAGES * 100} DM events; still unknown")


def _read_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)
