"""The schema: migrations run on both databases and the audit trail cannot be rewritten."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, delete, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from sevadesk.store.db import current_revision, head_revision, upgrade
from tests.factories import lines, tweet


def test_migrations_reach_head_and_running_them_again_does_nothing(engine: Engine) -> None:
    assert current_revision(engine) == head_revision(engine)
    assert upgrade(engine) is False


def test_the_audit_trail_is_append_only(pipeline: Pipeline, org_engine: Engine) -> None:
    pipeline.ingest("x", "test", lines(tweet("@RailMinIndia fan not working in S3 of 12951")))
    with pytest.raises(DBAPIError, match="append-only"), org_engine.begin() as conn:
        conn.execute(update(t.ticket_events).values(actor="someone-else"))
    with pytest.raises(DBAPIError, match="append-only"), org_engine.begin() as conn:
        conn.execute(delete(t.ticket_events))


def test_a_message_is_stored_once_per_channel_and_external_id(org_engine: Engine) -> None:
    row = {
        "channel": "x",
        "external_id": "1",
        "direction": "in",
        "text": "a",
        "created_at": datetime.now(UTC),
        "received_at": datetime.now(UTC),
    }
    with org_engine.begin() as conn:
        conn.execute(t.messages.insert().values(**row))
    with pytest.raises(IntegrityError), org_engine.begin() as conn:
        conn.execute(t.messages.insert().values(**row))
    with org_engine.begin() as conn:  # the same id on another channel is another message
        conn.execute(t.messages.insert().values(**{**row, "channel": "whatsapp"}))


def test_the_search_index_still_follows_the_tickets_after_every_migration(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    """A migration that rebuilds the tickets table on SQLite (a batch ALTER) drops the
    triggers that keep the full-text index in step: searching would find nothing new."""
    from sevadesk.store.users_repo import actor_by_username
    from sevadesk.tickets.queries import TicketFilter, list_tickets

    pipeline.ingest("x", "test", lines(tweet("@RailMinIndia fan not working in S3 of 12951")))
    with org_engine.connect() as conn:
        admin = actor_by_username(conn, "admin")
        assert admin is not None
        found, _ = list_tickets(conn, admin, TicketFilter(search="fan"), 10, None)
    assert len(found) == 1


def test_the_ticket_place_columns_come_and_go_with_their_migration(engine: Engine) -> None:
    """0023 adds where a problem is to tickets; going back removes the columns, coming
    forward again restores them (SQLite and PostgreSQL alike)."""
    from alembic import command
    from sqlalchemy import inspect

    from sevadesk.store.db import alembic_config

    def columns() -> set[str]:
        return {c["name"] for c in inspect(engine).get_columns("tickets")}

    place = {"lat", "long", "address", "zipcode", "media_url"}
    assert place <= columns()
    # relative: the lead may re-chain what comes before
    command.downgrade(alembic_config(engine), "0023-1")
    engine.dispose()  # forget the inspected table
    assert not place & columns()
    command.upgrade(alembic_config(engine), "head")
    engine.dispose()
    assert place <= columns()


def test_migration_0020_goes_down_and_up_again_keeping_what_was_there(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    """Screened-out posts, officers' decisions and the rollups' two counters come and go
    with migration 0020; the rest of the data stays."""
    from alembic import command
    from sqlalchemy import func, inspect, select

    from sevadesk.store.db import alembic_config

    pipeline.ingest("x", "test", lines(tweet("@Uppolice thank you for the quick help, Lucknow")))
    with org_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.screened_posts)).scalar() == 1
    from alembic.script import ScriptDirectory

    config = alembic_config(org_engine)
    before = ScriptDirectory.from_config(config).get_revision("0020").down_revision
    command.downgrade(config, str(before))
    inspector = inspect(org_engine)
    assert not {"screened_posts", "triage_decisions"} & set(inspector.get_table_names())
    assert "screened" not in {c["name"] for c in inspector.get_columns("rollups_daily")}
    command.upgrade(config, "head")
    with org_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.messages)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(t.screened_posts)).scalar() == 0
    with pytest.raises(DBAPIError, match="append-only"), org_engine.begin() as conn:
        conn.execute(
            t.triage_decisions.insert().values(
                message_id=1, decision="noise", actor="user:x", at=datetime.now(UTC)
            )
        )
        conn.execute(delete(t.triage_decisions))


def test_ids_as_long_as_the_platforms_send_fit_and_0018_goes_down_and_up_again(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    """Meta sets no maximum for a WhatsApp id: a 200-character sender and post id are stored
    on both databases, after the migration that widened them went down and up again."""
    from alembic import command
    from sqlalchemy import select

    from sevadesk.store.db import alembic_config

    command.downgrade(alembic_config(org_engine), "0017")
    assert current_revision(org_engine) == "0017"
    assert upgrade(org_engine) is True
    assert current_revision(org_engine) == head_revision(org_engine)

    long_id = "9" * 200
    event = tweet("@RailMinIndia fan not working in S3 of 12951", author_id=long_id, id=long_id)
    assert pipeline.ingest("x", "test", lines(event)).tickets_opened == 1
    with org_engine.connect() as conn:
        assert conn.execute(select(t.messages.c.external_id)).scalar_one() == long_id
        identity = conn.execute(select(t.citizen_identities.c.external_user_id)).scalar_one()
    assert identity == long_id


def test_the_mask_again_migration_hides_what_older_masking_let_through(
    pipeline: Pipeline, org_engine: Engine
) -> None:
    """Texts masked before masking read Devanagari digits or dotted numbers were published
    as stored; migration 0019 masks them again, and leaves the rest as it was."""
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import select

    from sevadesk.store.db import alembic_config

    pipeline.ingest("x", "test", lines(tweet("@Uppolice chain snatched in Gomti Nagar 226010")))
    leaked = "@Uppolice chain snatched in Gomti Nagar 226010, call ९८७६५४३२१० or 98765.43210"
    with org_engine.begin() as conn:  # as the older masking stored it
        conn.execute(update(t.tickets).values(summary=leaked))
        conn.execute(update(t.triage_results).values(masked_text=leaked))
    config = alembic_config(org_engine)
    # To just before the migration, found by its title (its number may change at a merge).
    script = ScriptDirectory.from_config(config)
    mine = next(r for r in script.walk_revisions() if (r.doc or "").startswith("mask again"))
    assert isinstance(mine.down_revision, str)
    command.downgrade(config, mine.down_revision)
    command.upgrade(config, "head")
    expected = "@Uppolice chain snatched in Gomti Nagar 226010, call [phone] or [phone]"
    with org_engine.connect() as conn:
        assert conn.execute(select(t.tickets.c.summary)).scalar_one() == expected
        assert conn.execute(select(t.triage_results.c.masked_text)).scalar_one() == expected
