"""An officer of Kanpur walks every route of the app and finds nothing of Lucknow's.

The routes are read from the app itself, so a new route fails
`test_every_route_is_walked_or_needs_no_scope` until it is walked here (or listed, with a
reason, among the routes that hold no office's data). Lucknow's state is fingerprinted
before and after every call: a request that reads nothing of Lucknow's but changes it is a
cross-scope write and fails too.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import Engine, func, select, update

from sevadesk.config import Settings
from sevadesk.domain.clock import FrozenClock
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import ledger
from sevadesk.store import tables as t
from sevadesk.store.users_repo import actor_by_username, issue_token
from sevadesk.tickets import actions
from sevadesk.web.app import create_app
from tests.factories import lines, tweet
from tests.web.signin import sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

LKO_WHATSAPP = "919876500011"
LKO_KEY = "lko-reply-key-1"

# Routes that hold no office's data, each with the reason it needs no scope test.
NEEDS_NO_SCOPE: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/openapi.json"): "the API's description, the same for everyone",
    ("GET", "/api/docs"): "the API documentation page",
    ("GET", "/docs/oauth2-redirect"): "part of the documentation page",
    ("GET", "/api/redoc"): "the API documentation page (ReDoc)",
    ("MOUNT", "/api/docs-assets"): "the documentation pages' script and styles",
    ("POST", "/api/v1/auth/token"): "sign-in: issues a token for the caller's own account",
    ("DELETE", "/api/v1/auth/token"): "revokes the very token the request was made with",
    ("GET", "/webhooks/whatsapp"): "Meta's verification handshake (verify token)",
    ("POST", "/webhooks/whatsapp"): "Meta's signed deliveries; reads nothing back",
    ("GET", "/webhooks/x"): "X's CRC handshake",
    ("POST", "/webhooks/x"): "X's signed deliveries; reads nothing back",
    ("GET", "/open311/v2/services.{fmt}"): "the public list of categories (GeoReport spec)",
    ("POST", "/open311/v2/requests.{fmt}"): "civic apps file requests; answers only their ref",
    ("GET", "/open311/v2/requests.{fmt}"): "public by the GeoReport spec; private channels' "
    "words are never in it (tests/web/test_public_pages.py)",
    ("GET", "/open311/v2/requests/{request_id}.{fmt}"): "as the list: public by the spec",
    ("GET", "/open311/discovery.{fmt}"): "where the GeoReport endpoint is (Service Discovery)",
    ("GET", "/open311/v2/services/{code}.{fmt}"): "a category's (empty) list of attributes",
    ("GET", "/open311/v2/tokens/{token}.{fmt}"): "a POST's token to its public ref (or null)",
    ("GET", "/complaint"): "the citizens' complaint form",
    ("POST", "/complaint"): "citizens file a complaint; answers only its ref",
    ("GET", "/status/{ref}"): "a ticket's public status, masked, no private words",
    ("GET", "/public"): "the agency's public record, office by office",
    ("GET", "/desk/login"): "the sign-in page",
    ("POST", "/desk/login"): "sign-in: opens a session for the caller's own account",
    ("POST", "/desk/logout"): "ends the caller's own session, reads nothing",
    ("GET", "/desk/lang/{lang}"): "sets the caller's language cookie",
    ("GET", "/desk/count"): "X's weighted length of the text sent, nothing stored",
    ("MOUNT", "/static"): "stylesheet and script files",
    ("GET", "/healthz"): "says the database answers",
    ("GET", "/metrics"): "process counters and the ingestion ledger for the operator",
}


@dataclass
class World:
    """Tickets of Lucknow and Kanpur, an incident across both, and Kanpur's officer signed in
    (desk session and API token) to walk the app."""

    engine: Engine
    client: TestClient
    clock: FrozenClock
    headers: dict[str, str]
    csrf: str
    lko_refs: list[str]
    knp_ref: str
    knp_incident_ref: str
    incident: str
    lko_outbox_id: int
    # Words, names and numbers of Lucknow's and of other agencies: none may reach Kanpur.
    markers: list[str] = field(default_factory=list)

    def api(self, method: str, path: str, **kw: Any) -> Any:
        return self.client.request(method, path, headers=self.headers, **kw)

    def desk(self, method: str, path: str, **kw: Any) -> Any:
        if method == "POST":
            kw["data"] = {**kw.get("data", {}), "csrf": self.csrf}
            kw.setdefault("follow_redirects", False)
        return self.client.request(method, path, **kw)


@pytest.fixture
def world(
    pipeline: Pipeline, org_engine: Engine, settings: Settings, clock: FrozenClock
) -> Iterator[World]:
    # Kanpur's reports come first, so the incident belongs to Kanpur: its officer is the one
    # the old code showed Lucknow's tickets to.
    posts = [
        tweet(
            # Not a theft: the model reads a theft on a train as an SOS, which never joins
            # an incident.
            f"@Uppolice traffic jam outside the station when train 12004 arrives at {place}",
            author_id=a,
            username=u,
            minutes=int(a) - 30,
        )
        for a, u, place in [
            ("31", "knp_rider", "Kanpur Central, Kanpur 208001"),
            ("32", "knp_rider2", "Kanpur Central, Kanpur 208001"),
            ("33", "lko_rider", "Charbagh, Lucknow 226001"),
            ("34", "lko_rider2", "Charbagh, Lucknow 226001"),
        ]
    ]
    posts += [
        tweet(
            "@Uppolice my phone was snatched near Hazratganj, Lucknow 226001",
            author_id="11",
            username="lko_citizen",
            minutes=5,
        ),
        tweet(
            "@Uppolice chain snatching in Kanpur, PIN 208001",
            author_id="21",
            username="knp_citizen",
            minutes=6,
        ),
        # Screened out (praise), in Lucknow's Screened out queue.
        tweet(
            "@Uppolice thank you Lucknow police for the quick help in Hazratganj",
            author_id="12",
            username="lko_citizen",
            minutes=7,
        ),
    ]
    pipeline.ingest("x", "test", lines(*posts))
    with org_engine.connect() as conn:
        rows = conn.execute(
            select(t.tickets.c.ref, t.units.c.code, t.tickets.c.incident_id)
            .join(t.units, t.units.c.id == t.tickets.c.unit_id)
            .order_by(t.tickets.c.id)
        ).all()
        incident = conn.execute(select(t.incidents.c.ref)).scalar_one()
    lko_refs = [r.ref for r in rows if r.code == "UPP-LUCKNOW"]
    knp = [r for r in rows if r.code == "UPP-KANPUR"]
    assert len(lko_refs) == 3 and len(knp) == 3
    knp_ref = next(r.ref for r in knp if r.incident_id is None)
    knp_incident_ref = next(r.ref for r in knp if r.incident_id is not None)
    hazratganj = lko_refs[-1]
    now = clock.now()
    with org_engine.begin() as conn:
        lko = actor_by_username(conn, "lko.agent")
        assert lko is not None
        actions.link_identity(conn, lko, hazratganj, "whatsapp", LKO_WHATSAPP, now)
        entry, _ = actions.queue_reply(conn, lko, hazratganj, "We are on it.", LKO_KEY, now)
        conn.execute(update(t.outbox).where(t.outbox.c.id == entry["id"]).values(status="dead"))
        actions.transfer(conn, lko, lko_refs[0], "UPP-Z-LKO", "zone-level case", now)
        ledger.record_reads(conn, "wa-webhook", "whatsapp", now, 3)
        ledger.record_reads(conn, "x-stream", "x", now, 7, "1", now - timedelta(seconds=2))
        token = issue_token(conn, "knp.agent", "scope-walk")
    with TestClient(create_app(settings, org_engine, clock)) as client:
        csrf = sign_in(client, "knp.agent", "knp-password")
        yield World(
            engine=org_engine,
            client=client,
            clock=clock,
            headers={"Authorization": f"Bearer {token}"},
            csrf=csrf,
            lko_refs=lko_refs,
            knp_ref=knp_ref,
            knp_incident_ref=knp_incident_ref,
            incident=incident,
            lko_outbox_id=int(entry["id"]),
            markers=[
                *lko_refs,
                "Hazratganj",
                "Charbagh",
                "lko_citizen",
                "lko_rider",
                "226001",
                LKO_WHATSAPP,
                LKO_KEY,
                "lko.agent",
                "Lucknow agent",
                "rly.agent",
                "RLY-NR-LKO",
                "Railway",
            ],
        )


def lucknow_state(w: World) -> tuple[Any, ...]:
    """Everything of Lucknow's that a request from Kanpur must leave as it was."""
    c = t.tickets.c
    with w.engine.connect() as conn:
        tickets = conn.execute(
            select(
                c.id,
                c.status,
                c.unit_id,
                c.assignee_id,
                c.position_id,
                c.category,
                c.citizen_id,
                c.incident_id,
                c.updated_at,
            )
            .where(c.ref.in_(w.lko_refs))
            .order_by(c.id)
        ).all()
        ids = [r.id for r in tickets]
        citizens = [r.citizen_id for r in tickets]
        events = conn.execute(
            select(func.count()).where(t.ticket_events.c.ticket_id.in_(ids))
        ).scalar_one()
        outbox = conn.execute(
            select(t.outbox.c.id, t.outbox.c.status, t.outbox.c.attempts)
            .where(t.outbox.c.ticket_id.in_(ids))
            .order_by(t.outbox.c.id)
        ).all()
        identities = conn.execute(
            select(t.citizen_identities)
            .where(t.citizen_identities.c.citizen_id.in_(citizens))
            .order_by(t.citizen_identities.c.channel, t.citizen_identities.c.external_user_id)
        ).all()
        offers = conn.execute(
            select(t.transfer_offers.c.id, t.transfer_offers.c.status).where(
                t.transfer_offers.c.ticket_id.in_(ids)
            )
        ).all()
    return tuple(tickets), events, tuple(outbox), tuple(identities), tuple(offers)


