"""message revisions (deleted and edited by their authors); tickets sent privately

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-07 14:30:00

`message_revisions` holds what an author changed after sending: a deletion (X
`tweet_delete_events`, WhatsApp `revoke`) or an edit (WhatsApp `edit`, with the new words),
one row per channel event, applied to the message when it is stored (before or after).
`tickets.sent_privately` marks tickets opened by a private message (WhatsApp, an X DM, the
desk's web form): their words are never shown on a public page or feed. Existing tickets are
marked by their channel, and X tickets that hold a direct message.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "message_revisions",
        sa.Column("id", Id, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("applied_at", sa.DateTime(), nullable=True),
        sa.Column("scrubbed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_revisions")),
        sa.UniqueConstraint("channel", "event_id", name=op.f("uq_message_revisions_channel")),
    )
    op.create_index("ix_message_revisions_message", "message_revisions", ["channel", "external_id"])
    # A plain ALTER TABLE, not a batch: on SQLite a batch rebuilds the table and would drop
    # the triggers that keep the search index (0011) in step.
    op.add_column(
        "tickets",
        sa.Column("sent_privately", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute(
        "UPDATE tickets SET sent_privately = TRUE WHERE channel IN ('whatsapp', 'web') OR "
        "(channel = 'x' AND EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = tickets.id "
        "AND m.external_id LIKE 'dm-%'))"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE tickets DROP COLUMN sent_privately")  # SQLite 3.35+ and PostgreSQL
    op.drop_index("ix_message_revisions_message", table_name="message_revisions")
    op.drop_table("message_revisions")
