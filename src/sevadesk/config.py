"""The one place that reads the environment: every setting has a `SEVA_` variable."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    # The shared datasets sit beside the checkout (../shared/data) on developer and CI machines.
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return Path.cwd().parent / "shared" / "data"


class Settings(BaseSettings):
    """Runtime configuration; see docs/operations.md for what each knob changes."""

    model_config = SettingsConfigDict(env_prefix="SEVA_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///seva.db",
        description="SQLAlchemy URL; sqlite:///file.db (default) or postgresql+psycopg://...",
    )
    data_dir: Path = Field(default_factory=_default_data_dir)
    # A citizen's new post within this many minutes of their last post on an open ticket
    # is treated as a follow-up of that ticket rather than a new problem.
    thread_window_minutes: int = 30
    # A citizen's reply within this many hours of resolution reopens the ticket.
    reopen_window_hours: int = 72
    batch_size: int = 1000
    # How often the server checks SLA deadlines; 0 turns the check off (run `seva sla run`).
    sla_interval_seconds: float = 60.0
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
