"""The organisation file: units, handles, hashtags, jurisdictions, SLA policies, users, templates.

Validation errors name the key path (`units[0].children[3].handles[1]`) so an admin can find
the mistake in a long file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sevadesk.domain.reply_templates import VARIABLES, unknown_variables
from sevadesk.triage.rules import TriageConfig

_DURATION = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")
_MINUTES = {"m": 1, "h": 60, "d": 24 * 60}


class OrgFileError(ValueError):
    """The org file cannot be loaded; `problems` lists `key.path: reason` lines."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


def parse_duration(value: str | int) -> int:
    """'15m', '4h', '2d' or a number of minutes → minutes."""
    if isinstance(value, int):
        return value
    m = _DURATION.match(value)
    if not m:
        raise ValueError(f"expected a duration like 15m, 4h or 2d, got {value!r}")
    return int(m.group(1)) * _MINUTES[m.group(2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Jurisdiction(_Strict):
    pins: list[str] = Field(default_factory=list)
    districts: list[str] = Field(default_factory=list)
    stations: list[str] = Field(default_factory=list)
    zones: list[str] = Field(default_factory=list)  # railway zone codes: NR, WCR, ...

    @field_validator("pins", mode="before")
    @classmethod
    def _pins_are_six_digits(cls, values: list[Any]) -> list[str]:
        out = []
        for v in values:
            s = str(v).strip()
            if not re.fullmatch(r"[1-9]\d{5}", s):
                raise ValueError(f"PIN code must be six digits, got {v!r}")
            out.append(s)
        return out


class PositionSpec(_Strict):
    """A post in a unit ("SHO Kotwali", "Control room, night shift"); officers hold it by roster."""

    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
    name: str
    on_duty: bool = False
    languages: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    capacity: int = Field(default=50, ge=1)


class RosterSpec(_Strict):
    position: str
    user: str
    start: datetime = Field(alias="from")
    end: datetime | None = Field(default=None, alias="to")

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-11-26T08:00:00+05:30")
        return value


class UnitSpec(_Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
    name: str
    name_hi: str | None = None
    kind: str
    ticket_prefix: str | None = Field(default=None, pattern=r"^[A-Z]{2,6}$")
    default: bool = False
    handles: list[str] = Field(default_factory=list)
    hashtags: list[str] = Field(default_factory=list)
    jurisdiction: Jurisdiction = Field(default_factory=Jurisdiction)
    contact: dict[str, str] = Field(default_factory=dict)
    assignment: Literal["manual", "round_robin", "least_loaded"] = "manual"
    positions: list[PositionSpec] = Field(default_factory=list)
    children: list[UnitSpec] = Field(default_factory=list)

    @field_validator("handles", mode="before")
    @classmethod
    def _handles(cls, values: list[Any]) -> list[str]:
        return _names(values, "@", r"\w{1,15}", "an X handle")

    @field_validator("hashtags", mode="before")
    @classmethod
    def _hashtags(cls, values: list[Any]) -> list[str]:
        return _hashtag_list(values)


class SlaSpec(_Strict):
    unit: str
    category: str | None = None
    urgency: Literal["sos", "high", "normal", "low"] | None = None
    first_response: int
    resolution: int
    calendar: str = "24x7"

    @field_validator("first_response", "resolution", mode="before")
    @classmethod
    def _duration(cls, value: str | int) -> int:
        return parse_duration(value)


class UserSpec(_Strict):
    username: str = Field(pattern=r"^[a-z0-9][a-z0-9_.\-]{1,63}$")
    name: str
    role: Literal["agent", "supervisor", "admin", "viewer"]
    unit: str
    password: str | None = Field(default=None, min_length=8)
    password_hash: str | None = None
    languages: list[str] = Field(default_factory=lambda: ["en", "hi"])


class TemplateSpec(_Strict):
    """A reply template: for one language (null: any) and one channel (null: any); its
    body may use the variables of domain/reply_templates.py ({ref}, {office}, ...)."""

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_.\-]{0,63}$")
    language: str | None = "en"
    channel: Literal["x", "whatsapp"] | None = None
    unit: str | None = None
    body: str = Field(min_length=1)

    @field_validator("body")
    @classmethod
    def _variables(cls, value: str) -> str:
        if unknown := unknown_variables(value):
            known = ", ".join(f"{{{v}}}" for v in VARIABLES)
            raise ValueError(
                f"unknown variable {', '.join(f'{{{u}}}' for u in unknown)}; a template may use {known}"
            )
        return value


class RuleSpec(_Strict):
    """An admin's triage rule: keywords (any of) or a regex → kind, category, urgency."""

    id: str
    keywords: list[str] = Field(default_factory=list)
    pattern: str | None = None
    kind: Literal["grievance", "query", "sos", "feedback", "noise", "spam"] | None = None
    category: str | None = None
    urgency: Literal["sos", "high", "normal", "low"] | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_WORKWEEK: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat")


class CalendarSpec(_Strict):
    """Office hours for SLA clocks, e.g. hours: "09:30-18:00", days: [mon, ..., sat]."""

    hours: str = Field(default="09:30-18:00", pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")
    days: list[Weekday] = Field(default_factory=lambda: list(_WORKWEEK))
    holidays: list[date] = Field(default_factory=list)
    timezone: str = "Asia/Kolkata"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _known_time_zone(value)


def _names(values: list[Any], sigil: str, pattern: str, what: str) -> list[str]:
    """Handles or hashtags as written ("@RailMinIndia", "#PassportSeva"): lower-case, without
    the sigil, each checked against `pattern`."""
    out = []
    for v in values:
        name = str(v).strip().lstrip(sigil)
        if not re.fullmatch(pattern, name):
            raise ValueError(f"not {what}: {v!r}")
        out.append(name.lower())
    return out


def _hashtag_list(values: list[Any]) -> list[str]:
    return _names(values, "#", r"\w{1,139}", "a hashtag")


class TriageSpec(_Strict):
    categories: list[str] | None = None
    rules: list[RuleSpec] = Field(default_factory=list)
    # The organisation's complaint hashtags (#RailMadad, #PassportSeva, #DOTSeva), which
    # citizens use instead of a handle to address the desk; not topic tags such as
    # #IndianRailways, which news and opinion carry too.
    addressing_hashtags: list[str] = Field(default_factory=list)
    # P(actionable) at or above which a post becomes a ticket (default: the model's, from
    # its cross-validation); an agency that puts recall first sets it lower (`seva eval`
    # prints precision and recall at a range of lines).
    actionable_threshold: float | None = Field(default=None, ge=0.0, le=1.0)

    @field_validator("addressing_hashtags", mode="before")
    @classmethod
    def _addressing(cls, values: list[Any]) -> list[str]:
        return _hashtag_list(values)


class RuleWhen(_Strict):
    """All listed conditions must hold; each list matches if any of its values does."""

    channels: list[str] = Field(default_factory=list)
    handles: list[str] = Field(default_factory=list)
    hashtags: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    kinds: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    urgencies: list[str] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)  # entity kinds present: pnr, train, vehicle…
    districts: list[str] = Field(default_factory=list)
    stations: list[str] = Field(default_factory=list)
    zones: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)


class RuleThen(_Strict):
    route_to: str | None = None
    priority: Literal["p1", "p2", "p3", "p4"] | None = None
    labels: list[str] = Field(default_factory=list)
    acknowledge: str | None = None  # a reply template code, sent at once through the outbox
    ignore: bool = False


class RoutingRuleSpec(_Strict):
    id: str
    when: RuleWhen
    then: RuleThen


class XChannelSpec(_Strict):
    # A reply longer than one post: "link" shortens it to a link to the public ticket
    # status; "split" posts a numbered thread.
    long_reply: Literal["link", "split"] = "link"


class WhatsAppChannelSpec(_Strict):
    # Outside the 24-hour customer-service window Meta only delivers approved templates;
    # this one must take two body parameters: the ticket reference and the update.
    update_template: str = "ticket_update"
    template_language: str = "en"


class FaqSpec(_Strict):
    """An information topic for the WhatsApp bot; texts by language (English required)."""

    id: str = Field(pattern=r"^[a-z0-9_\-]{1,40}$")
    question: dict[str, str]
    answer: dict[str, str]

    @field_validator("question", "answer")
    @classmethod
    def _english(cls, texts: dict[str, str]) -> dict[str, str]:
        if "en" not in texts:
            raise ValueError("an English text (en) is required")
        return texts


def _known_time_zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}; give an IANA name such as Asia/Kolkata"
        ) from None
    return value


