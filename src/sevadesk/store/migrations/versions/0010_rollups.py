"""rollups: report counters per unit, category, day and hour

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 04:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BUCKETS = 12
COUNTERS = [
    "received",
    "actionable",
    "opened",
    "resolved",
    "resolved_in_sla",
    "first_responses",
    "first_response_in_sla",
    *[f"fr_{i}" for i in range(BUCKETS)],
    *[f"rs_{i}" for i in range(BUCKETS)],
]


def upgrade() -> None:
    op.create_table(
        "rollups",
        sa.Column("unit_id", Id, nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False, server_default="0") for name in COUNTERS],
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_rollups_unit_id_units")),
        sa.PrimaryKeyConstraint("unit_id", "category", "day", "hour", name=op.f("pk_rollups")),
    )
    op.create_index("ix_rollups_day", "rollups", ["day"])


def downgrade() -> None:
    op.drop_table("rollups")
