"""journal entries carry a claim: which drain worker holds them, and until when

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 23:40:00

Several drain workers on PostgreSQL claim pending entries in batches (`FOR UPDATE SKIP
LOCKED`, then a lease written here), so no two take the same batch; an entry whose lease ran
out (its worker was killed) is claimed again by another. `claimed_by` stays once the entry is
processed: it names the worker that did the work.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch rebuild): on SQLite a rebuild would drop the search triggers.
    op.add_column("journal", sa.Column("claimed_by", sa.String(255), nullable=True))
    op.add_column("journal", sa.Column("claimed_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN on both (SQLite has it since 3.35): a batch rebuild of the journal
    # would fail on the rows that reference it, and drop the search triggers.
    op.drop_column("journal", "claimed_until")
    op.drop_column("journal", "claimed_by")
