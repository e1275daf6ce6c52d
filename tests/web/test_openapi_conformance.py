"""Schemathesis over every operation of the published OpenAPI: what the schema promises is
what the app answers. Every status code documented for its route, every refusal a documented
4xx whose body matches the documented model, the documented content type, values the schema
calls invalid refused and values it calls valid accepted (or refused for a reason the schema
cannot express, named in DOMAIN_REFUSALS). Bounded and seeded: the same cases every run,
well under a minute (SEVA_SCHEMATHESIS_EXAMPLES sets the cases per operation)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from pydantic import SecretStr
from schemathesis import Case
from sqlalchemy import Engine, create_engine, select, update

from sevadesk.config import Settings
from sevadesk.domain.clock import FrozenClock
from sevadesk.pipeline.runner import Pipeline
from sevadesk.routing.orgfile import load_org_file
from sevadesk.store import tables as t
from sevadesk.store.db import make_engine, upgrade
from sevadesk.store.org_repo import apply_org
from sevadesk.store.users_repo import actor_for_token, issue_token
from sevadesk.tickets.actions import queue_reply
from sevadesk.web.app import create_app
from tests.conftest import TEST_ORG
from tests.factories import BASE_TIME, lines, tweet

# Per operation: enough cases for each documented answer to come up, few enough that the
# whole module stays well under a minute on a loaded two-core machine.
MAX_EXAMPLES = int(os.environ.get("SEVA_SCHEMATHESIS_EXAMPLES", "10"))
SEED = 20
# The desk below is built the same way every run, so its ids are known before it exists.
REF = "UPP-000001"  # the Lucknow ticket
OUTBOX_ID = 1  # a dead reply, so that a retry reaches the outbox
POST_ID = 3  # the praise post, screened out

# Refusals of a request the schema calls valid that no schema could rule out: they depend on
# the ticket's state or on the organisation's own lists, so a schema that is the same for every
# deployment cannot name them. Anything else (a field list from validation, `since` refused,
# a refusal without a reason) means the schema promised what the app does not take.
DOMAIN_REFUSALS = {
    "BadCursor",  # a cursor this server did not issue: opaque by design
    "InvalidRequest",  # the ticket's state (closed, not resolved, not in an incident...)
    "AlreadyTicket",  # the screened-out post was made a ticket already
    "MissingReason",  # a status that needs a note, a transfer that needs a reason
    "MustTransfer",  # a unit outside the ticket's own
    "UnknownUnit",  # a unit code the organisation does not have
    "PublicReplyBlocked",  # a public reply carrying a phone number or an Aadhaar
}
# Open311 names no error, only a description: its two rules across fields.
GEOREPORT_CROSS_FIELD = ("end_date is before start_date", "may not span more than 90 days")

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        # No example database either: a case that failed once is not replayed, so every run
        # tests the same cases.
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        "checks": {
            "enabled": True,
            # 400 and 422 only as `domain_refusals_only` below allows them.
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "422", "429"]
            },
        },
        "parameters": {"path.ref": REF, "path.outbox_id": OUTBOX_ID, "path.post_id": POST_ID},
    }
)


class CurrentDesk:
    """The app under test, as schemathesis sees it: cases are made when the module is
    collected, before the desk exists, so they go through this door to whichever desk the
    fixture below has built (until then an app without a database, which only serves the
    schema)."""

    def __init__(self) -> None:
        self.app: Any = create_app(Settings(database_url="sqlite://"), create_engine("sqlite://"))
        self.engine: Engine | None = None
        self.token = ""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            # No background workers: the test drives nothing but requests.
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await self.app(scope, receive, send)


CURRENT = CurrentDesk()
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", CURRENT, config=CONFIG)


@schema.auth(refresh_interval=None, retry_on=[])
class AdminToken:
    """The admin's bearer token on every case that is not about a missing or wrong one."""

    def get(self, case: Case, _context: schemathesis.AuthContext) -> str:
        if case.operation.label == "DELETE /api/v1/auth/token" and CURRENT.engine is not None:
            # Signing out revokes the token it is sent with: each gets one of its own.
            with CURRENT.engine.begin() as conn:
                return issue_token(conn, "admin", "sign-out")
        return CURRENT.token

    def set(self, case: Case, data: str, _context: schemathesis.AuthContext) -> None:
        case.headers = {**dict(case.headers or {}), "Authorization": f"Bearer {data}"}


