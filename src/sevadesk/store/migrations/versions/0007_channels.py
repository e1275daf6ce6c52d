"""channels: outbox delivery state, receipts, ingestion ledger and gaps, Open311 clients

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 03:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="text")
        )
        batch.add_column(sa.Column("payload", JSON, nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("delivery_status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("delivery_updated_at", sa.DateTime(), nullable=True))
    op.create_table(
        "outbox_receipts",
        sa.Column("id", Id, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("outbox_id", Id, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name=op.f("fk_outbox_receipts_outbox_id_outbox")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_receipts")),
        sa.UniqueConstraint(
            "channel", "external_id", "status", name=op.f("uq_outbox_receipts_channel")
        ),
    )
    op.create_index(op.f("ix_outbox_receipts_outbox_id"), "outbox_receipts", ["outbox_id"])
    op.create_table(
        "ingest_sources",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("last_id", sa.String(length=64), nullable=True),
        sa.Column("newest_at", sa.DateTime(), nullable=True),
        sa.Column("last_received_at", sa.DateTime(), nullable=True),
        sa.Column("lag_seconds", sa.Float(), nullable=True),
        sa.Column("gaps_detected", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("gaps_backfilled", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("quota_month", sa.String(length=7), nullable=True),
        sa.Column("quota_used", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_ingest_sources")),
    )
    op.create_table(
        "ingest_gaps",
        sa.Column("id", Id, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("since_id", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("backfilled_at", sa.DateTime(), nullable=True),
        sa.Column("recovered", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_gaps")),
    )
    op.create_index(op.f("ix_ingest_gaps_source"), "ingest_gaps", ["source"])
    op.create_table(
        "open311_clients",
        sa.Column("id", Id, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_clients")),
        sa.UniqueConstraint("key_digest", name=op.f("uq_open311_clients_key_digest")),
    )


def downgrade() -> None:
    op.drop_table("open311_clients")
    op.drop_table("ingest_gaps")
    op.drop_table("ingest_sources")
    op.drop_table("outbox_receipts")
    with op.batch_alter_table("outbox") as batch:
        for column in ("delivery_updated_at", "delivery_status", "lease_until", "payload", "kind"):
            batch.drop_column(column)
