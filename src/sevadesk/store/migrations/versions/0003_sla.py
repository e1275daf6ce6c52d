"""sla: ticket deadlines, pause and escalation columns; notifications

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 01:12:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("first_response_due", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("resolution_due", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("sla_paused_at", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column("escalation_level", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("escalation_unit_id", Id, nullable=True))
        batch.create_foreign_key(
            "fk_tickets_escalation_unit_id_units", "units", ["escalation_unit_id"], ["id"]
        )
        batch.create_index("ix_tickets_resolution_due", ["resolution_due"])
    op.create_table(
        "notifications",
        sa.Column("id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("ticket_id", Id, nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_notifications_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index("ix_notifications_user_read", "notifications", ["user_id", "read_at"])


def downgrade() -> None:
    op.drop_index("ix_notifications_user_read", table_name="notifications")
    op.drop_table("notifications")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_resolution_due")
        batch.drop_constraint("fk_tickets_escalation_unit_id_units", type_="foreignkey")
        for column in (
            "escalation_unit_id",
            "escalation_level",
            "sla_paused_at",
            "resolution_due",
            "first_response_due",
        ):
            batch.drop_column(column)