class AlertsSpec(_Strict):
    """The desk's alerts: an SOS no one acknowledged (assigned to an officer, status changed,
    replied) within `sos_acknowledge_within` goes to the unit's on-duty supervisor."""

    sos_acknowledge_within: int = Field(default=5, ge=1)

    @field_validator("sos_acknowledge_within", mode="before")
    @classmethod
    def _duration(cls, value: str | int) -> int:
        return parse_duration(value)


class ChannelsSpec(_Strict):
    x: XChannelSpec = Field(default_factory=XChannelSpec)
    whatsapp: WhatsAppChannelSpec = Field(default_factory=WhatsAppChannelSpec)


class OrgSpec(_Strict):
    units: list[UnitSpec]
    # Every time the desk shows is in this zone, with the zone named ("14:05 IST").
    timezone: str = "Asia/Kolkata"
    alerts: AlertsSpec = Field(default_factory=AlertsSpec)
    channels: ChannelsSpec = Field(default_factory=ChannelsSpec)
    faq: list[FaqSpec] = Field(default_factory=list)
    triage: TriageSpec | None = None
    calendars: dict[str, CalendarSpec] = Field(default_factory=dict)
    routing_rules: list[RoutingRuleSpec] = Field(default_factory=list)
    roster: list[RosterSpec] = Field(default_factory=list)
    sla_policies: list[SlaSpec] = Field(default_factory=list)
    users: list[UserSpec] = Field(default_factory=list)
    templates: list[TemplateSpec] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return _known_time_zone(value)

    def triage_settings(self) -> dict[str, Any] | None:
        """The `triage` section as the database stores it (JSON); None when there is none."""
        return self.triage.model_dump(exclude_none=True) if self.triage is not None else None

    def triage_config(self) -> TriageConfig:
        """The triage settings this file gives, as the pipeline reads them once loaded."""
        return TriageConfig.of(self.triage_settings())

    def walk(self) -> Iterator[tuple[UnitSpec, UnitSpec | None, str]]:
        """Every unit with its parent and its key path, parents before children."""

        def visit(
            unit: UnitSpec, parent: UnitSpec | None, key: str
        ) -> Iterator[tuple[UnitSpec, UnitSpec | None, str]]:
            yield unit, parent, key
            for i, child in enumerate(unit.children):
                yield from visit(child, unit, f"{key}.children[{i}]")

        for i, root in enumerate(self.units):
            yield from visit(root, None, f"units[{i}]")


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _cross_checks(spec: OrgSpec) -> list[str]:
    problems: list[str] = []
    codes: dict[str, str] = {}
    handles: dict[str, str] = {}
    hashtags: dict[str, str] = {}
    defaults: list[str] = []
    positions: dict[str, str] = {}
    for unit, parent, key in spec.walk():
        for j, position in enumerate(unit.positions):
            if position.code in positions:
                problems.append(
                    f"{key}.positions[{j}].code: {position.code!r} is already used at {positions[position.code]}"
                )
            positions[position.code] = f"{key}.positions[{j}]"
        if unit.code in codes:
            problems.append(f"{key}.code: {unit.code!r} is already used at {codes[unit.code]}")
        codes[unit.code] = key
        if parent is None and unit.ticket_prefix is None:
            problems.append(f"{key}.ticket_prefix: a top-level unit needs a ticket prefix")
        for j, h in enumerate(unit.handles):
            if h in handles:
                problems.append(f"{key}.handles[{j}]: @{h} is already owned by {handles[h]}")
            handles[h] = key
        for j, h in enumerate(unit.hashtags):
            if h in hashtags:
                problems.append(f"{key}.hashtags[{j}]: #{h} is already owned by {hashtags[h]}")
            hashtags[h] = key
        if unit.default:
            defaults.append(key)
    if len(defaults) > 1:
        problems.append(f"units: only one unit can be the default, found {', '.join(defaults)}")
    for i, sla in enumerate(spec.sla_policies):
        if sla.unit not in codes:
            problems.append(f"sla_policies[{i}].unit: no unit with code {sla.unit!r}")
        if sla.calendar != "24x7" and sla.calendar not in spec.calendars:
            problems.append(
                f"sla_policies[{i}].calendar: unknown calendar {sla.calendar!r} (define it under calendars)"
            )
    for i, user in enumerate(spec.users):
        if user.unit not in codes:
            problems.append(f"users[{i}].unit: no unit with code {user.unit!r}")
        if not user.password and not user.password_hash:
            problems.append(f"users[{i}]: give password_hash (or password, hashed on load)")
    if spec.triage is not None:
        from sevadesk.triage.rules import Taxonomy

        known = set(Taxonomy.load().names)
        for i, name in enumerate(spec.triage.categories or []):
            if name not in known:
                problems.append(f"triage.categories[{i}]: unknown category {name!r}")
        for i, rule in enumerate(spec.triage.rules):
            if not rule.keywords and not rule.pattern:
                problems.append(f"triage.rules[{i}]: give keywords or a pattern")
            if not (rule.kind or rule.category or rule.urgency):
                problems.append(f"triage.rules[{i}]: set at least one of kind, category, urgency")
    usernames = {u.username for u in spec.users}
    for i, entry in enumerate(spec.roster):
        if entry.position not in positions:
            problems.append(f"roster[{i}].position: unknown position {entry.position!r}")
        if entry.user not in usernames:
            problems.append(
                f"roster[{i}].user: unknown user {entry.user!r} (list them under users)"
            )
        if entry.end is not None and entry.end <= entry.start:
            problems.append(f"roster[{i}].to: ends before it starts")
    template_codes = {tpl.code for tpl in spec.templates}
    for i, routing_rule in enumerate(spec.routing_rules):
        then = routing_rule.then
        if then.route_to is not None and then.route_to not in codes:
            problems.append(
                f"routing_rules[{i}].then.route_to: no unit with code {then.route_to!r}"
            )
        if then.acknowledge is not None and then.acknowledge not in template_codes:
            problems.append(
                f"routing_rules[{i}].then.acknowledge: unknown template {then.acknowledge!r}"
            )
        if routing_rule.when == RuleWhen():
            problems.append(f"routing_rules[{i}].when: give at least one condition")
    seen_templates: dict[tuple[str, str | None, str | None, str | None], int] = {}
    for i, tpl in enumerate(spec.templates):
        if tpl.unit is not None and tpl.unit not in codes:
            problems.append(f"templates[{i}].unit: no unit with code {tpl.unit!r}")
        which = (tpl.code, tpl.language, tpl.channel, tpl.unit)
        if which in seen_templates:
            problems.append(
                f"templates[{i}]: the same code, language, channel and unit as"
                f" templates[{seen_templates[which]}]"
            )
        seen_templates.setdefault(which, i)
    return problems