@dataclass
class Desk:
    app: Any
    engine: Engine
    token: str


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """One desk for every operation (a desk per operation would cost most of the minute):
    the test organisation on a SQLite file, three posts, two of them tickets."""
    url = f"sqlite:///{tmp_path_factory.mktemp('conformance') / 'seva.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        apply_org(conn, load_org_file(TEST_ORG))
    settings = Settings(
        database_url=url,
        drain_interval_seconds=0,
        outbox_interval_seconds=0,
        # As deployed: with the secrets set, an unsigned delivery is a 401, not a 503.
        whatsapp_app_secrets="wa-app-secret",
        whatsapp_verify_token=SecretStr("wa-verify-token"),
        x_consumer_secrets="x-consumer-secret",
    )
    clock = FrozenClock(BASE_TIME + timedelta(hours=1))
    Pipeline(engine, None, settings, clock).ingest(
        "x",
        "conformance",
        lines(
            tweet("@Uppolice chain snatching near Hazratganj, Lucknow PIN 226001", author_id="1"),
            tweet("@RailMinIndia no water in coach B4 of 12951 PNR 4512345678", author_id="3"),
            tweet("@Uppolice thank you for the quick help yesterday", author_id="4"),
        ),
    )
    with engine.begin() as conn:
        token = issue_token(conn, "admin", "conformance")
        assert conn.execute(select(t.tickets.c.ref).where(t.tickets.c.ref == REF)).scalar()
        admin = actor_for_token(conn, token, clock.now())
        assert admin is not None
        reply, _ = queue_reply(conn, admin, REF, "We are on it.", "first", clock.now())
        assert reply["id"] == OUTBOX_ID
        conn.execute(update(t.outbox).where(t.outbox.c.id == OUTBOX_ID).values(status="dead"))
        screened = select(t.screened_posts.c.message_id).where(
            t.screened_posts.c.message_id == POST_ID
        )
        assert conn.execute(screened).scalar()
    app = create_app(settings, engine, clock)
    CURRENT.app, CURRENT.engine, CURRENT.token = app, engine, token
    yield Desk(app, engine, token)
    engine.dispose()


@schemathesis.check
def domain_refusals_only(
    _ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Case
) -> bool | None:
    """A request the schema calls valid is refused (400 or 422) only for one of
    DOMAIN_REFUSALS, with its reason in words."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if response.status_code not in (400, 422):
        return None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, list) and body and isinstance(body[0], dict):  # GeoReport's list
        body = {"detail": body[0].get("description"), "error": "GeoReport"}
    refusal = body.get("error") if isinstance(body, dict) else None
    reason = body.get("detail") if isinstance(body, dict) else None
    if not isinstance(reason, str) or not reason:
        refusal = None
    elif refusal == "GeoReport" and reason.endswith(GEOREPORT_CROSS_FIELD):
        return True
    if refusal not in DOMAIN_REFUSALS:
        raise AssertionError(
            f"a request the schema calls valid was refused with {response.status_code}: "
            f"{response.text[:300]}"
        )
    return True


@schema.parametrize()
def test_every_operation_answers_as_documented(case: Case, desk: Desk) -> None:
    case.call_and_validate()


def test_the_schema_names_what_validation_refuses() -> None:
    """What an earlier schemathesis run found the schema silent about, now said in it."""
    published = schema.raw_schema  # as the app served it
    bodies = published["components"]["schemas"]
    assert bodies["IdentityIn"]["properties"]["channel"]["enum"] == [
        "x",
        "whatsapp",
        "web",
        "open311",
    ]
    assert bodies["TransferIn"]["properties"]["unit"]["minLength"] == 1
    position = bodies["AssignIn"]["properties"]["position"]["anyOf"][0]
    assert position["minLength"] == 1
    # A NUL is refused in every free text (400 in a URL, 422 in a body), and the schema says so.
    assert bodies["NoteIn"]["properties"]["note"]["pattern"] == "^[^\\u0000]*$"
    crc = published["paths"]["/webhooks/x"]["get"]["parameters"][0]["schema"]
    assert crc["pattern"] == "^[^\\u0000]*$"
    # Open311 answers JSON or XML by the path's extension, refusals too.
    feed = published["paths"]["/open311/v2/requests.{fmt}"]["get"]
    assert feed["parameters"][0]["schema"]["enum"] == ["json", "xml"]
    assert set(feed["responses"]["200"]["content"]) == {"application/json", "text/xml"}
    assert set(feed["responses"]["400"]["content"]) == {"application/json", "text/xml"}
