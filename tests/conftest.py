"""Fixtures: a real database per test (SQLite file, and PostgreSQL when reachable)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from sevadesk.config import Settings
from sevadesk.domain.clock import FrozenClock
from sevadesk.pipeline.runner import Pipeline
from sevadesk.routing.orgfile import load_org_file
from sevadesk.store.db import make_engine, upgrade
from sevadesk.store.org_repo import apply_org
from tests.factories import BASE_TIME

FIXTURES = Path(__file__).parent / "fixtures"
TEST_ORG = FIXTURES / "org.yaml"
POSTGRES_URL = os.environ.get(
    "SEVA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# CI sets this: there PostgreSQL must be reachable, and a skip would hide a broken backend.
REQUIRE_POSTGRES = os.environ.get("SEVA_REQUIRE_POSTGRES") == "1"


def _postgres_reachable() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect means: no PostgreSQL here
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}"


_PG_PROBLEM: str | None = None
_PG_CHECKED = False


def postgres_problem() -> str | None:
    global _PG_PROBLEM, _PG_CHECKED
    if not _PG_CHECKED:
        _PG_PROBLEM, _PG_CHECKED = _postgres_reachable(), True
    return _PG_PROBLEM


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'seva.db'}"
        return
    problem = postgres_problem()
    if problem:
        if REQUIRE_POSTGRES:
            pytest.fail(problem)
        pytest.skip(problem)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def org_engine(engine: Engine) -> Engine:
    with engine.begin() as conn:
        apply_org(conn, load_org_file(TEST_ORG))
    return engine


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(BASE_TIME + timedelta(hours=1))


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Background loops off: tests drive the drain and the outbox themselves.
    return Settings(
        database_url=database_url,
        thread_window_minutes=30,
        reopen_window_hours=72,
        drain_interval_seconds=0,
        outbox_interval_seconds=0,
    )


@pytest.fixture
def pipeline(org_engine: Engine, settings: Settings, clock: FrozenClock) -> Pipeline:
    return Pipeline(org_engine, None, settings, clock)  # the shipped model, as in production


@pytest.fixture(autouse=True, scope="session")
def _hash_each_password_once() -> Iterator[None]:
    """argon2 is slow on purpose (64 MiB, t=3: most of a second on a busy two-core machine).
    Tests hash with light parameters instead, and each password once; a test of timing puts
    the real parameters back (tests/web/test_accounts.py), and one checks them."""
    from functools import lru_cache

    from argon2 import PasswordHasher

    import sevadesk.store.credentials as credentials
    import sevadesk.store.org_repo as org_repo

    real_hasher, original = credentials._hasher, org_repo.hash_password
    credentials._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    credentials._stand_in_hash.cache_clear()
    org_repo.hash_password = lru_cache(maxsize=None)(original)  # type: ignore[assignment]
    yield
    org_repo.hash_password = original  # type: ignore[assignment]
    credentials._hasher = real_hasher
    credentials._stand_in_hash.cache_clear()
