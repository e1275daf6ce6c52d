"""Every payload parser, fed malformed and hostile input: it returns a message or raises its
channel's own error with a reason; nothing else escapes (no KeyError, TypeError …)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sevadesk.channels.errors import PayloadError
from sevadesk.channels.open311.georeport import (
    GeoReportError,
    parse_request,
    request_payload,
)
from sevadesk.channels.whatsapp.payloads import parse_message, split_webhook
from sevadesk.channels.x.payloads import (
    account_activity_events,
    parse_dm_event,
    parse_stream_event,
    parse_v1_tweet,
    parse_x_payload,
    search_events,
)
from sevadesk.config import Settings
from sevadesk.fakes.graph_api import FakeGraph
from sevadesk.fakes.x_api import FakeX
from sevadesk.triage.rules import Taxonomy

DATA = Settings().data_dir
KEYS = [
    "data",
    "includes",
    "users",
    "tweets",
    "id",
    "id_str",
    "text",
    "author_id",
    "created_at",
    "referenced_tweets",
    "type",
    "entities",
    "mentions",
    "hashtags",
    "user",
    "screen_name",
    "retweeted_status",
    "extended_tweet",
    "full_text",
    "message_create",
    "sender_id",
    "message_data",
    "created_timestamp",
    "object",
    "entry",
    "changes",
    "field",
    "value",
    "messages",
    "statuses",
    "from",
    "timestamp",
    "interactive",
    "button_reply",
    "title",
    "location",
    "latitude",
    "longitude",
    "image",
    "caption",
    "contacts",
    "status",
    "errors",
    "fields",
    "description",
    "client",
    "received_at",
    "lat",
    "long",
    "for_user_id",
    "tweet_create_events",
    "direct_message_events",
    "context",
    "metadata",
    "body",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "99999999999999999999999",
            "1697043223",
            "wamid.x",
            "text",
            "message_create",
            "whatsapp_business_account",
            "messages",
            "2026-11-26T10:00:00Z",
            "Wed Oct 10 20:19:24 +0000 2018",
            "\x00",
            "🚆" * 50,
        ]
    ),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), children, max_size=6
        ),
    ),
    max_leaves=25,
)


def _samples() -> dict[str, list[Any]]:
    wa = []
    for path in sorted(
        (DATA / "whatsapp-cloud-webhooks" / "pywa_tests_data_updates").glob("*.json")
    ):
        wa.extend(json.loads(path.read_text()).values())
    v1 = [
        json.loads(line)
        for line in (
            DATA / "x-api-payloads" / "v1_1_original_format" / "original_format_examples.jsonl"
        )
        .read_text()
        .splitlines()
        if line.strip()
    ]
    fake = FakeX()
    v2 = [
        {"data": t, "includes": {"users": [fake.users[t["author_id"]]]}}
        for t in [
            fake._find(fake.citizen_post(f"@RailMinIndia post {i} #RailMadad")) for i in range(3)
        ]
        if t
    ]
    return {"wa": wa, "v1": v1, "v2": v2}


SAMPLES = _samples()


def _mutate(value: Any, data: st.DataObject) -> Any:
    """Replace, delete or keep one node at a random depth of a real payload."""
    if isinstance(value, dict) and value:
        key = data.draw(st.sampled_from(sorted(value, key=str)))
        action = data.draw(st.sampled_from(["replace", "delete", "descend", "descend"]))
        if action == "delete":
            value.pop(key)
        elif action == "replace":
            value[key] = data.draw(json_values)
        else:
            value[key] = _mutate(value[key], data)
        return value
    if isinstance(value, list) and value:
        index = data.draw(st.integers(0, len(value) - 1))
        value[index] = _mutate(value[index], data)
        return value
    return data.draw(json_values)


def _safe(
    parse: Callable[[Any], Any], value: Any, errors: tuple[type[Exception], ...] = (PayloadError,)
) -> None:
    try:
        parse(value)
    except errors as exc:
        assert str(exc), "a rejection must say why"


PARSERS: list[tuple[str, Callable[[Any], Any], str]] = [
    ("stream", parse_stream_event, "v2"),
    ("v1", parse_v1_tweet, "v1"),
    ("x", parse_x_payload, "v1"),
    ("dm", parse_dm_event, "v1"),
    ("search", search_events, "v2"),
    ("account_activity", account_activity_events, "v1"),
    ("wa_split", split_webhook, "wa"),
    ("open311", parse_request, "v2"),
]


@pytest.mark.parametrize(("name", "parse", "kind"), PARSERS, ids=[p[0] for p in PARSERS])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_parsers_survive_random_and_mutated_payloads(
    name: str, parse: Callable[[Any], Any], kind: str, data: st.DataObject
) -> None:
    _safe(parse, data.draw(json_values))
    sample = copy.deepcopy(data.draw(st.sampled_from(SAMPLES[kind])))
    if name == "account_activity":
        sample = {"for_user_id": "1", "tweet_create_events": [sample]}
    _safe(parse, _mutate(sample, data))


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_whatsapp_messages_from_real_deliveries_survive_mutation(data: st.DataObject) -> None:
    body = data.draw(st.sampled_from(SAMPLES["wa"]))
    try:
        batch = split_webhook(body)
    except PayloadError:
        return
    for payload in batch.messages:
        _safe(parse_message, _mutate(copy.deepcopy(payload), data))


TAXONOMY = Taxonomy.load()
form_values = st.one_of(
    st.text(max_size=50),
    st.sampled_from(["theft", "26.8", "80.9", "nan", "inf", "-0", "1e400", "91", ""]),
)


@settings(max_examples=300, deadline=None)
@given(
    form=st.dictionaries(
        st.sampled_from(
            ["service_code", "lat", "long", "address_string", "description", "email", "address_id"]
        ),
        form_values,
    )
)
def test_open311_forms_are_accepted_or_refused_with_the_specs_error(form: dict[str, str]) -> None:
    try:
        payload = request_payload("client", form, TAXONOMY)
    except GeoReportError as exc:
        assert exc.status in (400, 404) and exc.description
        return
    message = parse_request(payload)  # what was accepted is always readable
    assert message.filed and message.text


def test_a_webhook_whose_sender_or_contact_is_not_a_string_is_refused_with_a_reason() -> None:
    """Found by the test above: a list where a WhatsApp id belongs made a TypeError."""
    body = FakeGraph("token", "secret").message_body("919876543210", "no water in coach B4")
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = ["919876543210"]
    value["messages"][0]["from"] = []
    batch = split_webhook(body)
    assert batch.messages[0]["contact"] is None
    with pytest.raises(PayloadError, match=r"message\.from"):
        parse_message(batch.messages[0])
