"""rollups: report counters per unit, category, day (and hour); config changes

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


def _table(name: str, hourly: bool) -> None:
    keys = ["unit_id", *(["category"] if hourly else []), "day", *(["hour"] if hourly else [])]
    op.create_table(
        name,
        sa.Column("unit_id", Id, nullable=False),
        *([sa.Column("category", sa.String(length=40), nullable=False)] if hourly else []),
        sa.Column("day", sa.String(length=10), nullable=False),
        *([sa.Column("hour", sa.Integer(), nullable=False)] if hourly else []),
        *[sa.Column(c, sa.Integer(), nullable=False, server_default="0") for c in COUNTERS],
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f(f"fk_{name}_unit_id_units")),
        sa.PrimaryKeyConstraint(*keys, name=op.f(f"pk_{name}")),
    )
    op.create_index(f"ix_{name}_day", name, ["day"])


def upgrade() -> None:
    _table("rollups", hourly=True)
    _table("rollups_daily", hourly=False)
    op.create_table(
        "rollups_category",
        sa.Column("unit_id", Id, nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("opened", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_rollups_category_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("unit_id", "category", "day", name=op.f("pk_rollups_category")),
    )
    op.create_index("ix_rollups_category_day", "rollups_category", ["day"])
    op.create_table(
        "config_changes",
        sa.Column("id", Id, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("diff", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_changes")),
    )


def downgrade() -> None:
    op.drop_table("config_changes")
    op.drop_table("rollups_category")
    op.drop_table("rollups_daily")
    op.drop_table("rollups")
