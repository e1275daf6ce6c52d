"""incident sketches: MinHash signatures and LSH band keys of recent tickets

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 06:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "incident_sketches",
        sa.Column("ticket_id", Id, autoincrement=False, nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("copy_of", Id, nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_incident_sketches_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_incident_sketches")),
    )
    op.create_index(op.f("ix_incident_sketches_opened_at"), "incident_sketches", ["opened_at"])
    op.create_index(op.f("ix_incident_sketches_copy_of"), "incident_sketches", ["copy_of"])
    op.create_table(
        "incident_bands",
        sa.Column("band", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", Id, autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("band", "ticket_id", name=op.f("pk_incident_bands")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("incident_bands")
    op.drop_index(op.f("ix_incident_sketches_copy_of"), table_name="incident_sketches")
    op.drop_index(op.f("ix_incident_sketches_opened_at"), table_name="incident_sketches")
    op.drop_table("incident_sketches")
