"""Admin edits the organisation as YAML: validated with key paths, diff previewed, applied, recorded."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from sevadesk.config import Settings
from sevadesk.store import tables as t
from sevadesk.web.app import create_app
from tests.conftest import TEST_ORG
from tests.web.signin import sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def client(org_engine: Engine, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, org_engine)) as c:
        yield c


def changes(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.config_changes)).scalar_one())


def test_only_an_organisation_admin_may_open_it(client: TestClient) -> None:
    sign_in(client, "lko.agent", "lko-password")
    assert client.get("/desk/admin").status_code == 403


def test_an_invalid_file_is_refused_with_the_key_named(
    client: TestClient, org_engine: Engine
) -> None:
    csrf = sign_in(client, "admin", "admin-password")
    broken = TEST_ORG.read_text(encoding="utf-8").replace(
        "{unit: UPP, first_response: 1h", "{unit: UPPX, first_response: 1h"
    )
    answer = client.post("/desk/admin/preview", data={"csrf": csrf, "text": broken})
    assert answer.status_code == 400 and "sla_policies[1]" in answer.text and "UPPX" in answer.text
    assert changes(org_engine) == 0


def test_a_change_is_previewed_as_a_diff_then_applied_and_recorded(
    client: TestClient, org_engine: Engine
) -> None:
    csrf = sign_in(client, "admin", "admin-password")
    text = TEST_ORG.read_text(encoding="utf-8").replace(
        '  - {code: ack, language: en, body: "Registered as {ref}."}',
        '  - {code: ack, language: en, body: "Registered as {ref}."}\n'
        '  - {code: ack, language: hi, body: "{ref} दर्ज की गई।"}',
    )
    preview = client.post("/desk/admin/preview", data={"csrf": csrf, "text": text})
    assert preview.status_code == 200 and "Apply these changes" in preview.text
    assert "दर्ज की गई" in preview.text and changes(org_engine) == 0
    applied = client.post("/desk/admin/apply", data={"csrf": csrf, "text": text})
    assert applied.status_code == 200 and "Applied:" in applied.text
    with org_engine.connect() as conn:
        languages = set(
            conn.execute(
                select(t.reply_templates.c.language).where(t.reply_templates.c.code == "ack")
            ).scalars()
        )
        actor = conn.execute(select(t.config_changes.c.actor)).scalar_one()
    assert languages == {"en", "hi"} and actor == "user:admin"
    assert (
        client.post("/desk/admin/apply", data={"csrf": "forged", "text": text}).status_code == 403
    )


def test_the_admin_and_public_pages_speak_hindi(client: TestClient) -> None:
    client.cookies.set("seva_lang", "hi")
    assert "शिकायत डेस्क का सार्वजनिक रिकॉर्ड" in client.get("/public").text
    sign_in(client, "admin", "admin-password")
    assert "जाँचें और अंतर देखें" in client.get("/desk/admin").text
