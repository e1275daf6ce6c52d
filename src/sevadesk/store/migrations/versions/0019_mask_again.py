"""mask again: personal data that masking used to miss is hidden in texts already stored

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 10:00:00

Masking now reads Devanagari and other Unicode digits, numbers split by spaces, dots or
hyphens or spelled out, e-mail written around filters, FIR numbers and identity documents
(triage/masking.py). Texts masked before this migration were published as they were: every
ticket's summary (what the public views show) and every triage result's masked text are
masked again. Masking a masked text changes only what it missed ("[phone]" stays
"[phone]"), so the upgrade can run on any data, and twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sevadesk.triage.entities import extract
from sevadesk.triage.masking import mask

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 2000

_tickets = sa.table("tickets", sa.column("id", sa.Integer), sa.column("summary", sa.Text))
_triage = sa.table(
    "triage_results", sa.column("message_id", sa.Integer), sa.column("masked_text", sa.Text)
)


def _mask_column(bind: sa.Connection, table: sa.TableClause, key: str, column: str) -> None:
    """Mask `column` again, a batch of rows at a time in key order; only changed rows are
    written."""
    key_column, text_column = table.c[key], table.c[column]
    last = 0
    while True:
        rows = bind.execute(
            sa.select(key_column, text_column)
            .where(key_column > last)
            .order_by(key_column)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        for row_key, text in rows:
            if text:
                masked = mask(text, extract(text))
                if masked != text:
                    bind.execute(
                        sa.update(table).where(key_column == row_key).values({column: masked})
                    )
        last = rows[-1][0]


def upgrade() -> None:
    bind = op.get_bind()
    _mask_column(bind, _tickets, "id", "summary")
    _mask_column(bind, _triage, "message_id", "masked_text")


def downgrade() -> None:
    # What was hidden stays hidden: the words are still in each message, for the desk.
    pass
