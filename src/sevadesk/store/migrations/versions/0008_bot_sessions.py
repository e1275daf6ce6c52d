"""bot sessions: the WhatsApp bot's per-citizen conversation state

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 03:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "bot_sessions",
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=40), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=True),
        sa.Column("data", JSON, nullable=False),
        sa.Column("misses", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("handoff_ref", sa.String(length=24), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("last_inbound_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("wa_id", name=op.f("pk_bot_sessions")),
    )


def downgrade() -> None:
    op.drop_table("bot_sessions")
