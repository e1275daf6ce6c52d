"""alerts: notifications addressed to a unit, per-user read state, a per-user sound setting

Revision ID: 0025
Revises: 0023
Create Date: 2026-12-07 22:50:00

An SOS that no post's officer is on duty for was alerted to nobody: a notification can now be
addressed to a unit (`unit_id`, `user_id` empty), which everyone whose scope covers the unit
sees. Whether a notification was read is per user (`notification_reads`), since a unit's
alert is read by each officer separately; "mark all read" moves the user's `read_through`
mark instead of writing a row per alert. The desk's bell remembers whether a user muted the
SOS sound (`alert_preferences`).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # The notifications table has no triggers: a batch rebuild on SQLite loses nothing.
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("user_id", existing_type=Id, nullable=True)
        batch.add_column(sa.Column("unit_id", Id, nullable=True))
        batch.create_foreign_key("fk_notifications_unit_id_units", "units", ["unit_id"], ["id"])
        batch.create_index("ix_notifications_unit_id", ["unit_id", "id"])
    op.create_table(
        "notification_reads",
        sa.Column("user_id", Id, nullable=False),
        sa.Column("notification_id", Id, nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_reads_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_reads_notification_id_notifications"),
        ),
        sa.PrimaryKeyConstraint("user_id", "notification_id", name=op.f("pk_notification_reads")),
    )
    op.create_table(
        "alert_preferences",
        sa.Column("user_id", Id, nullable=False),
        sa.Column("sound_muted", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("read_through", Id, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_alert_preferences_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_alert_preferences")),
    )


def downgrade() -> None:
    op.drop_table("alert_preferences")
    op.drop_table("notification_reads")
    op.execute("DELETE FROM notifications WHERE user_id IS NULL")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_index("ix_notifications_unit_id")
        batch.drop_constraint("fk_notifications_unit_id_units", type_="foreignkey")
        batch.drop_column("unit_id")
        batch.alter_column("user_id", existing_type=Id, nullable=False)