@dataclass
class Call:
    """One request of the walk; `expect` adds what the answer must be beyond leaking nothing."""

    door: str  # api | desk
    method: str
    path: str
    kw: dict[str, Any] = field(default_factory=dict)
    expect: Callable[[Any], bool] | None = None
    why: str = ""


def api(method: str, path: str, **kw: Any) -> Call:
    return Call("api", method, path, kw)


def desk(method: str, path: str, **kw: Any) -> Call:
    return Call("desk", method, path, kw)


def expecting(call: Call, check: Callable[[Any], bool], why: str) -> Call:
    call.expect, call.why = check, why
    return call


def _confirmed(w: World, body: str) -> dict[str, str]:
    """The desk's second post of an incident reply: the count Kanpur's officer confirmed."""
    from sevadesk.web.ui.replies import confirmation

    with w.engine.connect() as conn:
        who = actor_by_username(conn, "knp.agent")
        assert who is not None
        audience = actions.incident_audience(conn, who, w.incident)
    token = confirmation(w.csrf, w.incident, body, audience.fingerprint)
    return {"body": body, "key": "walk", "audience": audience.fingerprint, "confirm": token}


def _refused(answer: Any) -> bool:
    return bool(answer.status_code in (403, 404))


def _desk_error(answer: Any) -> bool:
    return bool(answer.status_code == 303 and "error=" in answer.headers.get("location", ""))


