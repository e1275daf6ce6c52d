"""Builders for test inputs: X v2 stream events as the filtered stream delivers them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

BASE_TIME = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
_ids = itertools.count(1_800_000_000_000_000_000)


def next_id() -> str:
    return str(next(_ids))


def tweet(
    text: str,
    *,
    id: str | None = None,
    author_id: str = "5001",
    username: str = "citizen_a",
    at: datetime | None = None,
    minutes: float = 0,
    reply_to: str | None = None,
    conversation_id: str | None = None,
    retweet_of: dict[str, Any] | None = None,
    with_entities: bool = False,
) -> dict[str, Any]:
    tweet_id = id or next_id()
    created = (at or BASE_TIME) + timedelta(minutes=minutes)
    data: dict[str, Any] = {
        "id": tweet_id,
        "text": text,
        "author_id": author_id,
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "conversation_id": conversation_id or tweet_id,
    }
    includes: dict[str, Any] = {
        "users": [{"id": author_id, "username": username, "name": username}]
    }
    if reply_to:
        data["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
    if retweet_of:
        data["referenced_tweets"] = [{"type": "retweeted", "id": retweet_of["data"]["id"]}]
        data["text"] = f"RT @someone: {retweet_of['data']['text']}"
        includes["tweets"] = [retweet_of["data"]]
        includes["users"] += retweet_of["includes"]["users"]
    if with_entities:
        data["entities"] = {"mentions": [], "hashtags": []}
    return {"data": data, "includes": includes, "matching_rules": [{"id": "1", "tag": "test"}]}


def line(event: dict[str, Any]) -> str:
    return orjson.dumps(event).decode()


def lines(*events: dict[str, Any]) -> list[str]:
    return [line(e) for e in events]
