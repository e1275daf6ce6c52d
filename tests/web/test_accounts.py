"""Secrets and accounts: no password kept in the configuration history, tokens that expire
and can be revoked, password guessing throttled, and no telling which users exist."""

from __future__ import annotations

import asyncio
import re
import statistics
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from sevadesk.cli import app as seva
from sevadesk.config import Settings
from sevadesk.domain.clock import FrozenClock
from sevadesk.routing.orgfile import parse_org_text
from sevadesk.store import tables as t
from sevadesk.store.org_repo import apply_org
from sevadesk.store.users_repo import issue_token
from sevadesk.web.app import create_app
from tests.conftest import TEST_ORG
from tests.factories import BASE_TIME as BASE
from tests.web.signin import login_csrf, post_login, sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORDS = ("admin-password", "lko-password", "knp-password", "viewer-password")


@pytest.fixture
def client(org_engine: Engine, settings: Settings, clock: FrozenClock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, org_engine, clock)) as c:
        yield c


def history_texts(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(select(t.config_changes.c.text, t.config_changes.c.diff)).all()
    return [part for row in rows for part in row]


# No secret in the configuration history -------------------------------------------------------


def test_an_org_file_loaded_by_the_cli_is_kept_without_its_passwords(engine: Engine) -> None:
    url = str(engine.url.render_as_string(hide_password=False))
    result = CliRunner().invoke(seva, ["org", "load", str(TEST_ORG), "--database", url])
    assert result.exit_code == 0, result.output
    texts = history_texts(engine)
    assert texts and not any(p in text for text in texts for p in PASSWORDS)
    # What is kept still loads to the same users: the hashes stand in for the passwords.
    stored = texts[0]
    assert "password_hash: '$argon2id$" in stored
    spec = parse_org_text(stored)
    with engine.begin() as conn:
        apply_org(conn, spec)
    with TestClient(create_app(Settings(database_url=url), engine)) as c:
        assert c.post(
            "/api/v1/auth/token", json={"username": "admin", "password": "admin-password"}
        ).is_success


def test_the_admin_page_never_shows_a_password(client: TestClient, org_engine: Engine) -> None:
    csrf = sign_in(client, "admin", "admin-password")
    text = TEST_ORG.read_text(encoding="utf-8").replace("Lucknow agent", "Lucknow desk agent")
    preview = client.post("/desk/admin/preview", data={"csrf": csrf, "text": text})
    diff = preview.text.split('id="diff"')[1].split("</pre>")[0]
    assert not any(p in diff for p in PASSWORDS)
    applied = client.post("/desk/admin/apply", data={"csrf": csrf, "text": text})
    assert applied.status_code == 200 and "Applied" in applied.text
    for page in (applied.text, client.get("/desk/admin").text):
        assert not any(p in page for p in PASSWORDS)
    assert not any(p in text for text in history_texts(org_engine) for p in PASSWORDS)


def test_the_migration_removes_passwords_already_in_the_history(database_url: str) -> None:
    from alembic import command

    from sevadesk.store.db import alembic_config, make_engine, upgrade

    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), "0012")
    text = TEST_ORG.read_text(encoding="utf-8")
    # The org as that schema held it: its templates' language/channel columns came later
    # (0027), so today's loader writes the org without them.
    spec = parse_org_text(text).model_copy(update={"templates": []})
    with engine.begin() as conn:
        apply_org(conn, spec)
        conn.execute(
            t.config_changes.insert().values(
                at=BASE, actor="cli", summary="+1", diff="+" + text, text=text
            )
        )
    upgrade(engine)
    texts = history_texts(engine)
    assert not any(p in part for part in texts for p in PASSWORDS)
    assert "password_hash: '$argon2id$" in texts[0]
    engine.dispose()


# Tokens expire and can be revoked ------------------------------------------------------------


def me(client: TestClient, token: str) -> httpx.Response:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def test_a_token_from_a_password_carries_an_expiry_and_then_stops_working(
    client: TestClient, clock: FrozenClock
) -> None:
    issued = client.post(
        "/api/v1/auth/token", json={"username": "lko.agent", "password": "lko-password"}
    ).json()
    assert issued["expires_at"].startswith(str((clock.now() + timedelta(hours=12)).date()))
    assert me(client, issued["token"]).status_code == 200
    clock.advance(timedelta(hours=12, seconds=1))
    answer = me(client, issued["token"])
    assert answer.status_code == 401 and "expired" in answer.json()["detail"]


