"""What the bot asks of the desk, answered from the database, the reference data and the
pipeline. Filing goes through the same pipeline as every other channel: the bot journals a
message it composed (source `wa-bot`, keyed by the citizen's own message id, so doing it
twice files it once) and the pipeline triages, routes and opens the ticket."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import orjson
from sqlalchemy import Engine, func, select

from sevadesk.bot.engine import Inbound, Session, describe_place
from sevadesk.domain.clock import Clock
from sevadesk.domain.errors import IllegalTransition
from sevadesk.pipeline.runner import Pipeline
from sevadesk.routing.pin_offices import pin_offices
from sevadesk.store import tables as t
from sevadesk.store.org_repo import faq_topics, org_taxonomy
from sevadesk.store.users_repo import Actor
from sevadesk.tickets import actions
from sevadesk.tickets.queries import ticket_of_message
from sevadesk.triage import language
from sevadesk.triage.places import gazetteer

BOT_SOURCE = "wa-bot"
# The bot acts for the citizen on their own tickets: appeal, confirm a fix.
CITIZEN = Actor(0, "whatsapp-citizen", "agent", 0, "", "/")
_CACHE_SECONDS = 60.0
_BOT_LANGUAGES = {"en", "hi", "mr", "ta"}


class DeskServices:
    def __init__(self, engine: Engine, pipeline: Pipeline, clock: Clock) -> None:
        self.engine, self.pipeline, self.clock = engine, pipeline, clock
        self._cache: dict[str, tuple[float, Any]] = {}

    def _cached(self, key: str, load: Any) -> Any:
        hit = self._cache.get(key)
        if hit is None or time.monotonic() - hit[0] > _CACHE_SECONDS:
            hit = (time.monotonic(), load())
            self._cache[key] = hit
        return hit[1]

    # Choices ------------------------------------------------------------------------------

    def _departments(self) -> list[tuple[str, str, str | None, str]]:
        """(code, name, Hindi name, first handle) of the units under the top one that
        citizens can address (they own handles)."""

        def load() -> list[tuple[str, str, str | None, str]]:
            u, h = t.units.c, t.unit_handles.c
            with self.engine.connect() as conn:
                root = conn.execute(
                    select(u.id).where(u.parent_id.is_(None)).order_by(u.id)
                ).scalar()
                rows = conn.execute(
                    select(u.code, u.name, u.name_hi, func.min(h.handle))
                    .join(t.unit_handles, h.unit_id == u.id)
                    .where(u.parent_id == root)
                    .group_by(u.code, u.name, u.name_hi)
                    .order_by(u.code)
                ).all()
            return [(r[0], r[1], r[2], r[3]) for r in rows]

        result: list[tuple[str, str, str | None, str]] = self._cached("agencies", load)
        return result

    def agencies(self, lang: str) -> list[tuple[str, str]]:
        return [
            (code, (name_hi if lang == "hi" and name_hi else name))
            for code, name, name_hi, _ in self._departments()
        ]

    def agency_handle(self, code: str) -> str | None:
        return next((handle for c, _, _, handle in self._departments() if c == code), None)

    def categories(self) -> list[str]:
        def load() -> list[str]:
            with self.engine.connect() as conn:
                return list(org_taxonomy(conn).names)

        result: list[str] = self._cached("categories", load)
        return result

    def districts(self) -> list[str]:
        def load() -> list[str]:
            j = t.unit_jurisdictions.c
            with self.engine.connect() as conn:
                values = conn.execute(
                    select(j.value).where(j.kind == "district").distinct().order_by(j.value)
                ).scalars()
                return [v.title() for v in values]

        result: list[str] = self._cached("districts", load)
        return result

    def faq(self, lang: str) -> list[tuple[str, str, str]]:
        def load() -> list[dict[str, Any]]:
            with self.engine.connect() as conn:
                return faq_topics(conn)

        topics: list[dict[str, Any]] = self._cached("faq", load)
        return [
            (
                f["id"],
                f["question"].get(lang) or f["question"]["en"],
                f["answer"].get(lang) or f["answer"]["en"],
            )
            for f in topics
        ]

    def district_named(self, text: str) -> str | None:
        found = gazetteer().resolve(text, []).districts
        return found[0] if found else None

    def detect_language(self, text: str) -> str | None:
        code = language.detect(text)
        if code == "mr" and len(text.split()) < 4:
            # A greeting like "नमस्ते" is both Hindi and Marathi; Hindi is far more likely,
            # and the menu offers a change of language.
            code = "hi"
        return code if code in _BOT_LANGUAGES else None

    # Filing -------------------------------------------------------------------------------

    def _file(
        self, wa_id: str, name: str | None, message_id: str, text: str, bot: dict[str, Any]
    ) -> str | None:
        payload = {
            "contact": {"profile": {"name": name or ""}, "wa_id": wa_id},
            "message": {
                "from": wa_id,
                "id": message_id,
                "timestamp": str(int(self.clock.now().timestamp())),
                "type": "text",
                "text": {"body": text},
            },
            "bot": bot,
        }
        self.pipeline.ingest("whatsapp", BOT_SOURCE, [orjson.dumps(payload).decode()])
        with self.engine.connect() as conn:
            return ticket_of_message(conn, "whatsapp", message_id)

    def lodge(self, session: Session, inbound: Inbound) -> str | None:
        data = session.data
        description = data.get("description") or {}
        place = data.get("location") or {}
        text = description.get("text") or ""
        if "location" in place:
            # Routing reads places from the text: name the PIN nearest to the shared point.
            near = pin_offices().nearest(*place["location"])
            if near is not None:
                place = {**place, "pin": near.pin}
        if "pin" in place:
            text += f"\nPIN {place['pin']}"
        elif "district" in place or "pick" in place:
            text += f"\nDistrict: {place.get('district') or place.get('pick')}"
        agency = (data.get("agency") or {}).get("pick")
        bot: dict[str, Any] = {
            "filed": True,
            "category": (data.get("category") or {}).get("pick"),
            "media": description.get("media") or [],
        }
        if agency:
            bot["to"] = self.agency_handle(agency)
        if "location" in place:
            bot["location"] = place["location"]
        # Keyed by the message that confirmed: a retried turn files nothing new.
        return self._file(
            session.wa_id, inbound.name, f"bot-lodge-{inbound.wamid}", text.strip() or "-", bot
        )

    def handoff(self, session: Session, inbound: Inbound) -> str:
        conversation = f"wa-person-{session.wa_id}-{inbound.wamid}"
        session.data["conversation"] = conversation
        text = "Citizen asked to talk to a person on WhatsApp."
        if inbound.text and inbound.choice is None:
            text += f"\n{inbound.text}"
        ref = self._file(
            session.wa_id,
            inbound.name,
            f"bot-person-{inbound.wamid}",
            text,
            {"filed": True, "conversation": conversation},
        )
        return ref or "-"

    def forward(self, session: Session, inbound: Inbound) -> None:
        """A message written while an officer has the conversation joins its ticket."""
        text = inbound.text or " ".join(f"[{m[0]}]" for m in inbound.media) or "-"
        if inbound.location is not None:
            text = f"[location] {describe_place({'location': inbound.location})}"
        self._file(
            session.wa_id,
            inbound.name,
            inbound.wamid,
            text,
            {
                "conversation": session.data.get("conversation"),
                "media": [list(m) for m in inbound.media],
            },
        )

    # Tickets ------------------------------------------------------------------------------

    def _citizen(self, conn: Any, wa_id: str) -> int | None:
        ci = t.citizen_identities.c
        value: int | None = conn.execute(
            select(ci.citizen_id).where(ci.channel == "whatsapp", ci.external_user_id == wa_id)
        ).scalar()
        return value

    def my_tickets(self, wa_id: str) -> list[tuple[str, str]]:
        c = t.tickets.c
        with self.engine.connect() as conn:
            citizen = self._citizen(conn, wa_id)
            if citizen is None:
                return []
            rows = conn.execute(
                select(c.ref, c.status)
                .where(c.citizen_id == citizen, c.status.not_in(["closed", "merged"]))
                .order_by(c.id.desc())
                .limit(5)
            ).all()
        return [(r.ref, r.status) for r in rows]

    def track(self, ref: str, wa_id: str) -> dict[str, str] | None:
        c, o = t.tickets.c, t.outbox.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(c.id, c.status, c.channel, c.citizen_id, t.units.c.name)
                .join(t.units, t.units.c.id == c.unit_id)
                .where(c.ref == ref)
            ).first()
            if row is None:
                return None
            mine = row.citizen_id is not None and row.citizen_id == self._citizen(conn, wa_id)
            update = None
            if mine or row.channel == "x":  # replies on X are public; others only to their citizen
                update = conn.execute(
                    select(o.body)
                    .where(o.ticket_id == row.id, o.status == "sent", o.kind != "dm")
                    .order_by(o.sent_at.desc())
                    .limit(1)
                ).scalar()
        return {"status": row.status, "office": row.name, "update": update or ""}

    def ticket_status(self, ref: str) -> str | None:
        with self.engine.connect() as conn:
            value: str | None = conn.execute(
                select(t.tickets.c.status).where(t.tickets.c.ref == ref)
            ).scalar()
        return value

    def appeal(self, ref: str) -> bool:
        try:
            with self.engine.begin() as conn:
                actions.appeal(
                    conn, CITIZEN, ref, "citizen said on WhatsApp: not fixed", self.clock.now()
                )
        except (actions.InvalidRequest, IllegalTransition):
            return False
        return True

    def confirm_fixed(self, ref: str) -> None:
        # Already closed, or reopened meanwhile: nothing to confirm.
        with (
            contextlib.suppress(actions.InvalidRequest, IllegalTransition),
            self.engine.begin() as conn,
        ):
            actions.change_status(
                conn,
                CITIZEN,
                ref,
                "closed",
                "citizen confirmed the fix on WhatsApp",
                self.clock.now(),
            )

    # Find help ----------------------------------------------------------------------------

    def find_help(self, place: tuple[str, Any]) -> dict[str, Any] | None:
        kind, value = place
        offices = pin_offices()
        pin: str | None = None
        if kind == "pin":
            pin = str(value)
        elif kind == "location":
            near = offices.nearest(float(value[0]), float(value[1]))
            pin = near.pin if near else None
            if pin is None:
                return None
        district = str(value) if kind == "district" else None
        if pin is not None:
            known = gazetteer().pins.get(pin)
            if known is None:
                return None
            district = known[0]
        assert district is not None
        post = offices.by_pin.get(pin or "")
        return {
            "pin": pin or "-",
            "place": post.office if post else district,
            "district": district,
            "offices": self._offices_for(pin, district),
        }

    def _offices_for(self, pin: str | None, district: str) -> list[str]:
        j, u = t.unit_jurisdictions.c, t.units.c
        wanted = [("district", district.lower())] + ([("pin", pin)] if pin else [])
        with self.engine.connect() as conn:
            units = conn.execute(
                select(u.id, u.name, u.contact, u.path)
                .join(t.unit_jurisdictions, j.unit_id == u.id)
                .where(
                    ((j.kind == wanted[0][0]) & (j.value == wanted[0][1]))
                    | ((j.kind == "pin") & (j.value == (pin or "")))
                )
                .distinct()
                .order_by(u.path)
            ).all()
            lines: list[str] = []
            for unit in units:
                contact = dict(unit.contact or {})
                if not contact:
                    # The nearest office above it that publishes a contact (a helpline).
                    codes = [p for p in unit.path.strip("/").split("/")][::-1]
                    for code in codes[1:]:
                        above = conn.execute(
                            select(u.name, u.contact).where(u.code == code)
                        ).first()
                        if above is not None and above.contact:
                            contact = {**dict(above.contact), "via": above.name}
                            break
                details = ", ".join(f"{v}" for k, v in contact.items() if k != "via")
                via = f" ({contact['via']})" if "via" in contact else ""
                lines.append(f"• {unit.name}: {details}{via}" if details else f"• {unit.name}")
        return lines
