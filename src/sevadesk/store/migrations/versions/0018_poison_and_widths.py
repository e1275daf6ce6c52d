"""poison and widths: ids as long as the platforms send them; journal entries set aside

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 18:40:00

Meta documents no maximum length for a WhatsApp id (a wamid is ~60 characters today, and
grows), nor X for a DM id: ids, handles and the file names in `journal.source` get 255
characters, a citizen's first identity (`channel:id`) 300. SQLite does not enforce VARCHAR
lengths, so only PostgreSQL's columns change (widening a VARCHAR there rewrites nothing); a
batch rebuild on SQLite would drop the search triggers for no gain. `journal.failed_at`
records when the database last refused an entry the drain set aside (status `failed`).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, old length, new length)
WIDENED = (
    ("citizens", "first_seen_as", 100, 300),
    ("citizen_identities", "external_user_id", 64, 255),
    ("citizen_identities", "handle", 64, 255),
    ("journal", "source", 64, 255),
    ("messages", "external_id", 64, 255),
    ("messages", "conversation_id", 64, 255),
    ("messages", "in_reply_to_id", 64, 255),
    ("messages", "author_handle", 64, 255),
    ("outbox", "in_reply_to_id", 64, 255),
    ("outbox", "recipient", 64, 255),
    ("outbox", "external_id", 64, 255),
    ("outbox_receipts", "external_id", 128, 255),
    ("bot_sessions", "wa_id", 32, 255),
)


def upgrade() -> None:
    op.add_column("journal", sa.Column("failed_at", sa.DateTime(), nullable=True))
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, old, new in WIDENED:
        op.alter_column(
            table, column, type_=sa.String(length=new), existing_type=sa.String(length=old)
        )


def downgrade() -> None:
    # Refused (value too long) while a longer id is stored: narrowing would cut ids in two.
    if op.get_bind().dialect.name == "postgresql":
        for table, column, old, new in WIDENED:
            op.alter_column(
                table, column, type_=sa.String(length=old), existing_type=sa.String(length=new)
            )
        op.drop_column("journal", "failed_at")
        return
    with op.batch_alter_table("journal") as batch:
        batch.drop_column("failed_at")
