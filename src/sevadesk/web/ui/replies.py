"""Replies from the desk: a refused reply comes back with the officer's draft in the box and
a refusal in plain words (what to change, never a field name or a character offset); an
incident reply is sent only after the officer has seen how many citizens it reaches and
confirmed, a step the server keeps (a signed confirmation of that text and that set of
tickets), not a browser dialog."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from sevadesk.domain.errors import IllegalTransition, MissingReason, OutOfScope, UnknownUnit
from sevadesk.tickets import actions
from sevadesk.tickets.queries import TicketNotFound
from sevadesk.web.malformed import plain_fields
from sevadesk.web.ui.desk import MAX_KEY, render_incident, render_workspace
from sevadesk.web.ui.session import CurrentDeskUser, DeskUser, check_csrf

router = APIRouter(prefix="/desk", include_in_schema=False)

# How much of a refused personal datum the refusal repeats: enough to find it in the draft,
# not the whole number on a screen someone else may read.
SHOWN = 5


def _quoted(text: str) -> str:
    return f"“{text[:SHOWN]}…”" if len(text) > SHOWN else f"“{text}”"


def refusal_text(exc: Exception, t: Any) -> str:
    """A refusal of the reply form as the officer should read it: what is wrong and what to
    change, in the desk's language."""
    if isinstance(exc, actions.PublicReplyBlocked):
        items = [f"{t('r_kind_' + d.kind)} ({_quoted(d.text)})" for d in exc.details["findings"]]
        return str(t("r_personal")).format(items=str(t("r_and")).join(items))
    if isinstance(exc, actions.ReplyRefused):
        d = exc.details
        if exc.reason == "too_long":
            over = d["length"] - d["limit"]
            key = "r_too_long_x" if d.get("weighted") else "r_too_long"
            channel = t("ch_" + d.get("channel", "x")) if d.get("channel") else ""
            return str(t(key)).format(
                length=f"{d['length']:,}",
                limit=f"{d['limit']:,}",
                over=f"{over:,}",
                channel=channel,
            )
        if exc.reason == "private_too_long":
            return str(t("r_private_too_long")).format(
                length=f"{d['length']:,}",
                limit=f"{d['limit']:,}",
                over=f"{d['length'] - d['limit']:,}",
            )
        if exc.reason == "closed":
            return str(t("r_closed")).format(status=d.get("status", ""))
        if exc.reason == "unfilled":
            return str(t("r_unfilled")).format(variables=", ".join(d["variables"]))
        known = {
            "empty": "r_empty",
            "status_page": "r_status_page",
            "no_private_channel": "r_no_private",
            "no_open_tickets": "r_no_open",
        }
        if exc.reason in known:
            return str(t(known[exc.reason]))
    if isinstance(exc, actions.ReadOnlyRole):
        return str(t("r_read_only"))
    return str(exc)  # a rule without plain words yet: the domain's own sentence


_REFUSALS = (
    actions.InvalidRequest,
    actions.ReadOnlyRole,
    IllegalTransition,
    MissingReason,
    UnknownUnit,
    OutOfScope,
)


# What no column can store (and no page can show): NUL and lone surrogates.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _clean(text: str) -> str:
    return _UNSTORABLE.sub("", text)


async def _form(request: Request, user: DeskUser) -> dict[str, str]:
    form = {k: str(v) for k, v in (await request.form()).items()}
    check_csrf(user, form)
    return form


def _form_problem(form: dict[str, str], t: Any) -> str | None:
    if len(form.get("key", "")) > MAX_KEY or plain_fields({"key": form.get("key", "")}):
        return str(t("r_key"))
    if plain_fields(form):
        return str(t("r_unstorable"))
    return None


