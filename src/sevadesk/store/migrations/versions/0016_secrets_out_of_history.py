"""secrets out of the configuration history: plain-text passwords become argon2 hashes

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-08 09:00:00

Every stored org file text had each user's `password: secret` kept as written, and the admin
page showed it. Each becomes `password_hash: '<argon2 hash>'` (see routing/org_secrets.py),
and each diff is recomputed from the rewritten texts. The history is append-only, so its
triggers are lifted for this one rewrite, inside the migration's transaction, and put back.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import sqlalchemy as sa
from alembic import op

from sevadesk.routing.org_secrets import redact_passwords
from sevadesk.store.credentials import hash_password
from sevadesk.store.org_repo import config_diff

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_changes = sa.table(
    "config_changes",
    sa.column("id", sa.Integer),
    sa.column("summary", sa.Text),
    sa.column("diff", sa.Text),
    sa.column("text", sa.Text),
)


def _lift_append_only(bind: sa.Connection) -> None:
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE config_changes DISABLE TRIGGER config_changes_no_change")
        return
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER config_changes_no_{verb}")


def _restore_append_only(bind: sa.Connection) -> None:
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE config_changes ENABLE TRIGGER config_changes_no_change")
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER config_changes_no_{verb.lower()} BEFORE {verb} ON config_changes "
            "BEGIN SELECT RAISE(ABORT, 'config_changes is append-only'); END"
        )


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_changes.c.id, _changes.c.text).order_by(_changes.c.id)).all()

    @cache
    def hash_of(_username: str, password: str) -> str:
        return hash_password(password)  # one hash per password, however many rows repeat it

    _lift_append_only(bind)
    previous = ""
    for row in rows:
        text = redact_passwords(row.text, hash_of)
        diff, summary = config_diff(previous, text)
        bind.execute(
            sa.update(_changes)
            .where(_changes.c.id == row.id)
            .values(text=text, diff=diff, summary=summary)
        )
        previous = text
    _restore_append_only(bind)


def downgrade() -> None:
    # The passwords are gone; the hashes that replaced them load the same users.
    pass
