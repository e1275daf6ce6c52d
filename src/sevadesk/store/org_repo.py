"""Write an OrgSpec into the database: upsert by code, replace the lookup rows it owns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from sevadesk.domain.units import unit_path
from sevadesk.routing.orgfile import AlertsSpec, ChannelsSpec, OrgSpec, UnitSpec
from sevadesk.store import tables as t
from sevadesk.store.credentials import hash_password
from sevadesk.triage.rules import Taxonomy, TriageConfig
from sevadesk.triage.text import tokens


@dataclass
class OrgLoadSummary:
    units: int
    handles: int
    hashtags: int
    jurisdictions: int
    sla_policies: int
    users: int
    templates: int


def _upsert_unit(
    conn: Connection, unit: UnitSpec, parent_id: int | None, path: str, prefix: str
) -> int:
    values = {
        "name": unit.name,
        "name_hi": unit.name_hi,
        "kind": unit.kind,
        "parent_id": parent_id,
        "path": path,
        "ticket_prefix": prefix,
        "is_default": unit.default,
        "contact": unit.contact,
        "assignment": unit.assignment,
    }
    existing = conn.execute(select(t.units.c.id).where(t.units.c.code == unit.code)).scalar()
    if existing is not None:
        conn.execute(update(t.units).where(t.units.c.id == existing).values(**values))
        return int(existing)
    key = conn.execute(t.units.insert().values(code=unit.code, **values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def apply_org(conn: Connection, spec: OrgSpec) -> OrgLoadSummary:
    """Load or update the organisation in one transaction (the caller's)."""
    ids: dict[str, int] = {}
    paths: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    handles: list[dict[str, object]] = []
    hashtags: list[dict[str, object]] = []
    juris: list[dict[str, object]] = []
    if any(u.default for u, _, _ in spec.walk()):
        conn.execute(update(t.units).values(is_default=False))
    for unit, parent, _key in spec.walk():
        parent_path = paths[parent.code] if parent else None
        prefix = unit.ticket_prefix or prefixes[parent.code if parent else unit.code]
        path = unit_path(parent_path, unit.code)
        uid = _upsert_unit(conn, unit, ids[parent.code] if parent else None, path, prefix)
        ids[unit.code], paths[unit.code], prefixes[unit.code] = uid, path, prefix
        handles += [{"handle": h, "unit_id": uid} for h in unit.handles]
        hashtags += [{"hashtag": h, "unit_id": uid} for h in unit.hashtags]
        juris += [{"kind": "pin", "value": p, "unit_id": uid} for p in unit.jurisdiction.pins]
        juris += [
            {"kind": "district", "value": " ".join(tokens(d)), "unit_id": uid}
            for d in unit.jurisdiction.districts
        ]
        juris += [
            {"kind": "station", "value": s.strip().upper(), "unit_id": uid}
            for s in unit.jurisdiction.stations
        ]
        juris += [
            {"kind": "zone", "value": z.strip().upper(), "unit_id": uid}
            for z in unit.jurisdiction.zones
        ]
    unit_ids = list(ids.values())
    # The file is the truth for the units it names: their lookup rows are replaced wholesale,
    # and a handle moved from another unit moves with it.
    conn.execute(delete(t.unit_handles).where(t.unit_handles.c.unit_id.in_(unit_ids)))
    conn.execute(delete(t.unit_hashtags).where(t.unit_hashtags.c.unit_id.in_(unit_ids)))
    conn.execute(delete(t.unit_jurisdictions).where(t.unit_jurisdictions.c.unit_id.in_(unit_ids)))
    if handles:
        conn.execute(
            delete(t.unit_handles).where(
                t.unit_handles.c.handle.in_([h["handle"] for h in handles])
            )
        )
        conn.execute(t.unit_handles.insert(), handles)
    if hashtags:
        conn.execute(
            delete(t.unit_hashtags).where(
                t.unit_hashtags.c.hashtag.in_([h["hashtag"] for h in hashtags])
            )
        )
        conn.execute(t.unit_hashtags.insert(), hashtags)
    if juris:
        unique = {(j["kind"], j["value"], j["unit_id"]): j for j in juris}
        conn.execute(t.unit_jurisdictions.insert(), list(unique.values()))

    known_prefixes = set(conn.execute(select(t.ticket_sequences.c.prefix)).scalars())
    new_prefixes = sorted(set(prefixes.values()) - known_prefixes)
    if new_prefixes:
        conn.execute(
            t.ticket_sequences.insert(), [{"prefix": p, "last_value": 0} for p in new_prefixes]
        )

    conn.execute(delete(t.sla_policies).where(t.sla_policies.c.unit_id.in_(unit_ids)))
    if spec.sla_policies:
        conn.execute(
            t.sla_policies.insert(),
            [
                {
                    "unit_id": ids[s.unit],
                    "category": s.category,
                    "urgency": s.urgency,
                    "first_response_minutes": s.first_response,
                    "resolution_minutes": s.resolution,
                    "calendar": s.calendar,
                }
                for s in spec.sla_policies
            ],
        )

    for user in spec.users:
        values = {
            "display_name": user.name,
            "role": user.role,
            "unit_id": ids[user.unit],
            "languages": user.languages,
            "active": True,
            "password_hash": user.password_hash or hash_password(user.password or ""),
        }
        existing = conn.execute(
            select(t.users.c.id).where(t.users.c.username == user.username)
        ).scalar()
        if existing is None:
            conn.execute(t.users.insert().values(username=user.username, **values))
        else:
            conn.execute(update(t.users).where(t.users.c.id == existing).values(**values))

    position_ids: dict[str, int] = {}
    for unit, _parent, _key in spec.walk():
        for position in unit.positions:
            values = {
                "unit_id": ids[unit.code],
                "name": position.name,
                "on_duty": position.on_duty,
                "languages": position.languages,
                "skills": position.skills,
                "capacity": position.capacity,
            }
            existing = conn.execute(
                select(t.positions.c.id).where(t.positions.c.code == position.code)
            ).scalar()
            if existing is None:
                existing = conn.execute(
                    t.positions.insert()
                    .values(code=position.code, **values)
                    .returning(t.positions.c.id)
                ).scalar_one()
            else:
                conn.execute(
                    update(t.positions).where(t.positions.c.id == existing).values(**values)
                )
            position_ids[position.code] = int(existing)
    if spec.roster:
        # The file's roster replaces the roster of the posts it names.
        named = [position_ids[e.position] for e in spec.roster]
        conn.execute(delete(t.position_holders).where(t.position_holders.c.position_id.in_(named)))
        user_ids = dict(conn.execute(select(t.users.c.username, t.users.c.id)).all())
        conn.execute(
            t.position_holders.insert(),
            [
                {
                    "position_id": position_ids[e.position],
                    "user_id": user_ids[e.user],
                    "starts_at": e.start,
                    "ends_at": e.end,
                }
                for e in spec.roster
            ],
        )

    rt = t.reply_templates.c
    for tpl in spec.templates:
        unit_id = ids[tpl.unit] if tpl.unit else None
        # The file's template replaces the one of the same code, language, channel and unit
        # (an admin's edit in the desk included); templates the file does not name stay.
        conn.execute(
            delete(t.reply_templates).where(
                rt.code == tpl.code,
                rt.language.is_(None) if tpl.language is None else rt.language == tpl.language,
                rt.channel.is_(None) if tpl.channel is None else rt.channel == tpl.channel,
                rt.unit_id.is_(None) if unit_id is None else rt.unit_id == unit_id,
            )
        )
        conn.execute(
            t.reply_templates.insert().values(
                code=tpl.code,
                language=tpl.language,
                channel=tpl.channel,
                unit_id=unit_id,
                body=tpl.body,
                source="org_file",
            )
        )

    if spec.routing_rules:
        rules = [r.model_dump(mode="json") for r in spec.routing_rules]
        conn.execute(delete(t.org_settings).where(t.org_settings.c.key == "routing_rules"))
        conn.execute(t.org_settings.insert().values(key="routing_rules", value=rules))
    if spec.calendars:
        calendars = {name: cal.model_dump(mode="json") for name, cal in spec.calendars.items()}
        conn.execute(delete(t.org_settings).where(t.org_settings.c.key == "calendars"))
        conn.execute(t.org_settings.insert().values(key="calendars", value=calendars))
    conn.execute(delete(t.org_settings).where(t.org_settings.c.key == "faq"))
    conn.execute(
        t.org_settings.insert().values(key="faq", value=[f.model_dump() for f in spec.faq])
    )
    conn.execute(delete(t.org_settings).where(t.org_settings.c.key == "channels"))
    conn.execute(
        t.org_settings.insert().values(key="channels", value=spec.channels.model_dump(mode="json"))
    )
    # The desk's time zone and alert settings (defaults when the file leaves them out).
    conn.execute(delete(t.org_settings).where(t.org_settings.c.key.in_(["timezone", "alerts"])))
    conn.execute(
        t.org_settings.insert(),
        [
            {"key": "timezone", "value": spec.timezone},
            {"key": "alerts", "value": spec.alerts.model_dump(mode="json")},
        ],
    )
    triage = spec.triage_settings()
    if triage is not None:
        conn.execute(delete(t.org_settings).where(t.org_settings.c.key == "triage"))
        conn.execute(t.org_settings.insert().values(key="triage", value=triage))

    return OrgLoadSummary(
        units=len(ids),
        handles=len(handles),
        hashtags=len(hashtags),
        jurisdictions=len(juris),
        sla_policies=len(spec.sla_policies),
        users=len(spec.users),
        templates=len(spec.templates),
    )


def faq_topics(conn: Connection) -> list[dict[str, Any]]:
    value = conn.execute(
        select(t.org_settings.c.value).where(t.org_settings.c.key == "faq")
    ).scalar()
    return list(value or [])


def channel_settings(conn: Connection) -> ChannelsSpec:
    """The organisation's channel settings (defaults until an org file sets them)."""
    value = conn.execute(
        select(t.org_settings.c.value).where(t.org_settings.c.key == "channels")
    ).scalar()
    return ChannelsSpec.model_validate(value or {})


def org_timezone(conn: Connection) -> str:
    """The organisation's time zone (IANA name): Asia/Kolkata until an org file sets one."""
    value = conn.execute(
        select(t.org_settings.c.value).where(t.org_settings.c.key == "timezone")
    ).scalar()
    return str(value) if value else OrgSpec.model_fields["timezone"].default


def alert_settings(conn: Connection) -> AlertsSpec:
    """The organisation's alert settings (defaults until an org file sets them)."""
    value = conn.execute(
        select(t.org_settings.c.value).where(t.org_settings.c.key == "alerts")
    ).scalar()
    return AlertsSpec.model_validate(value or {})


def org_taxonomy(conn: Connection) -> Taxonomy:
    """The category taxonomy, restricted to the organisation's categories if it lists any."""
    return Taxonomy.load(only=triage_config(conn).categories)


def triage_config(conn: Connection) -> TriageConfig:
    value = conn.execute(
        select(t.org_settings.c.value).where(t.org_settings.c.key == "triage")
    ).scalar()
    return TriageConfig.of(value)


def current_org_text(conn: Connection) -> str:
    """The org file as last loaded (empty before any load recorded its text)."""
    c = t.config_changes.c
    value: str | None = conn.execute(select(c.text).order_by(c.id.desc()).limit(1)).scalar()
    return value or ""


def config_diff(previous: str, text: str) -> tuple[str, str]:
    """The unified diff from `previous` to `text`, and its one-line summary."""
    import difflib

    diff = "".join(
        difflib.unified_diff(
            previous.splitlines(keepends=True),
            text.splitlines(keepends=True),
            "before",
            "after",
        )
    )
    added = sum(
        1 for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")
    )
    removed = sum(
        1 for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")
    )
    return diff, f"+{added} −{removed} lines"


def stored_org_text(conn: Connection, text: str) -> str:
    """The org file as the history keeps it: each plain-text password replaced by the hash
    that `apply_org` stored for its user (the caller applies the file first, in the same
    transaction), so the text shows no secret and still loads to the same users."""
    from sevadesk.routing.org_secrets import redact_passwords

    hashes = dict(conn.execute(select(t.users.c.username, t.users.c.password_hash)).all())

    def hash_of(username: str, password: str) -> str:
        return hashes.get(username) or hash_password(password)

    return redact_passwords(text, hash_of)


def record_config_change(conn: Connection, actor: str, text: str, now: datetime) -> str:
    """Store the loaded text (passwords hashed) with its diff against the previous one;
    returns the diff."""
    text = stored_org_text(conn, text)
    diff, summary = config_diff(current_org_text(conn), text)
    conn.execute(
        t.config_changes.insert().values(at=now, actor=actor, summary=summary, diff=diff, text=text)
    )
    return diff
