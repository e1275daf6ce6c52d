"""`seva connect x|whatsapp` against the fakes, as an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sevadesk.fakes.graph_api import FakeGraph, create_fake_graph
from sevadesk.fakes.serve import BackgroundServer
from sevadesk.fakes.x_api import FakeX
from tests.channels.conftest import BEARER, USER_TOKEN
from tests.conftest import TEST_ORG


def seva(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sevadesk", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **env},
        timeout=120,
    )


@pytest.fixture
def db(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'connect.db'}"
    assert seva("org", "load", str(TEST_ORG), env={"SEVA_DATABASE_URL": url}).returncode == 0
    yield url


def test_connect_x_confirms_the_account_and_names_what_is_missing(
    db: str, fake_x: tuple[FakeX, str]
) -> None:
    env = {
        "SEVA_DATABASE_URL": db,
        "SEVA_X_API_BASE_URL": fake_x[1],
        "SEVA_X_BEARER_TOKEN": BEARER,
        "SEVA_X_USER_TOKEN": USER_TOKEN,
        "SEVA_X_CONSUMER_SECRETS": "s3cret",
    }
    good = seva("connect", "x", env=env)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "posting as @RailMinIndia" in good.stdout
    bad = seva("connect", "x", env={**env, "SEVA_X_USER_TOKEN": ""})
    assert bad.returncode == 2
    assert "needed to post replies" in bad.stdout


def test_connect_whatsapp_reads_the_phone_number(db: str) -> None:
    fake = FakeGraph("graph-token", "secret")
    with BackgroundServer(create_fake_graph(fake)) as server:
        env = {
            "SEVA_DATABASE_URL": db,
            "SEVA_WHATSAPP_BASE_URL": server.url,
            "SEVA_WHATSAPP_TOKEN": "graph-token",
            "SEVA_WHATSAPP_PHONE_NUMBER_ID": fake.phone_number_id,
            "SEVA_WHATSAPP_APP_SECRETS": "secret",
            "SEVA_WHATSAPP_VERIFY_TOKEN": "v",
        }
        good = seva("connect", "whatsapp", env=env)
        assert good.returncode == 0, good.stdout + good.stderr
        assert fake.display_number in good.stdout and "ticket_update" in good.stdout
        wrong = seva("connect", "whatsapp", env={**env, "SEVA_WHATSAPP_TOKEN": "expired"})
        assert wrong.returncode == 2 and "Invalid OAuth access token" in wrong.stdout
