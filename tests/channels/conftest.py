"""Fixtures for channel tests: the fake X and Graph APIs on real local HTTP servers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, Table, func, select

from sevadesk.config import Settings
from sevadesk.fakes.serve import BackgroundServer
from sevadesk.fakes.x_api import FakeX, create_fake_x

BEARER, USER_TOKEN = "app-bearer-token", "user-access-token"


def wait_for(predicate: Callable[[], bool], timeout: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or predicate}")


def count(engine: Engine, table: Table, *where: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


@pytest.fixture
def fake_x() -> Iterator[tuple[FakeX, str]]:
    fake = FakeX(keepalive_seconds=0.2)
    with BackgroundServer(create_fake_x(fake, BEARER, USER_TOKEN)) as server:
        yield fake, server.url


@pytest.fixture
def x_settings(settings: Settings, fake_x: tuple[FakeX, str]) -> Settings:
    return Settings.model_validate(
        {
            **settings.model_dump(),
            "x_api_base_url": fake_x[1],
            "x_bearer_token": BEARER,
            "x_user_token": USER_TOKEN,
            "x_stream_stall_seconds": 1.0,
        }
    )
