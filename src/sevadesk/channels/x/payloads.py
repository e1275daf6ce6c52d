"""Read X payloads into InboundMessage: v2 stream and search events, v1.1 tweets and DMs.

The v2 shape is the one the stream delivers with expansions=author_id,referenced_tweets.id:
`{"data": {...tweet}, "includes": {"users": [...], "tweets": [...]}, "matching_rules": [...]}`;
recent search returns the same tweets as a list, which `search_events` splits into that shape.
Account Activity webhooks carry v1.1 tweets (`id_str`, `user.screen_name`) and DM events.
A retweet collapses onto the post it retweets, so the same complaint retweeted 200 times is one
message (X v2 marks retweets with `referenced_tweets: [{"type": "retweeted", "id": ...}]`).
Every path keys a post by its tweet id, so a post seen by the stream and by search is one message.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sevadesk.channels.errors import PayloadError
from sevadesk.domain import post_text
from sevadesk.domain.messages import InboundMessage
from sevadesk.domain.numbers import ascii_digits
from sevadesk.domain.revisions import DELETED, Revision

CHANNEL = "x"

# Fallbacks for payloads fetched without `entities` in tweet.fields.
_RT_PREFIX = re.compile(r"^RT @\w{1,15}: ")


def _tweet_id(value: Any, where: str) -> str:
    if ascii_digits(value):
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


def _dicts(value: Any, where: str) -> list[dict[str, Any]]:
    """A list of objects, or [] when absent; anything else is a malformed payload."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{where}: expected a list")
    return [v for v in value if isinstance(v, dict)]


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _entities(tweet: dict[str, Any], text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    ents = tweet.get("entities")
    if isinstance(ents, dict) and ("mentions" in ents or "hashtags" in ents):
        mentions = tuple(
            m["username"]
            for m in _dicts(ents.get("mentions"), "entities.mentions")
            if isinstance(m.get("username"), str)
        )
        hashtags = tuple(
            h["tag"]
            for h in _dicts(ents.get("hashtags"), "entities.hashtags")
            if isinstance(h.get("tag"), str)
        )
    else:
        mentions = post_text.mentions(text)
        hashtags = post_text.hashtags(text)
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
    if not isinstance(includes, dict):
        raise PayloadError("includes: expected an object")
    users = {
        u["id"]: u for u in _dicts(includes.get("users"), "includes.users") if _opt_str(u.get("id"))
    }
    included_tweets = {
        t["id"]: t
        for t in _dicts(includes.get("tweets"), "includes.tweets")
        if _opt_str(t.get("id"))
    }

    referenced = _dicts(tweet.get("referenced_tweets"), "data.referenced_tweets")
    retweeted = next((r for r in referenced if r.get("type") == "retweeted"), None)
    via_retweet = False
    if retweeted is not None:
        original = included_tweets.get(_opt_str(retweeted.get("id")) or "")
        via_retweet = True
        if original is not None:
            tweet = original
            referenced = _dicts(tweet.get("referenced_tweets"), "includes.tweets.referenced_tweets")
        else:
            # Without the expansion we still know which post it was: keep the retweeter's copy
            # but file it under the original's id so it folds onto the original.
            text = tweet.get("text")
            tweet = {
                **tweet,
                "id": retweeted.get("id"),
                "text": _RT_PREFIX.sub("", text) if isinstance(text, str) else text,
            }

    external_id = _tweet_id(tweet.get("id"), "data.id")
    text = tweet.get("text")
    if not isinstance(text, str):
        raise PayloadError("data.text: missing or not a string")
    author_id = _tweet_id(tweet.get("author_id"), "data.author_id (expansions=author_id)")
    author = users.get(author_id, {})
    reply_to = next((r.get("id") for r in referenced if r.get("type") == "replied_to"), None)
    mentions, hashtags = _entities(tweet, text)
    rules = _dicts(event.get("matching_rules"), "matching_rules")
    return InboundMessage(
        channel=CHANNEL,
        external_id=external_id,
        author_id=author_id,
        author_handle=_opt_str(author.get("username")),
        author_name=_opt_str(author.get("name")),
        text=text,
        created_at=_parse_time(tweet.get("created_at")),
        conversation_id=_opt_str(tweet.get("conversation_id")),
        in_reply_to_id=_tweet_id(reply_to, "referenced_tweets.id") if reply_to else None,
        mentions=mentions,
        hashtags=hashtags,
        lang_hint=_opt_str(tweet.get("lang")),
        rule_tags=tuple(r["tag"] for r in rules if isinstance(r.get("tag"), str) and r["tag"]),
        via_retweet=via_retweet,
    )


# v1.1 `created_at`: "Wed Oct 10 20:19:24 +0000 2018".
_V1_TIME = "%a %b %d %H:%M:%S %z %Y"


def _v1_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise PayloadError("created_at: missing or not a string")
    try:
        return datetime.strptime(value, _V1_TIME)
    except ValueError as exc:
        raise PayloadError(f"created_at: not X's v1.1 time format: {value!r}"[:200]) from exc


def parse_v1_tweet(tweet: Any) -> InboundMessage:
    """A v1.1 tweet object (Account Activity `tweet_create_events`) → InboundMessage."""
    if not isinstance(tweet, dict):
        raise PayloadError("tweet: expected a JSON object")
    via_retweet = False
    original = tweet.get("retweeted_status")
    if isinstance(original, dict):
        tweet, via_retweet = original, True
    external_id = _tweet_id(tweet.get("id_str"), "id_str")
    user = tweet.get("user")
    if not isinstance(user, dict):
        raise PayloadError("user: missing or not an object")
    extended = tweet.get("extended_tweet")
    text = (
        extended.get("full_text")
        if isinstance(extended, dict) and isinstance(extended.get("full_text"), str)
        else tweet.get("full_text") or tweet.get("text")
    )
    if not isinstance(text, str):
        raise PayloadError("text: missing or not a string")
    ents = (extended if isinstance(extended, dict) else tweet).get("entities") or {}
    if not isinstance(ents, dict):
        raise PayloadError("entities: not an object")
    mentions = tuple(
        m["screen_name"]
        for m in _dicts(ents.get("user_mentions"), "entities.user_mentions")
        if _opt_str(m.get("screen_name"))
    )
    hashtags = tuple(
        h["text"]
        for h in _dicts(ents.get("hashtags"), "entities.hashtags")
        if _opt_str(h.get("text"))
    )
    reply_to = tweet.get("in_reply_to_status_id_str")
    handle = user.get("screen_name")
    name = user.get("name")
    return InboundMessage(
        channel=CHANNEL,
        external_id=external_id,
        author_id=_tweet_id(user.get("id_str"), "user.id_str"),
        author_handle=handle if isinstance(handle, str) else None,
        author_name=name if isinstance(name, str) else None,
        text=text,
        created_at=_v1_time(tweet.get("created_at")),
        in_reply_to_id=_tweet_id(reply_to, "in_reply_to_status_id_str") if reply_to else None,
        mentions=mentions or post_text.mentions(text),
        hashtags=hashtags or post_text.hashtags(text),
        lang_hint=tweet.get("lang") if isinstance(tweet.get("lang"), str) else None,
        via_retweet=via_retweet,
    )


def parse_dm_event(event: Any) -> InboundMessage:
    """An Account Activity `direct_message_events` item (type message_create)."""
    if not isinstance(event, dict) or event.get("type") != "message_create":
        raise PayloadError("direct message: expected an object of type message_create")
    create = event.get("message_create")
    if not isinstance(create, dict):
        raise PayloadError("message_create: missing or not an object")
    data = create.get("message_data")
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str):
        raise PayloadError("message_create.message_data.text: missing or not a string")
    sender = _tweet_id(create.get("sender_id"), "message_create.sender_id")
    stamp = event.get("created_timestamp")
    if not ascii_digits(stamp):
        raise PayloadError("created_timestamp: expected milliseconds since the epoch as a string")
    try:
        created = datetime.fromtimestamp(int(stamp) / 1000, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise PayloadError(f"created_timestamp: out of range: {stamp!r}"[:200]) from exc
    return InboundMessage(
        channel=CHANNEL,
        # DM events and tweets share X's id space; the prefix keeps them apart when read.
        external_id="dm-" + _tweet_id(event.get("id"), "id"),
        author_id=sender,
        text=text,
        created_at=created,
        conversation_id=f"dm-{sender}",
        addressed=True,
    )


def parse_x_payload(payload: Any) -> InboundMessage:
    """The journal's `x` adapter: tells the payload shapes apart and reads each."""
    if isinstance(payload, dict):
        if "data" in payload or "errors" in payload:
            return parse_stream_event(payload)
        if payload.get("type") == "message_create":
            return parse_dm_event(payload)
        if "id_str" in payload:
            return parse_v1_tweet(payload)
    raise PayloadError("not an X payload: expected a v2 event, a v1.1 tweet or a DM event")


def search_events(response: Any) -> list[dict[str, Any]]:
    """A recent-search or timeline page → one stream-shaped event per tweet (same `includes`)."""
    if not isinstance(response, dict):
        raise PayloadError("search response: expected a JSON object")
    tweets = response.get("data") or []
    if not isinstance(tweets, list):
        raise PayloadError("search response: data is not a list")
    includes = response.get("includes") or {}
    if not isinstance(includes, dict):
        raise PayloadError("search response: includes is not an object")
    return [{"data": tw, "includes": includes} for tw in tweets if isinstance(tw, dict)]


def _dm_sender(item: dict[str, Any]) -> Any:
    create = item.get("message_create")
    return create.get("sender_id") if isinstance(create, dict) else None


def tweet_deletions(body: Any) -> tuple[list[dict[str, Any]], list[Revision]]:
    """An Account Activity body's `tweet_delete_events` → (the events, to journal; one
    deletion each). X's documentation gives each as `{"status": {"id", "user_id"},
    "timestamp_ms"}`; its Developer Policy asks that the post's content be removed."""
    items = body.get("tweet_delete_events") if isinstance(body, dict) else None
    if items is None:
        return [], []
    if not isinstance(items, list):
        raise PayloadError("tweet_delete_events: expected a list")
    deletions = []
    for item in items:
        status = item.get("status") if isinstance(item, dict) else None
        if not isinstance(status, dict):
            raise PayloadError("tweet_delete_events: expected objects with a status")
        post = _tweet_id(status.get("id"), "tweet_delete_events.status.id")
        stamp = item.get("timestamp_ms")
        if not ascii_digits(stamp):
            raise PayloadError("tweet_delete_events.timestamp_ms: expected milliseconds")
        try:
            at = datetime.fromtimestamp(int(stamp) / 1000, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise PayloadError(
                f"tweet_delete_events.timestamp_ms: out of range: {stamp!r}"
            ) from exc
        # One post is deleted once: a second event for it is the same deletion.
        deletions.append(Revision(CHANNEL, post, DELETED, f"delete:{post}", at))
    return items, deletions


def account_activity_events(body: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """An Account Activity webhook body → (journal payloads, names of event kinds ignored).

    Tweets and DMs become messages; other kinds (favourites, follows, typing, reads) are
    acknowledged and counted but open nothing; deletions are read by `tweet_deletions`.
    """
    if not isinstance(body, dict):
        raise PayloadError("webhook body: expected a JSON object")
    payloads: list[dict[str, Any]] = []
    ignored: list[str] = []
    owner = body.get("for_user_id")
    for key, value in body.items():
        if key == "tweet_create_events" or key == "direct_message_events":
            if not isinstance(value, list):
                raise PayloadError(f"{key}: expected a list")
            for item in value:
                if not isinstance(item, dict):
                    raise PayloadError(f"{key}: expected objects")
                if key == "direct_message_events" and (
                    item.get("type") != "message_create"
                    # The account's own outgoing DMs come back on the webhook too.
                    or _dm_sender(item) == owner
                ):
                    ignored.append(key)
                    continue
                payloads.append(item)
        elif key.endswith("_events") or key in ("user_event", "replay_event"):
            ignored.append(key)
    return payloads, ignored
