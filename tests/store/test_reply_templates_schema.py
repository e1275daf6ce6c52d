"""0027: reply templates gain a channel and may be for any language; going back keeps one
English template per code and office, coming forward again restores the columns."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect, select

from sevadesk.store import tables as t
from sevadesk.store.db import alembic_config


def test_the_template_channel_comes_and_goes_with_its_migration(org_engine: Engine) -> None:
    def columns() -> set[str]:
        return {c["name"] for c in inspect(org_engine).get_columns("reply_templates")}

    with org_engine.begin() as conn:
        conn.execute(
            t.reply_templates.insert(),
            [
                {"code": "numbers_only", "language": None, "channel": "whatsapp", "body": "{ref}"},
                {"code": "numbers_only", "language": "en", "channel": None, "body": "Ref {ref}"},
            ],
        )
    assert {"channel", "source", "updated_by", "updated_at"} <= columns()
    # relative: the lead may re-chain what comes before
    command.downgrade(alembic_config(org_engine), "0027-1")
    org_engine.dispose()
    assert "channel" not in columns()
    with org_engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT code, language, body FROM reply_templates"
            " WHERE code IN ('numbers_only', 'dm_pnr') ORDER BY code, language"
        ).all()
    # The any-language template became English and gave way to the English one for any
    # channel; dm_pnr (for X only) keeps one per language.
    assert [(r.code, r.language) for r in rows] == [
        ("dm_pnr", "en"),
        ("dm_pnr", "hi"),
        ("numbers_only", "en"),
    ]
    assert rows[-1].body == "Ref {ref}"
    command.upgrade(alembic_config(org_engine), "head")
    org_engine.dispose()
    with org_engine.connect() as conn:
        assert conn.execute(select(t.reply_templates.c.channel)).first() is not None
