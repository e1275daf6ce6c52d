"""accounts: API tokens expire, sign-in failures are counted, account changes are audited

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 09:30:00

Tokens issued before this migration had no end: they get 30 days from the upgrade (the
default of SEVA_TOKEN_TTL_DAYS), so no integration stops on upgrade day and none lasts for
ever. `account_events` is append-only like the ticket audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
EXISTING_TOKENS_LAST = timedelta(days=30)


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
    ends = (datetime.now(UTC) + EXISTING_TOKENS_LAST).replace(tzinfo=None)
    op.execute(sa.text("UPDATE api_tokens SET expires_at = :ends").bindparams(ends=ends))
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("expires_at", existing_type=sa.DateTime(), nullable=False)
        batch.create_index("ix_api_tokens_user_id", ["user_id"])

    op.create_table(
        "sign_in_failures",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_sign_in_failures")),
    )
    op.create_table(
        "account_events",
        sa.Column("id", Id, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_events")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION account_events_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'account_events is append-only'; END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER account_events_no_change BEFORE UPDATE OR DELETE ON account_events "
            "FOR EACH ROW EXECUTE FUNCTION account_events_append_only()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER account_events_no_{verb.lower()} BEFORE {verb} ON account_events "
            "BEGIN SELECT RAISE(ABORT, 'account_events is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER account_events_no_change ON account_events")
        op.execute("DROP FUNCTION account_events_append_only()")
    op.drop_table("account_events")
    op.drop_table("sign_in_failures")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_index("ix_api_tokens_user_id")
        batch.drop_column("expires_at")
