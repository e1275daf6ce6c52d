"""Reply templates as an admin manages them in the desk: listed, added, edited and deleted,
each change recorded in the configuration history (who, when, what changed)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from sevadesk.domain.reply_templates import CHANNELS, VARIABLES, unknown_variables
from sevadesk.store import tables as t
from sevadesk.store.org_repo import current_org_text

_CODE = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,63}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")


class TemplateProblem(ValueError):
    """A template the rules refuse; `key` names the plain-words message, `params` fill it."""

    def __init__(self, key: str, **params: str) -> None:
        super().__init__(key)
        self.key, self.params = key, params


@dataclass(frozen=True, slots=True)
class TemplateInput:
    code: str
    language: str | None
    channel: str | None
    unit: str | None  # a unit code; None: every office
    body: str

    @classmethod
    def of(cls, form: dict[str, str]) -> TemplateInput:
        def opt(name: str) -> str | None:
            value = form.get(name, "").strip()
            return value or None

        return cls(
            form.get("code", "").strip().lower(),
            opt("language"),
            opt("channel"),
            (opt("unit") or "").upper() or None,
            form.get("body", "").strip(),
        )


def list_templates(conn: Connection) -> list[dict[str, Any]]:
    rt, u = t.reply_templates.c, t.units.c
    rows = conn.execute(
        select(
            rt.id,
            rt.code,
            rt.language,
            rt.channel,
            rt.body,
            rt.source,
            rt.updated_by,
            rt.updated_at,
            u.code.label("unit"),
        )
        .outerjoin(t.units, u.id == rt.unit_id)
        .order_by(rt.code, rt.language, rt.channel, rt.id)
    )
    return [dict(r._mapping) for r in rows]


def _check(conn: Connection, item: TemplateInput, template_id: int | None) -> int | None:
    if not _CODE.match(item.code):
        raise TemplateProblem("tp_bad_code")
    if item.language is not None and not _LANGUAGE.match(item.language):
        raise TemplateProblem("tp_bad_language")
    if item.channel is not None and item.channel not in CHANNELS:
        raise TemplateProblem("tp_bad_channel")
    if not item.body:
        raise TemplateProblem("tp_bad_body")
    if unknown := unknown_variables(item.body):
        raise TemplateProblem(
            "tp_bad_vars",
            unknown=", ".join(f"{{{u}}}" for u in unknown),
            known=", ".join(f"{{{v}}}" for v in VARIABLES),
        )
    unit_id = None
    if item.unit is not None:
        unit_id = conn.execute(select(t.units.c.id).where(t.units.c.code == item.unit)).scalar()
        if unit_id is None:
            raise TemplateProblem("tp_bad_unit", unit=item.unit)
    rt = t.reply_templates.c
    # NULL is never equal to NULL in a unique index: the same code for "any" is checked here.
    same = conn.execute(
        select(rt.id).where(
            rt.code == item.code,
            rt.language.is_(None) if item.language is None else rt.language == item.language,
            rt.channel.is_(None) if item.channel is None else rt.channel == item.channel,
            rt.unit_id.is_(None) if unit_id is None else rt.unit_id == unit_id,
            rt.id != (template_id or 0),
        )
    ).first()
    if same is not None:
        raise TemplateProblem("tp_exists", code=item.code)
    return unit_id


def _describe(code: str, language: str | None, channel: str | None, unit: str | None) -> str:
    return f"{code} ({language or 'any language'}, {channel or 'any channel'}, {unit or 'every office'})"


def _record(
    conn: Connection, actor: str, now: datetime, summary: str, before: str, after: str
) -> None:
    diff = "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), "before", "after"
        )
    )
    conn.execute(
        t.config_changes.insert().values(
            at=now,
            actor=actor,
            summary=summary,
            diff=diff,
            # The org file itself is unchanged: the history keeps showing it as loaded.
            text=current_org_text(conn),
        )
    )


def save_template(
    conn: Connection, actor: str, item: TemplateInput, template_id: int | None, now: datetime
) -> str:
    """Add (no id) or edit a template; returns its code. Recorded in config_changes."""
    rt = t.reply_templates.c
    before = None
    if template_id is not None:
        before = conn.execute(
            select(rt.code, rt.language, rt.channel, rt.body, t.units.c.code.label("unit"))
            .outerjoin(t.units, t.units.c.id == rt.unit_id)
            .where(rt.id == template_id)
        ).first()
        if before is None:
            raise TemplateProblem("tp_missing")
    unit_id = _check(conn, item, template_id)
    values = {
        "code": item.code,
        "language": item.language,
        "channel": item.channel,
        "unit_id": unit_id,
        "body": item.body,
        "source": "desk",
        "updated_by": actor,
        "updated_at": now,
    }
    described = _describe(item.code, item.language, item.channel, item.unit)
    if before is None:
        conn.execute(t.reply_templates.insert().values(**values))
        _record(conn, actor, now, f"reply template {described} added", "", item.body + "\n")
    else:
        conn.execute(update(t.reply_templates).where(rt.id == template_id).values(**values))
        was = _describe(before.code, before.language, before.channel, before.unit)
        _record(
            conn,
            actor,
            now,
            f"reply template {described} edited" + (f" (was {was})" if was != described else ""),
            before.body + "\n",
            item.body + "\n",
        )
    return item.code


def delete_template(conn: Connection, actor: str, template_id: int, now: datetime) -> str:
    rt = t.reply_templates.c
    row = conn.execute(
        select(rt.code, rt.language, rt.channel, rt.body, t.units.c.code.label("unit"))
        .outerjoin(t.units, t.units.c.id == rt.unit_id)
        .where(rt.id == template_id)
    ).first()
    if row is None:
        raise TemplateProblem("tp_missing")
    conn.execute(delete(t.reply_templates).where(rt.id == template_id))
    described = _describe(row.code, row.language, row.channel, row.unit)
    _record(conn, actor, now, f"reply template {described} deleted", row.body + "\n", "")
    return str(row.code)
