"""saved inbox views, and indexes for the inbox's queue counts and deadline order

Revision ID: 0026
Revises: 0023
Create Date: 2026-12-07 23:00:00

Each row is one user's view: a name and the inbox query string it stands for (queue,
filters, sort), unique per user. Deleting the user's account deletes nothing here: users are
deactivated, never removed.

The queue counts (mine, SOS, breaching soon, all open) read open tickets by assignee, by
urgency and by deadline (an unanswered ticket's first response, any resolution): four indexes that lead with what each count selects, so a count
over a whole deployment stops after a thousand index entries instead of reading every open
ticket. CREATE INDEX leaves the search index's triggers alone (see 0014).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_tickets_assignee_status": ("assignee_id", "status"),
    "ix_tickets_urgency_status": ("urgency", "status"),
    "ix_tickets_first_response_due": ("first_response_at", "first_response_due"),
    "ix_tickets_status_resolution_due": ("status", "resolution_due"),
}
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

    for name, columns in INDEXES.items():
        op.create_index(name, "tickets", list(columns))


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="tickets")
    op.drop_table("saved_views")
