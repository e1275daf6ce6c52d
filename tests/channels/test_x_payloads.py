"""X API v2 filtered-stream payloads, from the official examples and hand-built edge cases."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sevadesk.channels.errors import PayloadError
from sevadesk.channels.x.payloads import parse_stream_event
from sevadesk.config import get_settings
from tests.factories import tweet

SAMPLES = (
    get_settings().data_dir
    / "x-api-payloads"
    / "v2_examples"
    / "v2_tweet_responses_with_includes.json"
)


def test_a_stream_event_becomes_a_message() -> None:
    event = tweet(
        "@RailMinIndia coach B4 of 12951 has no water #RailMadad",
        id="42",
        author_id="7",
        username="asha",
    )
    msg = parse_stream_event(event)
    assert (msg.channel, msg.external_id, msg.author_id, msg.author_handle) == (
        "x",
        "42",
        "7",
        "asha",
    )
    assert msg.mentions == ("RailMinIndia",)
    assert msg.hashtags == ("RailMadad",)
    assert msg.created_at.tzinfo is not None


def test_entities_from_the_payload_win_over_the_text() -> None:
    event = tweet("@a @b text", with_entities=True)
    event["data"]["entities"] = {"mentions": [{"start": 0, "end": 2, "username": "RailwaySeva"}]}
    assert parse_stream_event(event).mentions == ("RailwaySeva",)


def test_a_reply_records_what_it_replies_to() -> None:
    event = tweet("still waiting", reply_to="100", conversation_id="100")
    msg = parse_stream_event(event)
    assert (msg.in_reply_to_id, msg.conversation_id) == ("100", "100")


def test_a_retweet_without_the_expansion_still_folds_onto_the_original_id() -> None:
    event = tweet("RT @asha: no water in B4")
    event["data"]["referenced_tweets"] = [{"type": "retweeted", "id": "555"}]
    msg = parse_stream_event(event)
    assert msg.external_id == "555" and msg.via_retweet
    assert msg.text == "no water in B4"


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda e: e.pop("data"), "data"),
        (lambda e: e["data"].pop("author_id"), "data.author_id"),
        (lambda e: e["data"].update(id="abc"), "data.id"),
        (lambda e: e["data"].update(created_at="yesterday"), "data.created_at"),
        (lambda e: e["data"].update(text=None), "data.text"),
    ],
)
def test_a_malformed_event_names_the_bad_key(mutate, key: str) -> None:  # type: ignore[no-untyped-def]
    event = tweet("hello")
    mutate(event)
    with pytest.raises(PayloadError, match=key.replace(".", r"\.")):
        parse_stream_event(event)


@pytest.mark.skipif(not SAMPLES.exists(), reason=f"shared data not found at {SAMPLES}")
def test_the_official_v2_examples_parse() -> None:
    """X's data-dictionary examples (data + includes), wrapped one tweet per stream event."""
    parsed = 0
    for block in json.loads(SAMPLES.read_text()):
        body = block["json"]
        tweets = body["data"] if isinstance(body["data"], list) else [body["data"]]
        for data in tweets:
            if "author_id" not in data or "created_at" not in data:
                continue
            msg = parse_stream_event({"data": data, "includes": body.get("includes", {})})
            assert msg.external_id == data["id"]
            parsed += 1
    assert parsed >= 2


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_any_json_either_parses_or_raises_payload_error(value: object) -> None:
    """Garbage never escapes as another exception type (which would crash a batch)."""
    try:
        msg = parse_stream_event(value)
    except PayloadError:
        return
    assert msg.external_id.isdigit() and msg.author_id.isdigit()


@given(st.text(max_size=200))
def test_any_text_in_a_valid_event_parses(text: str) -> None:
    assert parse_stream_event(tweet(text)).text == text
