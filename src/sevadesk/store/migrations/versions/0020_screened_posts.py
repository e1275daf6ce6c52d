"""screened posts: what triage screened out stays in reach of an officer, and their decisions

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 18:30:00

`screened_posts` holds one row per post that triage screened out (no ticket): the unit that
routing would have sent it to, why it was screened out, the score, and whether an officer
made a ticket of it or confirmed it was noise. `triage_decisions` is the append-only record
of those decisions (who, when, why), read by `seva train` as labels. The rollups count both
per unit and day. Posts screened out before this migration are not in the queue (nothing
recorded where routing would have sent them); they are still in `messages`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
COUNTERS = ("screened", "promoted")


def upgrade() -> None:
    op.create_table(
        "screened_posts",
        sa.Column("message_id", Id, nullable=False, autoincrement=False),
        sa.Column("unit_id", Id, nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("posted_at", sa.DateTime(), nullable=False),
        sa.Column("screened_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("ticket_id", Id, nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_screened_posts_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_screened_posts_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_screened_posts_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_screened_posts")),
    )
    op.create_index(
        "ix_screened_posts_unit_status",
        "screened_posts",
        ["unit_id", "status", "posted_at", "message_id"],
    )
    op.create_table(
        "triage_decisions",
        sa.Column("id", Id, nullable=False),
        sa.Column("message_id", Id, nullable=False),
        sa.Column("decision", sa.String(length=12), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("ticket_id", Id, nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_triage_decisions_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_triage_decisions_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_decisions")),
    )
    op.create_index("ix_triage_decisions_message_id", "triage_decisions", ["message_id"])
    # Plain ALTER TABLE (not a batch, which rebuilds the table on SQLite).
    for table in ("rollups", "rollups_daily"):
        for name in COUNTERS:
            op.add_column(table, sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION triage_decisions_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'triage_decisions is append-only'; END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER triage_decisions_no_change BEFORE UPDATE OR DELETE ON "
            "triage_decisions FOR EACH ROW EXECUTE FUNCTION triage_decisions_append_only()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER triage_decisions_no_{verb.lower()} BEFORE {verb} ON "
            "triage_decisions BEGIN SELECT RAISE(ABORT, 'triage_decisions is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER triage_decisions_no_change ON triage_decisions")
        op.execute("DROP FUNCTION triage_decisions_append_only()")
    for table in ("rollups", "rollups_daily"):
        for name in COUNTERS:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {name}")  # SQLite 3.35+ and PostgreSQL
    op.drop_index("ix_triage_decisions_message_id", table_name="triage_decisions")
    op.drop_table("triage_decisions")
    op.drop_index("ix_screened_posts_unit_status", table_name="screened_posts")
    op.drop_table("screened_posts")
