"""saved inbox views: an officer's named filter and sort, listed in the inbox's navigation

Revision ID: 0026
Revises: 0023
Create Date: 2026-12-07 23:00:00

Each row is one user's view: a name and the inbox query string it stands for (queue,
filters, sort), unique per user. Deleting the user's account deletes nothing here: users are
deactivated, never removed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "saved_views",
        sa.Column("id", Id, primary_key=True),
        sa.Column(
            "user_id",
            Id,
            sa.ForeignKey("users.id", name="fk_saved_views_user_id_users"),
            nullable=False,
        ),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("query", sa.String(1000), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_saved_views"),
        sa.UniqueConstraint("user_id", "name", name="uq_saved_views_user_id"),
    )


def downgrade() -> None:
    op.drop_table("saved_views")
