"""Admin: the org editor opens on the current organisation, its errors name the key in plain
words, and users are managed through forms — scoped to the admin's offices, audited, CSRF
protected."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from sevadesk.config import Settings
from sevadesk.store import tables as t
from sevadesk.store.users_repo import actor_by_username, create_user
from sevadesk.web.app import create_app
from tests.web.signin import post_login, sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

GOOD_PASSWORD = "monsoon-tiffin-42-kites"


@pytest.fixture
def app(org_engine: Engine, settings: Settings):  # type: ignore[no-untyped-def]
    return create_app(settings, org_engine)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


@pytest.fixture
def upp_admin(org_engine: Engine) -> str:
    """An administrator of UP Police only (added by the deployment's admin)."""
    with org_engine.begin() as conn:
        root = actor_by_username(conn, "admin")
        assert root is not None
        create_user(conn, root, "upp.admin", "UPP admin", "admin", "UPP", GOOD_PASSWORD, _now())
    return "upp.admin"


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)


def events(engine: Engine, action: str) -> list[tuple[str, str, str | None]]:
    e = t.account_events.c
    with engine.connect() as conn:
        rows = conn.execute(select(e.actor, e.subject, e.detail).where(e.action == action))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_the_editor_opens_on_the_organisation_even_before_any_recorded_file(
    client: TestClient,
) -> None:
    csrf = sign_in(client, "admin", "admin-password")
    page = client.get("/desk/admin").text
    text = re.search(r'<textarea id="org-text"[^>]*>(.*?)</textarea>', page, re.S)
    assert text and "code: UPP-LUCKNOW" in text.group(1) and "password_hash:" in text.group(1)
    assert "admin-password" not in page  # hashes, never a password
    import html

    preview = client.post(
        "/desk/admin/preview", data={"csrf": csrf, "text": html.unescape(text.group(1))}
    )
    assert preview.status_code == 200 and "Apply these changes" in preview.text


