"""Two bot workers on one database answer each stored WhatsApp message once: each claims its
own batch of webhook messages (on PostgreSQL SKIP LOCKED and a lease), so no turn is taken
twice."""

from __future__ import annotations

import threading
from typing import Any

import orjson
from sqlalchemy import Engine, func, select

from sevadesk.bot.runner import WEBHOOK_SOURCE, BotRunner
from sevadesk.config import Settings
from sevadesk.domain.clock import FrozenClock
from sevadesk.pipeline import journal
from sevadesk.store import tables as t
from tests.bot.conftest import bot_settings


def _message(n: int) -> str:
    return orjson.dumps(
        {
            "contact": {"profile": {"name": f"Citizen {n}"}, "wa_id": f"9198{n:08d}"},
            "message": {
                "from": f"9198{n:08d}",
                "id": f"wamid.claims{n}",
                "timestamp": "1763629200",
                "type": "text",
                "text": {"body": "hi"},
            },
        }
    ).decode()


def test_two_bot_workers_take_each_turn_once(
    org_engine: Engine, settings: Settings, clock: FrozenClock
) -> None:
    with org_engine.begin() as conn:
        journal.append(
            conn, "whatsapp", WEBHOOK_SOURCE, [_message(n) for n in range(24)], clock.now()
        )
    config = bot_settings(settings, "http://127.0.0.1:9")  # nothing is sent in this test
    runners = [BotRunner(org_engine, config, clock) for _ in range(2)]
    turns: list[str] = []
    for i, runner in enumerate(runners):
        runner.claimer = f"bot-{i}"  # two processes' names
        real = runner.bot.turn

        def counted(*args: Any, _real: Any = real, **kwargs: Any) -> Any:
            turns.append(args[0])
            return _real(*args, **kwargs)

        runner.bot.turn = counted  # type: ignore[method-assign]
    answered = [0, 0]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            while done := runners[i].handle_pending(limit=5):
                answered[i] += done
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors
    assert sum(answered) == 24
    j = t.journal.c
    with org_engine.connect() as conn:
        by = dict(conn.execute(select(j.claimed_by, func.count()).group_by(j.claimed_by)).all())
        keys = conn.execute(select(t.outbox.c.idempotency_key)).scalars().all()
    assert set(by) <= {"bot-0", "bot-1"} and sum(by.values()) == 24
    assert len({k.rsplit(":", 1)[0] for k in keys}) == 24  # every message answered
    if org_engine.dialect.name == "postgresql":
        assert len(turns) == 24  # no turn taken by both workers
