"""One turn of the conversation: (session, what the citizen sent) → (session, replies).

Pure logic over the flow, the catalogues and a `Services` object that answers questions
about the world (offices, tickets) and files tickets. No I/O of its own, so `seva bot chat`,
the WhatsApp runner and the tests drive the same code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sevadesk.bot.catalogue import Catalogues
from sevadesk.bot.flows import Choice, Flow, Step

PAGE = 9  # list rows per page when a list is longer than WhatsApp's 10; the 10th is "more"
MORE = "__more__"
_PIN = re.compile(r"(?<!\d)([1-9]\d{2})\s?(\d{3})(?!\d)")
_REF = re.compile(r"\b([A-Za-z]{2,6})\s*-?\s*(\d{1,9})\b")
CLOSED = frozenset({"resolved", "closed", "rejected", "merged"})


@dataclass(slots=True)
class Inbound:
    """What the citizen sent, whatever the message type."""

    text: str = ""
    choice: str | None = None  # the id of a button or list row they tapped
    location: tuple[float, float] | None = None
    media: tuple[tuple[str, str, str], ...] = ()
    wamid: str = ""
    name: str | None = None


@dataclass(slots=True)
class Outbound:
    text: str
    choices: list[tuple[str, str]] = field(default_factory=list)  # (id, title)
    button: str | None = None  # the list's button label, when there are more than 3 choices


@dataclass(slots=True)
class Session:
    wa_id: str
    step: str
    lang: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    misses: int = 0
    handoff_ref: str | None = None
    updated_at: datetime | None = None
    version: int = 0
    last_inbound_at: datetime | None = None


class Services(Protocol):
    def agencies(self, lang: str) -> list[tuple[str, str]]: ...
    def categories(self) -> list[str]: ...
    def districts(self) -> list[str]: ...
    def faq(self, lang: str) -> list[tuple[str, str, str]]: ...
    def district_named(self, text: str) -> str | None: ...
    def detect_language(self, text: str) -> str | None: ...
    def lodge(self, session: Session, inbound: Inbound) -> str | None: ...
    def my_tickets(self, wa_id: str) -> list[tuple[str, str]]: ...
    def track(self, ref: str, wa_id: str) -> dict[str, str] | None: ...
    def find_help(self, place: tuple[str, Any]) -> dict[str, Any] | None: ...
    def handoff(self, session: Session, inbound: Inbound) -> str: ...
    def forward(self, session: Session, inbound: Inbound) -> None: ...
    def ticket_status(self, ref: str) -> str | None: ...
    def appeal(self, ref: str) -> bool: ...
    def confirm_fixed(self, ref: str) -> None: ...


class Bot:
    def __init__(self, flow: Flow, catalogues: Catalogues, services: Services) -> None:
        self.flow, self.cat, self.services = flow, catalogues, services

    # The turn -------------------------------------------------------------------------------

    def turn(
        self, wa_id: str, session: Session | None, inbound: Inbound, now: datetime
    ) -> tuple[Session, list[Outbound]]:
        outs: list[Outbound] = []
        fresh = False
        if session is None:
            session = Session(wa_id, self.flow.start)
            detected = self.services.detect_language(inbound.text) if inbound.text else None
            session.lang = detected if detected in self.cat.languages else None
            fresh = True
        elif (
            session.updated_at is not None
            and now - session.updated_at > timedelta(minutes=self.flow.idle_minutes)
            and not self.flow.steps[session.step].human
        ):
            outs.append(Outbound(self._t(session, "session_expired")))
            session.step, session.data, session.misses = self.flow.start, {}, 0
            fresh = True
        session.updated_at = now
        if self.flow.steps[session.step].human:
            status = self.services.ticket_status(session.handoff_ref or "")
            if status is None or status not in CLOSED:
                self.services.forward(session, inbound)
                return session, []  # an officer has the conversation: the bot stays quiet
            outs.append(Outbound(self._t(session, "handoff_ended")))
            session.handoff_ref = None
            fresh = True
            session.step = self.flow.start
        if fresh:
            first = "language" if session.lang is None and "language" in self.flow.steps else None
            self._enter(session, first or self.flow.start, outs)
            return session, outs
        words = _norm(inbound.text)
        if words and words in self.cat.words(self._lang(session), "words_menu"):
            self._enter(session, "menu" if "menu" in self.flow.steps else self.flow.start, outs)
            return session, outs
        if words and words in self.cat.words(self._lang(session), "words_person"):
            self._enter(session, "handoff", outs)
            return session, outs
        self._answer(session, inbound, outs)
        return session, outs

    def prompt(self, session: Session, step_id: str) -> list[Outbound]:
        """Move the conversation to `step_id` (e.g. 'feedback' after a resolution) and return
        what to say."""
        outs: list[Outbound] = []
        self._enter(session, step_id, outs)
        return outs

    def _answer(self, session: Session, inbound: Inbound, outs: list[Outbound]) -> None:
        step = self.flow.steps[session.step]
        visible = self._visible(step, session)
        picked = _match(visible, inbound)
        if picked == MORE:
            session.data["page"] = session.data.get("page", 0) + 1
            self._prompt(step, session, outs)
            return
        if picked is not None:
            choice = next((c for c in step.choices if c.id == picked), None)
            if step.store and choice is None:
                session.data[step.store] = {"pick": picked}
            elif step.store:
                # A fixed choice ("skip", "pick a district") only moves the conversation: it is
                # not the answer the step stores, and it clears an earlier one (after "change").
                session.data.pop(step.store, None)
            action = choice.action if choice else step.action
            target = (choice.next if choice else None) or step.next
            session.misses = 0
            self._run(action, session, inbound, picked, outs)
            self._enter(session, target or self.flow.start, outs)
            return
        value = self._read(step.expect, inbound) if step.expect else None
        if value is not None:
            if step.store:
                session.data[step.store] = value
            session.misses = 0
            self._run(step.action, session, inbound, value, outs)
            self._enter(session, step.next or self.flow.start, outs)
            return
        session.misses += 1
        if session.misses >= 3 and "offer_person" in self.flow.steps:
            session.misses = 0
            self._enter(session, "offer_person", outs)
            return
        hint = "didnt_understand"
        if step.expect == "location" and re.search(r"\d{4,}", inbound.text):
            hint = "pin_unknown"
        outs.append(Outbound(self._t(session, hint)))
        self._prompt(step, session, outs)

    # Steps --------------------------------------------------------------------------------

    def _enter(self, session: Session, step_id: str, outs: list[Outbound]) -> None:
        for _ in range(10):  # auto steps chain; the bound stops a flow that loops on itself
            step = self.flow.steps[step_id]
            session.step = step_id
            session.data.pop("page", None)
            if step.human:
                return
            if step.action and not (step.choices or step.choices_from or step.expect):
                self._run(step.action, session, Inbound(), None, outs)
                step_id = step.next or self.flow.start
                continue
            options = self._options(step, session)
            if step.choices_from and len(options) == 1 and step.store:
                # One department, one category: nothing to ask.
                session.data[step.store] = {"pick": options[0][0]}
                step_id = step.next or self.flow.start
                continue
            self._prompt(step, session, outs)
            return

    def _prompt(self, step: Step, session: Session, outs: list[Outbound]) -> None:
        text = self._t(session, step.say, **self._params(session)) if step.say else ""
        if not text and not step.choices and not step.choices_from:
            return
        visible = self._visible(step, session)
        if step.choices_from and not visible:
            outs.append(
                Outbound(
                    self._t(session, f"{step.choices_from}_none")
                    if self.cat.has(f"{step.choices_from}_none")
                    else text
                )
            )
            return
        button = self._t(session, step.button) if step.button else None
        outs.append(Outbound(text, visible, button if len(visible) > 3 else None))

    def _options(self, step: Step, session: Session) -> list[tuple[str, str]]:
        lang = self._lang(session)
        if step.choices:
            return [(c.id, self._t(session, c.label)) for c in step.choices]
        source = step.choices_from
        if source == "agencies":
            return self.services.agencies(lang)
        if source == "categories":
            return [(c, self._category(session, c)) for c in self.services.categories()]
        if source == "districts":
            return [(d, d) for d in self.services.districts()]
        if source == "faq":
            return [(fid, question) for fid, question, _ in self.services.faq(lang)]
        return []

    def _visible(self, step: Step, session: Session) -> list[tuple[str, str]]:
        options = self._options(step, session)
        if len(options) <= 10:
            return options
        page = session.data.get("page", 0)
        pages = (len(options) + PAGE - 1) // PAGE
        page %= pages
        shown = options[page * PAGE : (page + 1) * PAGE]
        return [*shown, (MORE, self._t(session, "more"))]

    # Inputs -------------------------------------------------------------------------------

    def _read(self, expect: str | None, inbound: Inbound) -> Any:
        text = inbound.text.strip()
        if expect == "text":
            return text or None
        if expect == "description":
            if not text and not inbound.media:
                return None
            return {"text": text, "media": [list(m) for m in inbound.media]}
        if expect == "location":
            if inbound.location is not None:
                return {"location": list(inbound.location)}
            match = _PIN.search(text)
            if match:
                return {"pin": match.group(1) + match.group(2)}
            district = self.services.district_named(text) if text else None
            return {"district": district} if district else None
        if expect == "reference":
            match = _REF.search(text)
            if not match:
                return None
            return {"ref": f"{match.group(1).upper()}-{int(match.group(2)):06d}"}
        return None

    # Actions ------------------------------------------------------------------------------

    def _run(
        self,
        action: str | None,
        session: Session,
        inbound: Inbound,
        value: Any,
        outs: list[Outbound],
    ) -> None:
        if action is None:
            return
        t = self._t
        s = self.services
        if action == "set_language":
            session.lang = value if value in self.cat.languages else session.lang
        elif action == "lodge":
            ref = s.lodge(session, inbound)
            outs.append(
                Outbound(t(session, "lodged", ref=ref) if ref else t(session, "lodge_failed"))
            )
            for key in ("agency", "category", "description", "location"):
                session.data.pop(key, None)
        elif action == "cancel_lodge":
            outs.append(Outbound(t(session, "lodge_cancelled")))
            for key in ("agency", "category", "description", "location"):
                session.data.pop(key, None)
        elif action == "my_tickets":
            tickets = s.my_tickets(session.wa_id)
            if not tickets:
                outs.append(Outbound(t(session, "my_tickets_none")))
            else:
                lines = "\n".join(f"{ref}: {t(session, 'status_' + st)}" for ref, st in tickets)
                outs.append(Outbound(t(session, "my_tickets_list", lines=lines)))
        elif action == "track":
            ref = value["ref"]
            found = s.track(ref, session.wa_id)
            if found is None:
                outs.append(Outbound(t(session, "ticket_unknown", ref=ref)))
            else:
                outs.append(
                    Outbound(
                        t(
                            session,
                            "ticket_status",
                            ref=ref,
                            status=t(session, "status_" + found["status"]),
                            office=found["office"],
                            update=found.get("update") or t(session, "no_update"),
                        )
                    )
                )
        elif action == "find_help":
            place = next(iter(value.items()))
            found = s.find_help(place)
            if found is None:
                outs.append(Outbound(t(session, "pin_unknown")))
            elif not found["offices"]:
                outs.append(
                    Outbound(t(session, "help_none", pin=found["pin"], district=found["district"]))
                )
            else:
                outs.append(
                    Outbound(
                        t(
                            session,
                            "help_result",
                            pin=found["pin"],
                            place=found["place"],
                            district=found["district"],
                            lines="\n".join(found["offices"]),
                        )
                    )
                )
        elif action == "faq_answer":
            answers = {fid: answer for fid, _, answer in s.faq(self._lang(session))}
            if value in answers:
                outs.append(Outbound(answers[value]))
        elif action == "handoff":
            ref = s.handoff(session, inbound)
            session.handoff_ref = ref
            outs.append(Outbound(t(session, "handoff_started", ref=ref)))
        elif action == "fixed":
            ref = session.data.pop("feedback_ref", None)
            if ref:
                s.confirm_fixed(ref)
            outs.append(Outbound(t(session, "thanks_fixed")))
        elif action == "not_fixed":
            ref = session.data.pop("feedback_ref", None)
            if ref and s.appeal(ref):
                outs.append(Outbound(t(session, "appealed", ref=ref)))

    # Texts --------------------------------------------------------------------------------

    def _lang(self, session: Session) -> str:
        return session.lang or "en"

    def _t(self, session: Session, key: str | None, **params: Any) -> str:
        return self.cat.text(self._lang(session), key or "", **params) if key else ""

    def _category(self, session: Session, code: str) -> str:
        key = f"cat_{code}"
        return self._t(session, key) if self.cat.has(key) else code.replace("_", " ").capitalize()

    def _params(self, session: Session) -> dict[str, Any]:
        data = session.data
        agency = (data.get("agency") or {}).get("pick")
        names = dict(self.services.agencies(self._lang(session))) if agency else {}
        category = (data.get("category") or {}).get("pick")
        description = data.get("description") or {}
        text = description.get("text") or ""
        if description.get("media"):
            text = (text + " " if text else "") + " ".join(
                f"[{m[0]}]" for m in description["media"]
            )
        return {
            "agency": names.get(agency, agency or "-"),
            "category": self._category(session, category) if category else "-",
            "location": describe_place(data.get("location")),
            "description": text,
            "ref": data.get("feedback_ref", ""),
        }


def describe_place(value: Any) -> str:
    if not isinstance(value, dict) or not value:
        return "-"
    if "pin" in value:
        return f"PIN {value['pin']}"
    if "district" in value:
        return str(value["district"])
    if "pick" in value:
        return str(value["pick"])
    if "location" in value:
        lat, lon = value["location"]
        return f"{lat:.4f}, {lon:.4f}"
    return "-"


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _match(visible: list[tuple[str, str]], inbound: Inbound) -> str | None:
    ids = [cid for cid, _ in visible]
    if inbound.choice is not None and inbound.choice in ids:
        return inbound.choice
    text = _norm(inbound.text)
    if not text:
        return None
    if text.isdecimal() and 1 <= int(text) <= len(visible):
        return ids[int(text) - 1]
    for cid, title in visible:
        if text in (_norm(title), cid.lower()):
            return cid
    return None


__all__ = ["Bot", "Choice", "Inbound", "Outbound", "Services", "Session", "describe_place"]