LKO_WRITES = {
    "replies": {"body": "Noted."},
    "status": {"status": "in_progress"},
    "category": {"category": "traffic"},
    "assign": {"username": "knp.agent"},
    "transfer": {"unit": "UPP-KANPUR", "reason": "ours"},
    "transfer/accept": {},
    "transfer/return": {"note": "not ours"},
    "appeal": {"note": "not fixed"},
    "reopen": {"note": "not fixed"},
    "incident/detach": {"reason": "not the same"},
    "identities": {"channel": "whatsapp", "external_user_id": "919999900000"},
}


def _lko_write(verb: str) -> Callable[[World], list[Call]]:
    """The action on Lucknow's tickets (one open, one with a transfer offer waiting)."""

    def probe(w: World) -> list[Call]:
        return [
            expecting(
                api("POST", f"/api/v1/tickets/{ref}/{verb}", json=LKO_WRITES[verb]),
                _refused,
                "refused",
            )
            for ref in (w.lko_refs[-1], w.lko_refs[0])
        ]

    return probe


def _admins_only(path: str, data: dict[str, str]) -> Callable[[World], list[Call]]:
    """A desk form only an admin may post: Kanpur's agent is refused outright."""

    def probe(w: World) -> list[Call]:
        return [
            expecting(desk("POST", path, data=data), lambda a: a.status_code == 403, "admins only")
        ]

    return probe


