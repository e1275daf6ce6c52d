"""The organisation as the database holds it, written back as an org file (YAML).

The admin's editor opens on the file last loaded; an organisation loaded without its text
being recorded (the demo, a database from before the history) opens on this instead, so the
editor never starts empty. Users keep their password hashes, never a password; the roster
is left out (it changes every shift and is edited as its own section)."""

from __future__ import annotations

from typing import Any

import yaml
from sqlalchemy import Connection, select

from sevadesk.store import tables as t

HEADER = (
    "# The organisation as loaded in the database (written out by the desk: no recorded\n"
    "# org file yet). Edit, check and apply; the history keeps each applied version.\n"
)


def _unit(row: Any, extra: dict[str, Any]) -> dict[str, Any]:
    unit: dict[str, Any] = {"code": row.code, "name": row.name}
    if row.name_hi:
        unit["name_hi"] = row.name_hi
    unit["kind"] = row.kind
    if row.parent_id is None or extra.get("own_prefix"):
        unit["ticket_prefix"] = row.ticket_prefix
    if row.is_default:
        unit["default"] = True
    for key in ("handles", "hashtags"):
        if extra.get(key):
            unit[key] = sorted(extra[key])
    if extra.get("jurisdiction"):
        unit["jurisdiction"] = {k: sorted(v) for k, v in sorted(extra["jurisdiction"].items())}
    if row.contact:
        unit["contact"] = dict(row.contact)
    if row.assignment and row.assignment != "manual":
        unit["assignment"] = row.assignment
    if extra.get("positions"):
        unit["positions"] = extra["positions"]
    return unit


def org_as_yaml(conn: Connection) -> str:
    """The org file that loads to what the database holds (units, users, SLA policies,
    templates and the organisation's settings); empty when no organisation is loaded."""
    u = t.units.c
    units = conn.execute(select(t.units).order_by(u.path)).all()
    if not units:
        return ""
    by_id = {r.id: r for r in units}
    extra: dict[int, dict[str, Any]] = {r.id: {} for r in units}
    for r in units:
        parent = by_id.get(r.parent_id) if r.parent_id else None
        extra[r.id]["own_prefix"] = parent is not None and parent.ticket_prefix != r.ticket_prefix
    for h in conn.execute(select(t.unit_handles)):
        extra[h.unit_id].setdefault("handles", []).append(h.handle)
    for h in conn.execute(select(t.unit_hashtags)):
        extra[h.unit_id].setdefault("hashtags", []).append(h.hashtag)
    kinds = {"pin": "pins", "district": "districts", "station": "stations", "zone": "zones"}
    for j in conn.execute(select(t.unit_jurisdictions)):
        if j.kind in kinds:
            place = extra[j.unit_id].setdefault("jurisdiction", {})
            place.setdefault(kinds[j.kind], []).append(j.value)
    p = t.positions.c
    for pos in conn.execute(select(t.positions).order_by(p.code)):
        spec: dict[str, Any] = {"code": pos.code, "name": pos.name}
        if pos.on_duty:
            spec["on_duty"] = True
        if pos.languages:
            spec["languages"] = list(pos.languages)
        if pos.skills:
            spec["skills"] = list(pos.skills)
        if pos.capacity != 50:
            spec["capacity"] = pos.capacity
        extra[pos.unit_id].setdefault("positions", []).append(spec)

    tree: dict[int | None, list[dict[str, Any]]] = {}
    specs: dict[int, dict[str, Any]] = {}
    for r in units:  # by path: parents first
        specs[r.id] = _unit(r, extra[r.id])
        tree.setdefault(r.parent_id, []).append(specs[r.id])
    for uid, spec in specs.items():
        if tree.get(uid):
            spec["children"] = tree[uid]
    doc: dict[str, Any] = {"units": tree.get(None, [])}

    settings = dict(conn.execute(select(t.org_settings.c.key, t.org_settings.c.value)).all())
    for key in ("channels", "faq", "triage", "calendars", "routing_rules"):
        if settings.get(key):
            doc[key] = settings[key]
    codes = {r.id: r.code for r in units}
    s = t.sla_policies.c
    policies = []
    for pol in conn.execute(select(t.sla_policies).order_by(s.id)):
        entry: dict[str, Any] = {"unit": codes[pol.unit_id]}
        if pol.category:
            entry["category"] = pol.category
        if pol.urgency:
            entry["urgency"] = pol.urgency
        entry["first_response"] = f"{pol.first_response_minutes}m"
        entry["resolution"] = f"{pol.resolution_minutes}m"
        if pol.calendar != "24x7":
            entry["calendar"] = pol.calendar
        policies.append(entry)
    if policies:
        doc["sla_policies"] = policies
    us = t.users.c
    users = []
    for row in conn.execute(select(t.users).where(us.active.is_(True)).order_by(us.username)):
        user: dict[str, Any] = {
            "username": row.username,
            "name": row.display_name,
            "role": row.role,
            "unit": codes[row.unit_id],
        }
        if row.password_hash:
            user["password_hash"] = row.password_hash
        user["languages"] = list(row.languages or [])
        users.append(user)
    if users:
        doc["users"] = users
    r = t.reply_templates.c
    templates = []
    for tpl in conn.execute(select(t.reply_templates).order_by(r.code, r.language, r.id)):
        entry = {"code": tpl.code, "language": tpl.language}
        if tpl.unit_id is not None:
            entry["unit"] = codes[tpl.unit_id]
        entry["body"] = tpl.body
        templates.append(entry)
    if templates:
        doc["templates"] = templates
    return HEADER + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)