def test_an_invalid_file_says_which_key_and_what_is_wrong_in_plain_words(
    client: TestClient,
) -> None:
    csrf = sign_in(client, "admin", "admin-password")
    page = client.get("/desk/admin").text
    import html

    text = html.unescape(
        re.search(r'<textarea id="org-text"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    )  # type: ignore[union-attr]
    broken = text.replace("unit: UPP-LUCKNOW", "unit: UPP-XYZ", 1).replace(
        "role: agent", "role: boss", 1
    )
    answer = client.post("/desk/admin/preview", data={"csrf": csrf, "text": broken})
    assert answer.status_code == 400
    assert "role: &#39;boss&#39; is not allowed: use &#39;agent&#39;" in answer.text
    fixed_role = broken.replace("role: boss", "role: agent")
    answer = client.post("/desk/admin/preview", data={"csrf": csrf, "text": fixed_role})
    assert re.search(r"users\[\d\]\.unit: no unit with code &#39;UPP-XYZ&#39;", answer.text)


def test_an_admin_adds_a_user_who_signs_in_and_cannot_once_deactivated(
    app, org_engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app) as admin, TestClient(app) as newcomer:
        csrf = sign_in(admin, "admin", "admin-password")
        weak = admin.post(
            "/desk/admin/users/add",
            data={
                "csrf": csrf,
                "username": "knp.si",
                "display_name": "Kanpur SI",
                "role": "agent",
                "unit": "UPP-KANPUR",
                "password": "short",
            },
        )
        assert weak.status_code == 400 and "at least 12 characters" in weak.text
        assert 'value="knp.si"' in weak.text and 'value="Kanpur SI"' in weak.text  # kept
        added = admin.post(
            "/desk/admin/users/add",
            data={
                "csrf": csrf,
                "username": "knp.si",
                "display_name": "Kanpur SI",
                "role": "agent",
                "unit": "UPP-KANPUR",
                "password": GOOD_PASSWORD,
            },
        )
        assert added.status_code == 200 and "Added knp.si" in added.text
        assert events(org_engine, "user_added") == [("user:admin", "knp.si", "agent at UPP-KANPUR")]
        sign_in(newcomer, "knp.si", GOOD_PASSWORD)
        assert newcomer.get("/desk", follow_redirects=False).status_code == 200

        off = admin.post("/desk/admin/users/knp.si/active", data={"csrf": csrf, "active": "0"})
        assert off.status_code == 200 and "deactivated" in off.text
        # The open session ends at once, and the password no longer signs in.
        assert newcomer.get("/desk", follow_redirects=False).status_code == 303
        refused = post_login(newcomer, "knp.si", GOOD_PASSWORD, follow_redirects=False)
        assert refused.headers["location"] == "/desk/login?error=1"
        back = admin.post("/desk/admin/users/knp.si/active", data={"csrf": csrf, "active": "1"})
        assert "active again" in back.text
        sign_in(newcomer, "knp.si", GOOD_PASSWORD)
    assert [e[1] for e in events(org_engine, "user_deactivated")] == ["knp.si"]
    assert [e[1] for e in events(org_engine, "user_reactivated")] == ["knp.si"]


def test_role_unit_and_password_changes_are_audited_and_a_reset_signs_the_user_out(
    app, org_engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app) as admin, TestClient(app) as agent:
        csrf = sign_in(admin, "admin", "admin-password")
        sign_in(agent, "lko.agent", "lko-password")
        moved = admin.post(
            "/desk/admin/users/lko.agent/change",
            data={"csrf": csrf, "role": "supervisor", "unit": "UPP-Z-LKO"},
        )
        assert "role agent → supervisor; unit UPP-LUCKNOW → UPP-Z-LKO" in moved.text
        reset = admin.post(
            "/desk/admin/users/lko.agent/password", data={"csrf": csrf, "password": GOOD_PASSWORD}
        )
        assert reset.status_code == 200 and "New password set for lko.agent" in reset.text
        assert agent.get("/desk", follow_redirects=False).status_code == 303  # signed out
        sign_in(agent, "lko.agent", GOOD_PASSWORD)
        forged = admin.post(
            "/desk/admin/users/lko.agent/active", data={"csrf": "forged", "active": "0"}
        )
        assert forged.status_code == 403
    with org_engine.connect() as conn:
        row = conn.execute(
            select(t.users.c.role, t.users.c.active).where(t.users.c.username == "lko.agent")
        ).one()
    assert row == ("supervisor", True)
    assert events(org_engine, "user_changed")[0][2] == (
        "role agent → supervisor; unit UPP-LUCKNOW → UPP-Z-LKO"
    )
    assert [e[1] for e in events(org_engine, "password_reset")] == ["lko.agent"]


def test_an_agencys_admin_sees_and_touches_only_its_own_users(
    client: TestClient, org_engine: Engine, upp_admin: str
) -> None:
    csrf = sign_in(client, upp_admin, GOOD_PASSWORD)
    assert client.get("/desk/admin", follow_redirects=False).headers["location"] == (
        "/desk/admin/users"
    )
    page = client.get("/desk/admin/users").text
    assert "lko.agent" in page and "knp.agent" in page
    assert "rly.agent" not in page and "Railway agent" not in page and "RLY-NR" not in page
    attempts = {
        "change": ("/desk/admin/users/rly.agent/change", {"role": "viewer", "unit": "UPP"}),
        "password": ("/desk/admin/users/rly.agent/password", {"password": GOOD_PASSWORD}),
        "deactivate": ("/desk/admin/users/rly.agent/active", {"active": "0"}),
        "root admin": ("/desk/admin/users/admin/active", {"active": "0"}),
        "add there": (
            "/desk/admin/users/add",
            {
                "username": "rly.new",
                "display_name": "New",
                "role": "agent",
                "unit": "RLY",
                "password": GOOD_PASSWORD,
            },
        ),
        "move here to there": (
            "/desk/admin/users/lko.agent/change",
            {"role": "agent", "unit": "RLY-NR-LKO"},
        ),
        "own role": ("/desk/admin/users/upp.admin/change", {"role": "agent", "unit": "UPP"}),
        "self off": ("/desk/admin/users/upp.admin/active", {"active": "0"}),
    }
    with org_engine.connect() as conn:
        before = conn.execute(select(t.users).order_by(t.users.c.id)).all()
    for name, (path, data) in attempts.items():
        answer = client.post(path, data={"csrf": csrf, **data})
        assert answer.status_code == 400, name
        assert "Railway agent" not in answer.text and "RLY-NR-LKO —" not in answer.text, name
    with org_engine.connect() as conn:
        assert conn.execute(select(t.users).order_by(t.users.c.id)).all() == before
    # Inside its own agency it may act.
    done = client.post(
        "/desk/admin/users/knp.agent/change", data={"csrf": csrf, "role": "viewer", "unit": "UPP"}
    )
    assert done.status_code == 200 and "role agent → viewer" in done.text


def test_only_an_admin_may_open_the_users_page(client: TestClient) -> None:
    csrf = sign_in(client, "lko.agent", "lko-password")
    assert client.get("/desk/admin/users").status_code == 403
    answer = client.post("/desk/admin/users/knp.agent/active", data={"csrf": csrf, "active": "0"})
    assert answer.status_code == 403


def test_applying_the_editors_file_after_a_user_change_keeps_the_change(
    client: TestClient, org_engine: Engine
) -> None:
    import html

    from tests.conftest import TEST_ORG

    csrf = sign_in(client, "admin", "admin-password")
    applied = client.post("/desk/admin/apply", data={"csrf": csrf, "text": TEST_ORG.read_text()})
    assert "Applied:" in applied.text
    client.post("/desk/admin/users/knp.agent/active", data={"csrf": csrf, "active": "0"})
    page = client.get("/desk/admin").text
    found = re.search(r'<textarea id="org-text"[^>]*>(.*?)</textarea>', page, re.S)
    assert found
    text = html.unescape(found.group(1))
    # Not the file applied before (it lists knp.agent as active): the organisation as it is.
    assert "knp.agent" not in text and "lko.agent" in text
    assert "Applied:" in client.post("/desk/admin/apply", data={"csrf": csrf, "text": text}).text
    with org_engine.connect() as conn:
        active = conn.execute(
            select(t.users.c.active).where(t.users.c.username == "knp.agent")
        ).scalar_one()
    assert active is False
