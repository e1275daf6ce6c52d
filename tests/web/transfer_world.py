"""The test organisation with a third district (Agra, in a zone of its own) and its officer:
the office that must never see what Lucknow offers Kanpur. Shared by the transfer tests."""

from __future__ import annotations

from typing import Any

import yaml
from sqlalchemy import Engine, select

from sevadesk.pipeline.runner import Pipeline
from sevadesk.routing.orgfile import parse_org
from sevadesk.store import tables as t
from sevadesk.store.org_repo import apply_org
from tests.conftest import TEST_ORG
from tests.factories import lines, tweet

# Lucknow's post that names Kanpur too: routed to Lucknow (its first place), offered to Kanpur.
TO_KANPUR = (
    "@Uppolice my phone was snatched at Charbagh, Lucknow 226001, the thief took a bus to"
    " Kanpur 208001. Call me on 9876543210"
)
ALSO_TO_KANPUR = "@Uppolice chain snatching near Hazratganj, Lucknow 226001 by a gang from Kanpur"
PHONE = "9876543210"


def add_agra(engine: Engine) -> None:
    data: dict[str, Any] = yaml.safe_load(TEST_ORG.read_text(encoding="utf-8"))
    upp = next(u for u in data["units"][0]["children"] if u["code"] == "UPP")
    upp["children"].append(
        {
            "code": "UPP-Z-AGR",
            "name": "Agra zone",
            "kind": "zone",
            "children": [
                {
                    "code": "UPP-AGRA",
                    "name": "Agra police",
                    "kind": "commissionerate",
                    "jurisdiction": {"districts": ["Agra"], "pins": ["282001"]},
                }
            ],
        }
    )
    data["users"].append(
        {
            "username": "agra.agent",
            "name": "Agra agent",
            "role": "agent",
            "unit": "UPP-AGRA",
            "password": "agra-password",
        }
    )
    with engine.begin() as conn:
        apply_org(conn, parse_org(data, "test org with Agra"))


def lucknow_tickets(pipeline: Pipeline, engine: Engine) -> list[str]:
    """Two of Lucknow's tickets that are Kanpur's business; their references."""
    pipeline.ingest(
        "x",
        "test",
        lines(
            tweet(TO_KANPUR, author_id="4101", username="lko_rider"),
            tweet(ALSO_TO_KANPUR, author_id="4102", username="lko_walker", minutes=1),
        ),
    )
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.tickets.c.ref, t.units.c.code)
            .join(t.units, t.units.c.id == t.tickets.c.unit_id)
            .order_by(t.tickets.c.id)
        ).all()
    assert [r.code for r in rows] == ["UPP-LUCKNOW", "UPP-LUCKNOW"], rows
    return [r.ref for r in rows]