# What each pattern-checked key takes, in words (pydantic would quote the regular expression).
_PATTERNS = {
    "code": "letters, digits, '.', '_' or '-' (up to 64, no spaces), e.g. UPP-LUCKNOW",
    "username": "2 to 64 lower-case letters, digits, '.', '_' or '-', e.g. lko.agent",
    "ticket_prefix": "2 to 6 capital letters, e.g. UPP",
}
_TYPES = {
    "string_type": "should be text",
    "int_type": "should be a whole number",
    "int_parsing": "should be a whole number",
    "bool_type": "should be true or false",
    "bool_parsing": "should be true or false",
    "list_type": "should be a list (lines starting with '- ')",
    "dict_type": "should be a mapping of keys (key: value lines)",
    "model_type": "should be a mapping of keys (key: value lines)",
}


def _named(loc: tuple[int | str, ...], data: Any) -> str:
    """The key path, with the code of the unit it is in: `units[0].children[2] (RLY-NR)`."""
    key, node, named = _key_path(loc), data, ""
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and isinstance(node.get("code"), str):
            named = node["code"]
    return f"{key} (in {named})" if named and not key.endswith(".code") else key


def _plain(error: Any, data: Any) -> str:
    """One validation error as `key.path: what is wrong` in plain words."""
    loc, kind, msg = tuple(error["loc"]), error["type"], str(error["msg"])
    key = _named(loc, data)
    last = str(loc[-1]) if loc else ""
    if kind == "missing":
        return f"{key}: this key is required"
    if kind == "extra_forbidden":
        return f"{key}: unknown key (check its spelling and indentation)"
    if kind == "string_pattern_mismatch":
        what = _PATTERNS.get(last, "not in the expected form")
        return f"{key}: {error.get('input')!r} is not valid here: use {what}"
    if kind == "literal_error":
        return f"{key}: {error.get('input')!r} is not allowed: " + msg.replace(
            "Input should be", "use"
        )
    if kind in _TYPES:
        return f"{key}: {_TYPES[kind]}, got {error.get('input')!r}"
    return f"{key}: " + msg.removeprefix("Value error, ").replace("Input should be", "should be")


def parse_org(data: Any, source: str = "<org>") -> OrgSpec:
    try:
        spec = OrgSpec.model_validate(data)
    except ValidationError as exc:
        problems = [_plain(e, data) for e in exc.errors()]
        raise OrgFileError(source, problems) from None
    problems = _cross_checks(spec)
    if problems:
        raise OrgFileError(source, problems)
    return spec


def parse_org_text(text: str, source: str = "<upload>") -> OrgSpec:
    """An org file given as text (an upload in the admin page)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        raise OrgFileError(source, [f"{where}: not valid YAML ({exc})"]) from None
    return parse_org(data, source)


def load_org_file(path: Path) -> OrgSpec:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        raise OrgFileError(str(path), [f"{where}: not valid YAML ({exc})"]) from None
    except OSError as exc:
        raise OrgFileError(str(path), [f"cannot read: {exc.strerror}"]) from None
    return parse_org(data, str(path))