def test_the_cli_lists_and_revokes_tokens_without_showing_them(
    client: TestClient, org_engine: Engine
) -> None:
    url = org_engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    issued = runner.invoke(seva, ["user", "token", "lko.agent", "--days", "2", "-d", url])
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip().splitlines()[-1]
    assert me(client, token).status_code == 200
    listed = runner.invoke(seva, ["user", "token", "lko.agent", "--list", "-d", url]).stdout
    assert token not in listed and "live" in listed
    token_id = re.search(r"\b([0-9a-f]{12})\b", listed)
    assert token_id
    revoked = runner.invoke(
        seva, ["user", "token", "lko.agent", "--revoke", token_id.group(1), "-d", url]
    )
    assert revoked.exit_code == 0, revoked.output
    assert me(client, token).status_code == 401
    assert (
        "revoked" in runner.invoke(seva, ["user", "token", "lko.agent", "--list", "-d", url]).stdout
    )
    with org_engine.connect() as conn:
        actions = conn.execute(select(t.account_events.c.action)).scalars().all()
    assert actions == ["token_issued", "token_revoked"]


def test_an_admin_revokes_a_token_on_the_admin_page(client: TestClient, org_engine: Engine) -> None:
    with org_engine.begin() as conn:
        token = issue_token(conn, "knp.agent", "integration")
    csrf = sign_in(client, "admin", "admin-password")
    page = client.get("/desk/admin").text
    assert token not in page
    token_id = re.search(r'name="token" value="([0-9a-f]+)"', page)
    assert token_id
    done = client.post("/desk/admin/tokens/revoke", data={"csrf": csrf, "token": token_id[1]})
    assert done.status_code == 200 and "Revoked knp.agent" in done.text
    assert me(client, token).status_code == 401
    assert "token_revoked" in done.text  # in the accounts' history on the page


# Throttling ----------------------------------------------------------------------------------


def guess(client: TestClient, username: str, password: str = "wrong-guess") -> httpx.Response:
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_password_guessing_locks_the_account_even_for_the_right_password(
    client: TestClient, clock: FrozenClock
) -> None:
    answers = [guess(client, "lko.agent").status_code for _ in range(50)]
    assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}
    locked = guess(client, "lko.agent", "lko-password")
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert "try again after" in locked.json()["detail"]
    clock.advance(timedelta(hours=1, seconds=1))  # the longest lock, by default
    assert guess(client, "lko.agent", "lko-password").status_code == 200


def test_the_desk_says_in_plain_words_when_to_retry(client: TestClient) -> None:
    for _ in range(6):
        post_login(client, "knp.agent", "wrong-guess")
    answer = post_login(client, "knp.agent", "knp-password", follow_redirects=False)
    assert answer.status_code == 429 and "seva_session" not in answer.cookies
    assert re.search(r"Try again after \d\d:\d\d IST \(in \d+ min\)", answer.text)


def test_one_address_guessing_many_accounts_is_locked(
    org_engine: Engine, settings: Settings, clock: FrozenClock
) -> None:
    tight = settings.model_copy(update={"login_address_free_failures": 8})
    with TestClient(create_app(tight, org_engine, clock)) as c:
        answers = [guess(c, f"user{i}").status_code for i in range(12)]
        assert answers[:8] == [401] * 8 and set(answers[8:]) == {429}
        # Another address is not held back by this one.
        other = TestClient(create_app(tight, org_engine, clock), client=("10.0.0.9", 5000))
        assert guess(other, "admin", "admin-password").status_code == 200


def test_the_lock_holds_in_every_process_on_the_database(
    org_engine: Engine, settings: Settings, clock: FrozenClock
) -> None:
    first = TestClient(create_app(settings, org_engine, clock))
    second = TestClient(create_app(settings, org_engine, clock))
    for _ in range(6):
        guess(first, "rly.agent")
    assert guess(second, "rly.agent", "rly-password").status_code == 429


