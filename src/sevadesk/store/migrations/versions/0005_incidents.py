"""incidents: mass incidents grouping tickets about one train or station

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 01:58:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", Id, nullable=False),
        sa.Column("ref", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("unit_id", Id, nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ticket_count", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_incidents_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("ref", name=op.f("uq_incidents_ref")),
    )
    op.create_index(op.f("ix_incidents_key"), "incidents", ["key"])
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("incident_key", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("incident_id", Id, nullable=True))
        batch.create_foreign_key(
            "fk_tickets_incident_id_incidents", "incidents", ["incident_id"], ["id"]
        )
        # Tickets still waiting for an incident are found by key without reading linked ones.
        batch.create_index("ix_tickets_incident_key", ["incident_key", "incident_id", "opened_at"])
        batch.create_index("ix_tickets_incident_id", ["incident_id"])


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_incident_id")
        batch.drop_index("ix_tickets_incident_key")
        batch.drop_constraint("fk_tickets_incident_id_incidents", type_="foreignkey")
        batch.drop_column("incident_id")
        batch.drop_column("incident_key")
    op.drop_index(op.f("ix_incidents_key"), table_name="incidents")
    op.drop_table("incidents")
