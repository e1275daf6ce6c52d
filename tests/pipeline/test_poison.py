"""A bad entry never stops the drain: values no column can hold are refused when read, and an
entry the database still refuses is set aside alone, with its reason, while the rest goes on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import DataError

from sevadesk.pipeline import journal
from sevadesk.pipeline import runner as runner_module
from sevadesk.pipeline.batch import Item
from sevadesk.pipeline.runner import Pipeline
from sevadesk.store import tables as t
from tests.factories import BASE_TIME, line, tweet


def _count(engine: Engine, table: t.Table, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def _pending(engine: Engine, payloads: Sequence[str], channel: str = "x") -> list[int]:
    """Store payloads as a webhook does: journaled, left for the drain."""
    with engine.begin() as conn:
        entries = journal.append(conn, channel, "x-webhook", payloads, BASE_TIME)
    return [e.id for e in entries]


def _journal_rows(engine: Engine) -> dict[int, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(t.journal).order_by(t.journal.c.id)).mappings()
        return {r["id"]: dict(r) for r in rows}


def _good(n: int, minutes: float = 0) -> list[str]:
    return [
        line(
            tweet(
                f"@RailMinIndia coach B{i} of train 12951 has no water, PNR 45123456{i:02d}",
                author_id=str(7000 + i),
                minutes=minutes + i,
            )
        )
        for i in range(n)
    ]


def _bad_time(value: str) -> str:
    event = tweet("@RailMinIndia coach B9 of 12951 has no water", author_id="6999")
    event["data"]["created_at"] = value
    return line(event)


POISONS = {
    "a NUL in the text": line(tweet("@RailMinIndia no water\x00 in coach B4", author_id="6001")),
    "an author id longer than any column": line(
        tweet("@RailMinIndia no water", author_id="9" * 300)
    ),
    "a handle longer than any column": line(
        tweet("@RailMinIndia coach B2 no light", author_id="6002", username="h" * 300)
    ),
    "a post id longer than any column": line(tweet("@RailMinIndia fan broken", id="8" * 300)),
    "a time past year 9999 in UTC": _bad_time("9999-12-31T23:59:59-05:00"),
    "a time in year 9999": _bad_time("9999-12-31T12:00:00Z"),
    "a time before 1970": _bad_time("1969-12-31T23:59:59Z"),
    "a time before year 1 in UTC": _bad_time("0001-01-01T00:00:00+05:30"),
}


@pytest.mark.parametrize("kind", sorted(POISONS))
def test_a_bad_value_is_rejected_with_its_reason_and_the_posts_after_it_become_tickets(
    pipeline: Pipeline, org_engine: Engine, kind: str
) -> None:
    ids = _pending(org_engine, [*_good(3), POISONS[kind], *_good(3, minutes=10)])
    summary = pipeline.drain()
    assert summary.tickets_opened + summary.threaded == 6
    assert _count(org_engine, t.journal, t.journal.c.status == "pending") == 0
    bad = [r for r in _journal_rows(org_engine).values() if r["status"] != "processed"]
    assert len(bad) == 1 and bad[0]["id"] in ids
    assert bad[0]["status"] == "rejected" and bad[0]["error"]


def _refuse_poison(real: Any) -> Any:
    """write_batch as a database would run it if it refused any text holding 'POISON'."""

    def write_batch(conn: Connection, items: Sequence[Item], *args: Any) -> Any:
        for item in items:
            if "POISON" in item.msg.text:
                raise DataError("INSERT INTO messages ...", {}, ValueError("value refused"))
        return real(conn, items, *args)

    return write_batch


def test_an_entry_the_database_refuses_is_set_aside_alone_and_the_rest_goes_on(
    pipeline: Pipeline, org_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner_module, "write_batch", _refuse_poison(runner_module.write_batch))
    posts = _good(40)
    posts[17] = line(tweet("@RailMinIndia POISON coach B1 no water", author_id="6100"))
    posts[31] = line(tweet("@RailMinIndia POISON coach B2 no water", author_id="6101"))
    _pending(org_engine, posts)
    later = _pending(org_engine, _good(5, minutes=100))

    first = pipeline.drain(limit=1000)
    assert first.failed == 2
    assert first.tickets_opened + first.threaded == 38 + 5
    rows = _journal_rows(org_engine)
    failed = {jid for jid, r in rows.items() if r["status"] == "failed"}
    assert failed == {jid for jid, r in rows.items() if "POISON" in r["payload"]}
    assert len(failed) == 2
    for jid in failed:
        assert "value refused" in rows[jid]["error"]
        assert isinstance(rows[jid]["failed_at"], datetime)
    assert all(rows[jid]["status"] == "processed" for jid in later)
    # Set aside: the next drains do not try them again, and there is nothing left to do.
    assert pipeline.drain().read == 0


def test_a_set_aside_entry_is_processed_once_retried_after_the_fix(
    pipeline: Pipeline, org_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = runner_module.write_batch
    monkeypatch.setattr(runner_module, "write_batch", _refuse_poison(real))
    [jid] = _pending(org_engine, [line(tweet("@RailMinIndia POISON coach B7 no fan"))])
    pipeline.drain()
    assert _journal_rows(org_engine)[jid]["status"] == "failed"
    monkeypatch.setattr(runner_module, "write_batch", real)  # the fix
    with org_engine.begin() as conn:
        assert journal.retry(conn, [jid]) == [jid]
    assert pipeline.drain().tickets_opened == 1
    row = _journal_rows(org_engine)[jid]
    assert (row["status"], row["error"], row["failed_at"]) == ("processed", None, None)


def test_a_database_that_is_down_is_not_taken_for_a_bad_entry(
    pipeline: Pipeline, org_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lost connection fails every entry; none may be set aside for it."""
    from sqlalchemy.exc import OperationalError

    def down(conn: Connection, items: Sequence[Item], *args: Any) -> Any:
        raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection"))

    monkeypatch.setattr(runner_module, "write_batch", down)
    _pending(org_engine, _good(4))
    with pytest.raises(OperationalError):
        pipeline.drain()
    assert _count(org_engine, t.journal, t.journal.c.status == "pending") == 4