PROBES: dict[tuple[str, str], Callable[[World], list[Call]]] = {
    ("GET", "/api/v1/tickets"): lambda w: [
        api("GET", "/api/v1/tickets"),
        api("GET", "/api/v1/tickets", params={"unit": "UPP-LUCKNOW"}),
        api("GET", "/api/v1/tickets", params={"unit": "UPP"}),
    ],
    ("GET", "/api/v1/tickets/{ref}"): lambda w: (
        [expecting(api("GET", f"/api/v1/tickets/{r}"), _refused, "not found") for r in w.lko_refs]
        + [api("GET", f"/api/v1/tickets/{w.knp_incident_ref}")]
    ),
    **{
        ("POST", f"/api/v1/tickets/{{ref}}/{verb}"): _lko_write(verb)
        for verb in LKO_WRITES
        if verb not in ("replies", "identities")
    },
    ("POST", "/api/v1/tickets/{ref}/replies"): lambda w: [
        *_lko_write("replies")(w),
        # The key Lucknow used, on Kanpur's ticket: a new key there, as any other.
        expecting(
            api(
                "POST",
                f"/api/v1/tickets/{w.knp_ref}/replies",
                json={"body": "An officer will call you.", "idempotency_key": LKO_KEY},
            ),
            lambda a: a.status_code == 201 and a.json()["idempotency_key"] == LKO_KEY,
            "a new reply (201): a key says nothing of other tickets",
        ),
    ],
    ("POST", "/api/v1/tickets/{ref}/identities"): lambda w: [
        *_lko_write("identities")(w),
        # Kanpur's own ticket, given Lucknow's citizen's number: merging the two citizens
        # would move Lucknow's tickets to Kanpur's citizen.
        expecting(
            api(
                "POST",
                f"/api/v1/tickets/{w.knp_ref}/identities",
                json={"channel": "whatsapp", "external_user_id": LKO_WHATSAPP},
            ),
            lambda a: a.status_code == 403,
            "refused: that citizen is Lucknow's",
        ),
    ],
    ("GET", "/api/v1/incidents/{ref}"): lambda w: [
        expecting(
            api("GET", f"/api/v1/incidents/{w.incident}"),
            lambda a: {x["ref"] for x in a.json()["tickets"]} <= {w.knp_incident_ref, *knp(w)},
            "Kanpur's tickets only",
        )
    ],
    ("POST", "/api/v1/incidents/{ref}/replies"): lambda w: [
        expecting(
            api(
                "POST",
                f"/api/v1/incidents/{w.incident}/replies",
                json={"body": "Police are at Kanpur Central.", "idempotency_key": "knp-inc"},
            ),
            lambda a: a.status_code == 200 and a.json()["replies_queued"] == 2,
            "answers Kanpur's two citizens, not 404",
        )
    ],
    ("GET", "/api/v1/transfers"): lambda w: [api("GET", "/api/v1/transfers")],
    ("GET", "/api/v1/me"): lambda w: [api("GET", "/api/v1/me")],
    ("GET", "/api/v1/me/queue"): lambda w: [api("GET", "/api/v1/me/queue")],
    ("GET", "/api/v1/reports/accountability"): lambda w: [
        api("GET", "/api/v1/reports/accountability")
    ],
    ("GET", "/api/v1/units"): lambda w: [api("GET", "/api/v1/units")],
    ("GET", "/api/v1/outbox"): lambda w: [
        api("GET", "/api/v1/outbox", params={"status": s})
        for s in ("dead", "pending", "sent", "unknown")
    ],
    ("POST", "/api/v1/outbox/{outbox_id}/retry"): lambda w: [
        expecting(api("POST", f"/api/v1/outbox/{w.lko_outbox_id}/retry"), _refused, "refused")
    ],
    ("GET", "/api/v1/ingest/sources"): lambda w: [
        expecting(
            api("GET", "/api/v1/ingest/sources"),
            lambda a: a.status_code == 403,
            "the ledger is the whole deployment's: refused to one district",
        )
    ],
    ("GET", "/desk"): lambda w: [
        expecting(
            desk("GET", "/desk", params=p),
            lambda a: not any(f'data-ref="{r}"' in a.text for r in w.lko_refs),
            "none of Lucknow's tickets in the list",
        )
        for p in (
            {},
            {"q": w.lko_refs[-1]},
            {"q": w.lko_refs[-1].lower(), "fragment": "1"},
            {"q": "Hazratganj"},
            {"q": "charbagh", "sort": "due"},
            *({"queue": q, "fragment": "1"} for q in ("mine", "unit", "unassigned", "sos")),
        )
    ],
    # The staff's live wallboard: the newest tickets of the viewer's own scope.
    ("GET", "/"): lambda w: [desk("GET", "/")],
    ("GET", "/live/tickets.json"): lambda w: [
        desk("GET", "/live/tickets.json"),
        api("GET", "/live/tickets.json"),
    ],
    ("GET", "/desk/events"): lambda w: [],  # a stream: walked last (live_stream_tells_…)
    ("GET", "/desk/t/{ref}"): lambda w: [
        *(expecting(desk("GET", f"/desk/t/{r}"), _refused, "not found") for r in w.lko_refs),
        desk("GET", f"/desk/t/{w.knp_ref}"),
        desk("GET", f"/desk/t/{w.knp_incident_ref}"),
    ],
    ("POST", "/desk/t/{ref}/{form_name}"): lambda w: [
        *(
            expecting(desk("POST", f"/desk/t/{w.lko_refs[-1]}/{name}", data=form), _refused, "404")
            for name, form in DESK_FORMS.items()
        ),
        expecting(
            desk("POST", f"/desk/t/{w.knp_ref}/assign", data={"username": "lko.agent"}),
            _desk_error,
            "Lucknow's officer cannot take Kanpur's ticket",
        ),
        expecting(
            desk(
                "POST",
                f"/desk/t/{w.knp_ref}/transfer",
                data={"unit": "RLY-NR-LKO", "reason": "a train"},
            ),
            _desk_error,
            "transfers stay inside the organisation",
        ),
        expecting(
            desk("POST", f"/desk/t/{w.knp_ref}/merge", data={"into": w.lko_refs[-1]}),
            _refused,
            "not found",
        ),
    ],
    ("GET", "/desk/incidents/{incident_ref}"): lambda w: [
        expecting(
            desk("GET", f"/desk/incidents/{w.incident}"),
            lambda a: a.status_code == 200 and w.knp_incident_ref in a.text,
            "the incident, with Kanpur's tickets",
        )
    ],
    ("POST", "/desk/incidents/{incident_ref}/reply"): lambda w: [
        expecting(
            desk("POST", f"/desk/incidents/{w.incident}/reply", data={"body": "On our way."}),
            lambda a: a.status_code == 200 and "This reply goes to 2 citizens" in a.text,
            "Kanpur's two citizens counted, nothing sent before the officer confirms",
        ),
        expecting(
            desk("POST", f"/desk/incidents/{w.incident}/reply", data=_confirmed(w, "On our way.")),
            lambda a: a.status_code == 303 and "sent=2:2" in a.headers["location"],
            "answered: Kanpur's two tickets",
        ),
    ],
    ("POST", "/desk/t/{ref}/reply"): lambda w: [
        *(
            expecting(desk("POST", f"/desk/t/{r}/reply", data={"body": "Noted."}), _refused, "404")
            for r in w.lko_refs
        ),
        expecting(
            desk("POST", f"/desk/t/{w.knp_ref}/reply", data={"body": "Noted."}),
            lambda a: a.status_code == 303 and "flash=sent" in a.headers["location"],
            "Kanpur's own ticket answered",
        ),
    ],
    ("GET", "/desk/admin/templates"): lambda w: [
        expecting(desk("GET", "/desk/admin/templates"), _refused, "admins only")
    ],
    ("POST", "/desk/admin/templates/save"): lambda w: [
        expecting(
            desk("POST", "/desk/admin/templates/save", data={"code": "x1", "body": "hi"}),
            _refused,
            "admins only",
        )
    ],
    ("POST", "/desk/admin/templates/delete"): lambda w: [
        expecting(
            desk("POST", "/desk/admin/templates/delete", data={"id": "1"}), _refused, "admins only"
        )
    ],
    ("GET", "/desk/reports"): lambda w: [
        desk("GET", "/desk/reports"),
        desk("GET", "/desk/reports", params={"unit": "UPP-LUCKNOW"}),
        desk("GET", "/desk/reports", params={"unit": "UPP"}),
    ],
    ("GET", "/desk/reports.csv"): lambda w: [
        desk("GET", "/desk/reports.csv", params={"unit": u}) for u in ("", "UPP-LUCKNOW", "UPP")
    ],
    ("GET", "/desk/reports/rollup.csv"): lambda w: [
        desk("GET", "/desk/reports/rollup.csv", params={"unit": u})
        for u in ("", "UPP-LUCKNOW", "UPP")
    ],
    ("GET", "/desk/reports/staffing"): lambda w: [
        desk("GET", "/desk/reports/staffing", params={"unit": u})
        for u in ("", "UPP-LUCKNOW", "UPP")
    ],
    ("GET", "/desk/admin"): lambda w: [
        expecting(desk("GET", "/desk/admin"), lambda a: a.status_code == 403, "admins only")
    ],
    # Users are managed by admins of their own offices only (tests/web/test_admin_users.py
    # walks an agency admin's scope); Kanpur's agent is refused outright.
    ("GET", "/desk/admin/users"): lambda w: [
        expecting(desk("GET", "/desk/admin/users"), lambda a: a.status_code == 403, "admins")
    ],
    ("POST", "/desk/admin/users/add"): lambda w: [
        expecting(
            desk(
                "POST",
                "/desk/admin/users/add",
                data={
                    "username": "knp.x",
                    "display_name": "X",
                    "role": "admin",
                    "unit": "UPP-LUCKNOW",
                    "password": "monsoon-tiffin-42-kites",
                },
            ),
            lambda a: a.status_code == 403,
            "admins only",
        )
    ],
    **{
        ("POST", f"/desk/admin/users/{{username}}/{verb}"): _admins_only(
            f"/desk/admin/users/lko.agent/{verb}", data
        )
        for verb, data in (
            ("change", {"role": "viewer", "unit": "UPP-KANPUR"}),
            ("password", {"password": "monsoon-tiffin-42-kites"}),
            ("active", {"active": "0"}),
        )
    },
    ("POST", "/desk/admin/preview"): lambda w: [
        expecting(
            desk("POST", "/desk/admin/preview", data={"text": "units: []"}),
            lambda a: a.status_code == 403,
            "admins only",
        )
    ],
    ("POST", "/desk/admin/apply"): lambda w: [
        expecting(
            desk("POST", "/desk/admin/apply", data={"text": "units: []"}),
            lambda a: a.status_code == 403,
            "admins only",
        )
    ],
    ("POST", "/desk/admin/tokens/revoke"): lambda w: [
        expecting(
            desk("POST", "/desk/admin/tokens/revoke", data={"token": "0" * 12}),
            lambda a: a.status_code == 403,
            "admins only",
        )
    ],
    ("POST", "/desk/admin/unlock"): lambda w: [
        expecting(
            desk("POST", "/desk/admin/unlock", data={"scope": "account", "key": "lko.agent"}),
            lambda a: a.status_code == 403,
            "admins only",
        )
    ],
    ("POST", "/desk/admin/journal/retry"): lambda w: [
        expecting(
            desk("POST", "/desk/admin/journal/retry", data={"entry": "all"}),
            lambda a: a.status_code == 403,
            "admins only",
        )
    ],
}


