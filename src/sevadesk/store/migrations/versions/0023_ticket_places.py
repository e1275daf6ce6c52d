"""tickets keep where the problem is: lat/long, address, PIN code and a media URL

Revision ID: 0023
Revises: 0020
Create Date: 2026-12-07 18:30:00

GeoReport v2 returns `lat`, `long`, `address`, `zipcode` and `media_url` for every service
request; until now they lived only in the journal's raw payload. They are copied onto the
ticket when it is opened (the address masked like the summary). Plain ALTER TABLE: a batch
rebuild on SQLite would drop the triggers that keep the search index in step (see 0014).
Existing tickets keep nulls: their journal entries may have been scrubbed since.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("lat", "long", "address", "zipcode", "media_url")


def upgrade() -> None:
    op.add_column("tickets", sa.Column("lat", sa.Float(), nullable=True))
    op.add_column("tickets", sa.Column("long", sa.Float(), nullable=True))
    op.add_column("tickets", sa.Column("address", sa.String(length=500), nullable=True))
    op.add_column("tickets", sa.Column("zipcode", sa.String(length=12), nullable=True))
    op.add_column("tickets", sa.Column("media_url", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    for name in reversed(COLUMNS):  # SQLite 3.35+ and PostgreSQL drop a column in place
        op.execute(f'ALTER TABLE tickets DROP COLUMN "{name}"')
