"""Alembic environment: runs on the engine sevadesk hands over (see store/db.py)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from sevadesk.store.tables import metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # invoked by the alembic CLI, e.g. for `alembic revision --autogenerate`
    from sevadesk.config import get_settings

    engine = create_engine(get_settings().database_url)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