def lko_screened(w: World) -> int:
    """Lucknow's screened-out post (pipeline/screening.py)."""
    with w.engine.connect() as conn:
        return int(
            conn.execute(
                select(t.screened_posts.c.message_id)
                .join(t.units, t.units.c.id == t.screened_posts.c.unit_id)
                .where(t.units.c.code == "UPP-LUCKNOW")
            ).scalar_one()
        )


def _screened_untouched(w: World) -> bool:
    with w.engine.connect() as conn:
        status = conn.execute(
            select(t.screened_posts.c.status).where(
                t.screened_posts.c.message_id == lko_screened(w)
            )
        ).scalar_one()
        decided = conn.execute(select(func.count()).select_from(t.triage_decisions)).scalar()
    return bool(status == "open" and decided == 0)


def _screened_probe(door: str, verb: str) -> Callable[[World], list[Call]]:
    """A decision on Lucknow's screened-out post, by the API or the desk: refused."""

    def probe(w: World) -> list[Call]:
        post = lko_screened(w)
        call = (
            api("POST", f"/api/v1/screened/{post}/{verb}", json={})
            if door == "api"
            else desk("POST", f"/desk/screened/{post}/{verb}")
        )
        return [
            expecting(
                call,
                lambda a: _refused(a) and _screened_untouched(w),
                "refused, and nothing decided",
            )
        ]

    return probe


