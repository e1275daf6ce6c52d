"""reply templates per language and channel, and where each came from

Revision ID: 0027
Revises: 0023
Create Date: 2026-12-07 23:00:00

A template may be for one channel (an X reply that asks for a DM, a WhatsApp message that
asks for the PNR here) or any (null), and for one language or any (null: a template that is
all numbers and references). `source` says whether the organisation file declared it (it is
replaced when the file is applied again) or an admin made it in the desk; `updated_by` and
`updated_at` say who last changed it (the change itself is in config_changes).
reply_templates carries no triggers, so SQLite's batch rebuild is safe here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reply_templates") as batch:
        batch.alter_column("language", existing_type=sa.String(length=16), nullable=True)
        batch.add_column(sa.Column("channel", sa.String(length=16), nullable=True))
        batch.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="org_file")
        )
        batch.add_column(sa.Column("updated_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
        batch.drop_constraint("uq_reply_templates_code", type_="unique")
        batch.create_unique_constraint(
            "uq_reply_templates_code", ["code", "language", "channel", "unit_id"]
        )


def downgrade() -> None:
    # Templates for any language become English ones, as the column demanded before.
    op.execute("UPDATE reply_templates SET language = 'en' WHERE language IS NULL")
    # One template per code, language and office, as the old key demands: the one for any
    # channel when there is one, else the oldest.
    op.execute(
        "DELETE FROM reply_templates WHERE id NOT IN ("
        " SELECT COALESCE(MIN(CASE WHEN channel IS NULL THEN id END), MIN(id))"
        " FROM reply_templates GROUP BY code, language, unit_id)"
    )
    with op.batch_alter_table("reply_templates") as batch:
        batch.drop_constraint("uq_reply_templates_code", type_="unique")
        batch.create_unique_constraint("uq_reply_templates_code", ["code", "language", "unit_id"])
        batch.drop_column("updated_at")
        batch.drop_column("updated_by")
        batch.drop_column("source")
        batch.drop_column("channel")
        batch.alter_column("language", existing_type=sa.String(length=16), nullable=False)
