"""transfer offers indexed for the desk's queues: pending ones by receiving unit, and each
unit's offers by time

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 23:20:00

"Offered to us" (and the count on every desk page) reads the pending offers to the units of
an officer's scope; "Offered by us" reads a unit's latest offers. Without these, both scan
every offer ever made.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_transfer_offers_status_to_unit", "transfer_offers", ["status", "to_unit_id"]
    )
    op.create_index("ix_transfer_offers_from_unit_id", "transfer_offers", ["from_unit_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_transfer_offers_from_unit_id", table_name="transfer_offers")
    op.drop_index("ix_transfer_offers_status_to_unit", table_name="transfer_offers")