def _offer_answer(verb: str, form: dict[str, str]) -> Callable[[World], list[Call]]:
    """Kanpur answering Lucknow's offer to its zone: not Kanpur's offer, so not found."""

    def probe(w: World) -> list[Call]:
        call = desk("POST", f"/desk/offers/{w.lko_refs[0]}/{verb}", data=form)
        return [expecting(call, _refused, "404: the offer is not to Kanpur")]

    return probe


def _lko_reopen(verb: str) -> Callable[[World], list[Call]]:
    """Reopen or appeal on Lucknow's tickets from Kanpur's desk: not found."""

    def probe(w: World) -> list[Call]:
        return [
            expecting(desk("POST", f"/desk/t/{r}/{verb}", data={"reason": "x"}), _refused, "404")
            for r in w.lko_refs
        ]

    return probe


PROBES.update(
    {
        ("GET", "/api/v1/screened"): lambda w: [
            api("GET", "/api/v1/screened", params={"order": o}) for o in ("newest", "closest")
        ],
        ("GET", "/api/v1/reports/screened"): lambda w: [
            api("GET", "/api/v1/reports/screened"),
            expecting(
                api("GET", "/api/v1/reports/screened", params={"unit": "UPP-LUCKNOW"}),
                _refused,
                "not in scope",
            ),
        ],
        **{
            ("POST", f"/api/v1/screened/{{post_id}}/{verb}"): _screened_probe("api", verb)
            for verb in ("ticket", "noise")
        },
        # Transfers (web/ui/transfers.py, api transfers): Lucknow's offer to its zone is
        # not Kanpur's to read or answer; Lucknow's tickets take no reopen or appeal.
        ("GET", "/desk/offers"): lambda w: [desk("GET", "/desk/offers")],
        ("GET", "/desk/offers/{ref}"): lambda w: [
            expecting(desk("GET", f"/desk/offers/{r}"), _refused, "not found") for r in w.lko_refs
        ],
        **{
            ("POST", f"/desk/offers/{{ref}}/{verb}"): _offer_answer(verb, form)
            for verb, form in (("accept", {}), ("return", {"reason": "not ours"}))
        },
        **{("POST", f"/desk/t/{{ref}}/{verb}"): _lko_reopen(verb) for verb in ("reopen", "appeal")},
        ("GET", "/api/v1/transfers/sent"): lambda w: [api("GET", "/api/v1/transfers/sent")],
        ("GET", "/api/v1/transfers/{ref}"): lambda w: [
            expecting(api("GET", f"/api/v1/transfers/{r}"), _refused, "not found")
            for r in w.lko_refs
        ],
        ("GET", "/api/v1/tickets/{ref}/transfers"): lambda w: [
            *(
                expecting(api("GET", f"/api/v1/tickets/{r}/transfers"), _refused, "not found")
                for r in w.lko_refs
            ),
            api("GET", f"/api/v1/tickets/{w.knp_ref}/transfers"),
        ],
        ("GET", "/desk/screened"): lambda w: [
            desk("GET", "/desk/screened", params={"order": o}) for o in ("newest", "closest")
        ],
        **{
            ("POST", f"/desk/screened/{{post_id}}/{verb}"): _screened_probe("desk", verb)
            for verb in ("ticket", "noise")
        },
    }
)


# Alerts (issue 19): Lucknow's alerts, one to its officer and one to its unit, stay Lucknow's.
def lko_alerts(w: World) -> list[int]:
    n = t.notifications.c
    with w.engine.begin() as conn:
        ids = list(conn.execute(select(n.id).where(n.kind == "sos_probe")).scalars())
        if ids:
            return ids
        tk = t.tickets.c
        ticket = conn.execute(select(tk.id).where(tk.ref == w.lko_refs[-1])).scalar_one()
        agent = conn.execute(select(t.users.c.id).where(t.users.c.username == "lko.agent"))
        unit = conn.execute(select(t.units.c.id).where(t.units.c.code == "UPP-LUCKNOW"))
        message = f"SOS {w.lko_refs[-1]}: needs immediate attention"
        for user_id, unit_id in ((agent.scalar_one(), None), (None, unit.scalar_one())):
            conn.execute(
                t.notifications.insert().values(
                    user_id=user_id,
                    unit_id=unit_id,
                    ticket_id=ticket,
                    kind="sos_probe",
                    message=message,
                    created_at=w.clock.now(),
                )
            )
    return lko_alerts(w)