@router.post("/t/{ref}/reply")
async def ticket_reply(ref: str, request: Request, user: CurrentDeskUser) -> Response:
    """Queue the reply; refused, the ticket page again with the draft and what to change."""
    form = await _form(request, user)
    body, private = form.get("body", ""), form.get("private_body", "")

    def run() -> Response:
        t = user.t
        error = _form_problem(form, t)
        if error is None:
            try:
                with request.app.state.engine.begin() as conn:
                    actions.queue_reply(
                        conn,
                        user.actor,
                        ref,
                        body,
                        form.get("key") or None,
                        request.app.state.clock.now(),
                        private or None,
                        strict_length=True,
                    )
                return RedirectResponse(f"/desk/t/{ref}?flash=sent", status_code=303)
            except TicketNotFound:
                error = str(t("r_gone"))
            except _REFUSALS as exc:
                error = refusal_text(exc, t)
        return render_workspace(
            request,
            user,
            ref,
            422,
            {
                "draft": _clean(body),
                "private_draft": _clean(private),
                "reply_error": error,
                # The same key again: a refused reply queued nothing, and a double click on
                # the corrected one still sends it once.
                **(
                    {"reply_key": form["key"]}
                    if form.get("key") and not _form_problem(form, t)
                    else {}
                ),
            },
        )

    response = await run_in_threadpool(run)
    return response


def confirmation(csrf: str, ref: str, body: str, fingerprint: str) -> str:
    """What the confirm button carries: a MAC, under this session's secret CSRF token, of the
    incident, the exact text and the exact set of tickets the officer was shown."""
    digest = hashlib.sha256(body.strip().encode()).hexdigest()
    message = f"incident-reply\n{ref}\n{fingerprint}\n{digest}".encode()
    return hmac.new(csrf.encode(), message, hashlib.sha256).hexdigest()


def _channels(t: Any, channels: dict[str, int]) -> str:
    names = [str(t("ch_" + c)) for c in channels]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + str(t("r_and")) + names[-1]


@router.post("/incidents/{incident_ref}/reply")
async def incident_reply(incident_ref: str, request: Request, user: CurrentDeskUser) -> Response:
    """First post: the checks each reply will pass and the count it reaches, shown with a
    Confirm button. Second post (with the confirmation): sent, if the text and the tickets
    are still those confirmed; otherwise the new count is shown to confirm again."""
    form = await _form(request, user)
    body = form.get("body", "")
    key = form.get("key", "")
    sent_confirmation = form.get("confirm", "")
    sent_fingerprint = form.get("audience", "")

    def page(error: str | None, audience: actions.IncidentAudience | None = None) -> Response:
        t = user.t
        extra: dict[str, Any] = {"draft": _clean(body), "reply_error": error}
        if key and not _form_problem(form, t):
            extra["reply_key"] = key
        if audience is not None:
            extra["confirm"] = {
                "text": str(t("i_confirm")).format(
                    citizens=audience.citizens,
                    tickets=len(audience.refs),
                    channels=_channels(t, audience.channels),
                ),
                "button": str(t("i_confirm_button")).format(citizens=audience.citizens),
                "token": confirmation(user.csrf, incident_ref, body, audience.fingerprint),
                "audience": audience.fingerprint,
            }
        return render_incident(request, user, incident_ref, 200 if error is None else 422, extra)

    def run() -> Response:
        t = user.t
        if problem := _form_problem(form, t):
            return page(problem)
        now = request.app.state.clock.now()
        try:
            if sent_confirmation:
                expected = confirmation(user.csrf, incident_ref, body, sent_fingerprint)
                if not hmac.compare_digest(expected, sent_confirmation):
                    with request.app.state.engine.connect() as conn:
                        audience = actions.check_incident_reply(
                            conn, user.actor, incident_ref, body, strict_length=True
                        )
                    return page(str(t("r_expired")), audience)
                with request.app.state.engine.begin() as conn:
                    done = actions.reply_to_incident(
                        conn,
                        user.actor,
                        incident_ref,
                        body,
                        key,
                        now,
                        expect=sent_fingerprint,
                        strict_length=True,
                    )
                sent = f"{done['tickets']}:{done['citizens']}"
                return RedirectResponse(
                    f"/desk/incidents/{incident_ref}?sent={sent}", status_code=303
                )
            with request.app.state.engine.connect() as conn:
                audience = actions.check_incident_reply(
                    conn, user.actor, incident_ref, body, strict_length=True
                )
            return page(None, audience)
        except actions.AudienceChanged as changed:
            return page(str(t("r_changed")), changed.audience)
        except TicketNotFound:
            return page(str(t("r_gone")))
        except _REFUSALS as exc:
            return page(refusal_text(exc, t))

    response = await run_in_threadpool(run)
    return response
