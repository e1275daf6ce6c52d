"""transfers: transfer offers, bounce/reopen/appeal counters on tickets

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 02:03:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "transfer_offers",
        sa.Column("id", Id, nullable=False),
        sa.Column("ticket_id", Id, nullable=False),
        sa.Column("from_unit_id", Id, nullable=False),
        sa.Column("to_unit_id", Id, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("offered_by", sa.String(length=64), nullable=False),
        sa.Column("offered_at", sa.DateTime(), nullable=False),
        sa.Column("deadline", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_transfer_offers_ticket_id_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["from_unit_id"], ["units.id"], name=op.f("fk_transfer_offers_from_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["to_unit_id"], ["units.id"], name=op.f("fk_transfer_offers_to_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_offers")),
    )
    op.create_index(op.f("ix_transfer_offers_ticket_id"), "transfer_offers", ["ticket_id"])
    op.create_index(op.f("ix_transfer_offers_to_unit_id"), "transfer_offers", ["to_unit_id"])
    with op.batch_alter_table("tickets") as batch:
        for column in ("bounce_count", "reopen_count", "appeal_count"):
            batch.add_column(sa.Column(column, sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        for column in ("appeal_count", "reopen_count", "bounce_count"):
            batch.drop_column(column)
    op.drop_table("transfer_offers")
