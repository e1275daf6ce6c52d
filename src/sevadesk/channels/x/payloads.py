"""Read X API v2 filtered-stream events into InboundMessage.

The shape is the one the stream delivers with expansions=author_id,referenced_tweets.id:
`{"data": {...tweet}, "includes": {"users": [...], "tweets": [...]}, "matching_rules": [...]}`.
A retweet collapses onto the post it retweets, so the same complaint retweeted 200 times is one
message (X v2 marks retweets with `referenced_tweets: [{"type": "retweeted", "id": ...}]`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sevadesk.channels.errors import PayloadError
from sevadesk.domain.messages import InboundMessage

CHANNEL = "x"

# Fallbacks for payloads fetched without `entities` in tweet.fields.
_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)", re.UNICODE)
_RT_PREFIX = re.compile(r"^RT @\w{1,15}: ")


def _tweet_id(value: Any, where: str) -> str:
    if isinstance(value, str) and value.isdigit():
        return value
    if isinstance(value, int) and value >= 0:
        return str(value)
    raise PayloadError(f"{where}: expected a numeric id string, got {value!r}")


def _parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise PayloadError("data.created_at: missing (request tweet.fields=created_at)")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise PayloadError(f"data.created_at: not an ISO 8601 time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise PayloadError(f"data.created_at: no time zone in {value!r}")
    return parsed


def _entities(tweet: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    text = tweet.get("text", "")
    ents = tweet.get("entities") or {}
    if "mentions" in ents or "hashtags" in ents:
        mentions = tuple(m["username"] for m in ents.get("mentions", []) if "username" in m)
        hashtags = tuple(h["tag"] for h in ents.get("hashtags", []) if "tag" in h)
    else:
        mentions = tuple(_MENTION.findall(text))
        hashtags = tuple(_HASHTAG.findall(text))
    return mentions, hashtags


def parse_stream_event(event: Any) -> InboundMessage:
    """One filtered-stream line → one InboundMessage; raises PayloadError with the bad key."""
    if not isinstance(event, dict):
        raise PayloadError("expected a JSON object with a 'data' key")
    if "errors" in event and "data" not in event:
        raise PayloadError(f"stream error object: {event['errors']!r}"[:300])
    tweet = event.get("data")
    if not isinstance(tweet, dict):
        raise PayloadError("data: missing or not an object")
    includes = event.get("includes") or {}
    users = {u.get("id"): u for u in includes.get("users", []) if isinstance(u, dict)}
    included_tweets = {t.get("id"): t for t in includes.get("tweets", []) if isinstance(t, dict)}

    referenced = tweet.get("referenced_tweets") or []
    retweeted = next((r for r in referenced if r.get("type") == "retweeted"), None)
    via_retweet = False
    if retweeted is not None:
        original = included_tweets.get(retweeted.get("id"))
        via_retweet = True
        if original is not None:
            tweet = original
            referenced = tweet.get("referenced_tweets") or []
        else:
            # Without the expansion we still know which post it was: keep the retweeter's copy
            # but file it under the original's id so it folds onto the original.
            tweet = {
                **tweet,
                "id": retweeted.get("id"),
                "text": _RT_PREFIX.sub("", tweet.get("text", "")),
            }

    external_id = _tweet_id(tweet.get("id"), "data.id")
    text = tweet.get("text")
    if not isinstance(text, str):
        raise PayloadError("data.text: missing or not a string")
    author_id = _tweet_id(tweet.get("author_id"), "data.author_id (expansions=author_id)")
    author = users.get(author_id, {})
    reply_to = next((r.get("id") for r in referenced if r.get("type") == "replied_to"), None)
    mentions, hashtags = _entities(tweet)
    rules = event.get("matching_rules") or []
    return InboundMessage(
        channel=CHANNEL,
        external_id=external_id,
        author_id=author_id,
        author_handle=author.get("username"),
        author_name=author.get("name"),
        text=text,
        created_at=_parse_time(tweet.get("created_at")),
        conversation_id=tweet.get("conversation_id"),
        in_reply_to_id=str(reply_to) if reply_to else None,
        mentions=mentions,
        hashtags=hashtags,
        lang_hint=tweet.get("lang"),
        rule_tags=tuple(r["tag"] for r in rules if isinstance(r, dict) and r.get("tag")),
        via_retweet=via_retweet,
    )