def _kanpur_alerts(w: World) -> int:
    n, un = t.notifications.c, t.units.c
    with w.engine.connect() as conn:
        knp_user = select(t.users.c.id).where(t.users.c.username == "knp.agent")
        knp_units = select(un.id).where(
            un.path.startswith(select(un.path).where(un.code == "UPP-KANPUR").scalar_subquery())
        )
        return int(
            conn.execute(
                select(func.count()).where(
                    (n.user_id == knp_user.scalar_subquery())
                    | (n.user_id.is_(None) & n.unit_id.in_(knp_units))
                )
            ).scalar_one()
        )


def _lucknow_alerts_unread(w: World) -> bool:
    from sevadesk.store.alerts_repo import alert_count

    with w.engine.connect() as conn:
        agent = actor_by_username(conn, "lko.agent")
        assert agent is not None
        return alert_count(conn, agent).unread >= 2


PROBES.update(
    {
        ("GET", "/desk/alerts"): lambda w: [
            desk("GET", "/desk/alerts", params=p)
            for p in ({}, {"before": str(max(lko_alerts(w)) + 1)}, {"fragment": "panel"})
        ],
        ("GET", "/desk/alerts/count"): lambda w: [
            expecting(
                desk("GET", "/desk/alerts/count"),
                lambda a: bool(lko_alerts(w)) and a.json()["unread"] == _kanpur_alerts(w),
                "Kanpur's own alerts counted, none of Lucknow's",
            )
        ],
        ("POST", "/desk/alerts/{alert_id}/read"): lambda w: [
            expecting(desk("POST", f"/desk/alerts/{i}/read"), _refused, "not found")
            for i in lko_alerts(w)
        ],
        ("POST", "/desk/alerts/read-all"): lambda w: [
            expecting(
                desk("POST", "/desk/alerts/read-all"),
                lambda a: a.status_code == 303 and _lucknow_alerts_unread(w),
                "Kanpur's own alerts read; Lucknow's still unread for Lucknow",
            )
        ],
        ("POST", "/desk/alerts/sound"): lambda w: [
            expecting(
                desk("POST", "/desk/alerts/sound", data={"muted": "1"}),
                lambda a: a.status_code == 303,
                "the caller's own setting",
            )
        ],
    }
)


# The inbox at volume (issue 19): the changed-rows delta, bulk actions, saved views, presence.
def _bulk_refused(answer: Any) -> bool:
    where = answer.headers.get("location", "")
    return bool(answer.status_code == 303 and "0+changed" in where and "refused" in where)


def _lko_view(w: World) -> int:
    """A saved view of Lucknow's officer (made once), which Kanpur's must not delete."""
    v = t.saved_views.c
    with w.engine.begin() as conn:
        found = conn.execute(select(v.id).where(v.name == "lko view")).scalar()
        if found is None:
            lko = actor_by_username(conn, "lko.agent")
            assert lko is not None
            found = conn.execute(
                t.saved_views.insert().values(
                    user_id=lko.id, name="lko view", query="queue=sos", created_at=w.clock.now()
                )
            ).inserted_primary_key[0]
    return int(found)


def _view_kept(w: World) -> bool:
    with w.engine.connect() as conn:
        return (
            conn.execute(
                select(t.saved_views.c.id).where(t.saved_views.c.name == "lko view")
            ).scalar()
            is not None
        )


BULK_FORMS = {
    "assign_me": {},
    "assign": {"username": "knp.agent"},
    "status": {"status": "in_progress"},
    "label_add": {"label": "kanpur"},
    "label_remove": {"label": "kanpur"},
    "merge": {},
}
PROBES.update(
    {
        ("GET", "/desk/changes"): lambda w: [
            expecting(
                desk("GET", "/desk/changes", params={"since": "0.0.0", **p}),
                lambda a: a.status_code == 200 and not any(r in a.text for r in w.lko_refs),
                "Kanpur's changed rows only",
            )
            for p in ({}, {"queue": "breaching"}, {"q": "Hazratganj"})
        ],
        ("POST", "/desk/bulk"): lambda w: [
            *(
                expecting(
                    desk("POST", "/desk/bulk", data={"action": a, "ref": w.lko_refs, **f}),
                    _bulk_refused,
                    "every ticket refused",
                )
                for a, f in BULK_FORMS.items()
            ),
            expecting(
                desk("POST", "/desk/bulk", data={"one": w.lko_refs[-1]}),
                _bulk_refused,
                "Kanpur's officer cannot take Lucknow's ticket",
            ),
            expecting(  # Lucknow's ticket merged into Kanpur's: refused
                desk(
                    "POST",
                    "/desk/bulk",
                    data={"action": "merge", "ref": [w.knp_ref, w.lko_refs[-1]]},
                ),
                _bulk_refused,
                "refused",
            ),
        ],
        ("POST", "/desk/views"): lambda w: [
            desk("POST", "/desk/views", data={"name": "mine", "query": "queue=mine"})
        ],
        ("POST", "/desk/views/{view_id}/delete"): lambda w: [
            expecting(
                desk("POST", f"/desk/views/{_lko_view(w)}/delete"),
                lambda a: _view_kept(w),
                "Lucknow's view stays",
            )
        ],
        ("POST", "/desk/presence/{ref}"): lambda w: [
            expecting(desk("POST", f"/desk/presence/{r}"), _refused, "not found")
            for r in w.lko_refs
        ],
    }
)