def test_an_admin_unlocks_an_account(client: TestClient, org_engine: Engine) -> None:
    for _ in range(6):
        guess(client, "lko.agent")
    admin = TestClient(client.app, client=("10.0.0.7", 5000))
    csrf = sign_in(admin, "admin", "admin-password")
    page = admin.get("/desk/admin").text
    assert 'id="locks"' in page and "lko.agent" in page
    done = admin.post(
        "/desk/admin/unlock", data={"csrf": csrf, "scope": "account", "key": "lko.agent"}
    )
    assert "Unlocked lko.agent" in done.text
    assert guess(client, "lko.agent", "lko-password").status_code == 200
    with org_engine.connect() as conn:
        events = conn.execute(select(t.account_events.c.action, t.account_events.c.actor)).all()
    assert ("sign_in_locked", "system") in events and ("sign_in_unlocked", "user:admin") in events


# Password checks neither block other users nor tell who exists --------------------------------


def test_password_checks_run_a_few_at_a_time_off_the_event_loop(
    org_engine: Engine, settings: Settings, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from argon2 import PasswordHasher
    from argon2.exceptions import VerifyMismatchError

    running, most = 0, 0
    lock = threading.Lock()

    def slow_verify(_self: object, _hash: str, _password: object) -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.3)
        with lock:
            running -= 1
        raise VerifyMismatchError

    monkeypatch.setattr(PasswordHasher, "verify", slow_verify)
    app = create_app(settings, org_engine, clock)

    async def scenario() -> float:
        transport = httpx.ASGITransport(app=app, client=("10.1.1.1", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://desk") as c:
            assert (await c.get("/healthz")).status_code == 200  # warm: first connection
            guesses = [
                asyncio.create_task(
                    c.post("/api/v1/auth/token", json={"username": name, "password": "x"})
                )
                for name in ("admin", "lko.agent", "knp.agent", "rly.agent") * 2
            ]
            await asyncio.sleep(0.1)
            started = time.perf_counter()
            assert (await c.get("/healthz")).status_code == 200
            waited = time.perf_counter() - started
            await asyncio.gather(*guesses)
            return waited

    waited = asyncio.run(scenario())
    assert waited < 0.25  # another user's request is not queued behind the guesses
    assert most == settings.password_checks_at_once


@pytest.fixture
def real_argon2(org_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The production parameters, for the admin's password and the stand-in hash alike."""
    from argon2 import PasswordHasher

    import sevadesk.store.credentials as credentials

    monkeypatch.setattr(credentials, "_hasher", PasswordHasher())
    credentials._stand_in_hash.cache_clear()
    with org_engine.begin() as conn:
        conn.execute(
            t.users.update()
            .where(t.users.c.username == "admin")
            .values(password_hash=credentials.hash_password("admin-password"))
        )
    yield
    credentials._stand_in_hash.cache_clear()


def test_passwords_are_hashed_with_argon2id_64_mib() -> None:
    from argon2 import PasswordHasher, Type

    hasher = PasswordHasher()  # what credentials uses outside the tests
    assert (hasher.type, hasher.memory_cost, hasher.time_cost) == (Type.ID, 65536, 3)


@pytest.mark.usefixtures("real_argon2")
def test_an_unknown_user_takes_as_long_to_refuse_as_a_known_one(client: TestClient) -> None:
    def seconds(username: str) -> float:
        started = time.perf_counter()
        assert guess(client, username).status_code == 401
        return time.perf_counter() - started

    known, unknown = [], []
    for i in range(3):  # under the lock threshold
        known.append(seconds("admin"))
        unknown.append(seconds(f"nobody-{i}"))
    known_median, unknown_median = statistics.median(known), statistics.median(unknown)
    assert unknown_median > 0.6 * known_median, (known, unknown)


@pytest.mark.usefixtures("real_argon2")
def test_the_login_form_is_as_slow_for_an_unknown_user(client: TestClient) -> None:
    login_csrf(client)
    started = time.perf_counter()
    post_login(client, "nobody-at-all", "whatever")
    unknown = time.perf_counter() - started
    started = time.perf_counter()
    post_login(client, "admin", "not-the-password")
    known = time.perf_counter() - started
    assert unknown > 0.5 * known, (known, unknown)
