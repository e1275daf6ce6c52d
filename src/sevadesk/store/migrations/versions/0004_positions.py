"""positions: posts, duty roster, unit assignment mode, ticket position

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 01:24:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "positions",
        sa.Column("id", Id, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("unit_id", Id, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("on_duty", sa.Boolean(), nullable=False),
        sa.Column("languages", JSON, nullable=False),
        sa.Column("skills", JSON, nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("last_assigned_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_positions_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_positions")),
        sa.UniqueConstraint("code", name=op.f("uq_positions_code")),
    )
    op.create_index(op.f("ix_positions_unit_id"), "positions", ["unit_id"])
    op.create_table(
        "position_holders",
        sa.Column("id", Id, nullable=False),
        sa.Column("position_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["position_id"],
            ["positions.id"],
            name=op.f("fk_position_holders_position_id_positions"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_position_holders_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_position_holders")),
    )
    op.create_index(op.f("ix_position_holders_position_id"), "position_holders", ["position_id"])
    op.create_index(op.f("ix_position_holders_user_id"), "position_holders", ["user_id"])
    with op.batch_alter_table("units") as batch:
        batch.add_column(
            sa.Column("assignment", sa.String(length=16), nullable=False, server_default="manual")
        )
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("position_id", Id, nullable=True))
        batch.create_foreign_key(
            "fk_tickets_position_id_positions", "positions", ["position_id"], ["id"]
        )
        batch.create_index("ix_tickets_position_id", ["position_id"])


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_position_id")
        batch.drop_constraint("fk_tickets_position_id_positions", type_="foreignkey")
        batch.drop_column("position_id")
    with op.batch_alter_table("units") as batch:
        batch.drop_column("assignment")
    op.drop_table("position_holders")
    op.drop_table("positions")
