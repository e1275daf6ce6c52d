"""full-text search on ticket summaries; the configuration history is append-only

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 04:20:00

SQLite: an FTS5 index over `tickets.summary` (external content, kept in step by triggers;
unicode61 with the mark categories M* as part of words, or a Devanagari word would be cut at
every vowel sign; `detail=none` keeps no
positions: the desk searches words and prefixes, not phrases, and inserts stay cheap). PostgreSQL: a GIN index
on `to_tsvector('simple', summary)` ('simple': no stemming, right for mixed Hindi/English).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_tickets_summary_fts ON tickets "
            "USING gin (to_tsvector('simple', summary))"
        )
        op.execute(
            """
            CREATE FUNCTION config_changes_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'config_changes is append-only'; END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER config_changes_no_change BEFORE UPDATE OR DELETE ON config_changes "
            "FOR EACH ROW EXECUTE FUNCTION config_changes_append_only()"
        )
        return
    op.execute(
        "CREATE VIRTUAL TABLE tickets_fts USING fts5("
        "summary, content='tickets', content_rowid='id', "
        "tokenize=\"unicode61 remove_diacritics 2 categories 'L* N* Co M*'\", "
        "detail=none, columnsize=0)"
    )
    op.execute("INSERT INTO tickets_fts(rowid, summary) SELECT id, summary FROM tickets")
    op.execute(
        "CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN "
        "INSERT INTO tickets_fts(rowid, summary) VALUES (new.id, new.summary); END"
    )
    op.execute(
        "CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN "
        "INSERT INTO tickets_fts(tickets_fts, rowid, summary) VALUES ('delete', old.id, old.summary); END"
    )
    op.execute(
        "CREATE TRIGGER tickets_fts_update AFTER UPDATE OF summary ON tickets BEGIN "
        "INSERT INTO tickets_fts(tickets_fts, rowid, summary) VALUES ('delete', old.id, old.summary); "
        "INSERT INTO tickets_fts(rowid, summary) VALUES (new.id, new.summary); END"
    )
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER config_changes_no_{verb.lower()} BEFORE {verb} ON config_changes "
            "BEGIN SELECT RAISE(ABORT, 'config_changes is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER config_changes_no_change ON config_changes")
        op.execute("DROP FUNCTION config_changes_append_only()")
        op.execute("DROP INDEX ix_tickets_summary_fts")
        return
    for name in (
        "config_changes_no_update",
        "config_changes_no_delete",
        "tickets_fts_insert",
        "tickets_fts_delete",
        "tickets_fts_update",
    ):
        op.execute(f"DROP TRIGGER {name}")
    op.execute("DROP TABLE tickets_fts")