DESK_FORMS = {  # "reply" has a route of its own (web/ui/replies.py), walked above
    "status": {"status": "in_progress"},
    "category": {"category": "traffic"},
    "assign": {"username": "knp.agent"},
    "transfer": {"unit": "UPP-KANPUR", "reason": "ours"},
    "note": {"note": "looking"},
    "detach": {"reason": "not the same"},
    "merge": {"into": "UPP-000001"},
}


def knp(w: World) -> set[str]:
    with w.engine.connect() as conn:
        return set(
            conn.execute(
                select(t.tickets.c.ref)
                .join(t.units, t.units.c.id == t.tickets.c.unit_id)
                .where(t.units.c.code == "UPP-KANPUR")
            ).scalars()
        )


def app_routes() -> set[tuple[str, str]]:
    from sqlalchemy import create_engine

    app = create_app(Settings(database_url="sqlite://"), create_engine("sqlite://"))
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        methods = (route.methods or {"MOUNT"}) - {"HEAD"}
        found |= {(m, route.path) for m in methods}
    return found


def test_every_route_is_walked_or_needs_no_scope() -> None:
    routes = app_routes()
    unwalked = routes - set(PROBES) - set(NEEDS_NO_SCOPE)
    assert not unwalked, f"routes without a scope probe (add one to PROBES): {sorted(unwalked)}"
    assert not (set(PROBES) | set(NEEDS_NO_SCOPE)) - routes, "probes of routes that are gone"
    assert not set(PROBES) & set(NEEDS_NO_SCOPE)


def test_the_desk_forms_walked_are_all_the_forms() -> None:
    from sevadesk.web.ui.desk import _TICKET_FORMS

    assert set(_TICKET_FORMS) == set(DESK_FORMS)


def test_a_sibling_districts_officer_finds_nothing_of_lucknows_on_any_route(world: World) -> None:
    problems: list[str] = []
    for probe in PROBES.values():
        for call in probe(world):
            before = lucknow_state(world)
            door = world.api if call.door == "api" else world.desk
            answer = door(call.method, call.path, **call.kw)
            where = f"{call.method} {call.path} {call.kw or ''}"
            if answer.status_code >= 500:
                problems.append(f"{where}: {answer.status_code}")
            body = answer.text + answer.headers.get("location", "")
            # What the caller sent may come back ("no ticket UPP-000005"); it tells nothing.
            sent = f"{call.path} {call.kw}".lower()
            leaked = [m for m in world.markers if m in body and m.lower() not in sent]
            if leaked:
                problems.append(f"{where}: shows {leaked}")
            if lucknow_state(world) != before:
                problems.append(f"{where}: changed Lucknow's tickets")
            if call.expect is not None and not call.expect(answer):
                problems.append(f"{where}: expected {call.why}, got {answer.status_code}")
    assert not problems, "\n".join(problems)
    live_stream_tells_kanpur_of_kanpurs_changes_only(world)  # last: it changes Lucknow's


def live_stream_tells_kanpur_of_kanpurs_changes_only(world: World) -> None:
    """GET /desk/events: the stream's `changed` events follow the officer's scope."""

    def change(ref: str, username: str) -> None:
        world.clock.advance(timedelta(seconds=5))
        with world.engine.begin() as conn:
            who = actor_by_username(conn, username)
            assert who is not None
            actions.change_status(conn, who, ref, "in_progress", None, world.clock.now())

    from sevadesk.web.ui import inbox_work

    keep_alive, inbox_work.KEEP_ALIVE_SECONDS = inbox_work.KEEP_ALIVE_SECONDS, 2.0
    try:
        with world.client.stream("GET", "/desk/events") as stream:
            chunks = stream.iter_text()
            assert next(chunks).startswith("retry:")
            change(world.lko_refs[-1], "lko.agent")
            assert next(chunks) == ": keep-alive\n\n"  # Lucknow's change is not Kanpur's news
            change(world.knp_ref, "knp.agent")
            pushed = next(chunks)
            assert "event: rows" in pushed and world.knp_ref in pushed
            assert not any(m in pushed for m in world.markers)
    finally:
        inbox_work.KEEP_ALIVE_SECONDS = keep_alive
