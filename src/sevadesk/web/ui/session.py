"""Browser sign-in: argon2-checked passwords, a session cookie (HttpOnly, SameSite=Lax,
Secure when the desk is served over HTTPS) and a per-session CSRF token every form echoes."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request

from sevadesk.store.users_repo import Actor, session_actor
from sevadesk.web.ui.i18n import translator

COOKIE = "seva_session"
LANG_COOKIE = "seva_lang"
SESSION_TTL = timedelta(hours=12)


class LoginRequired(Exception):
    """No valid session: the page handler answers with a redirect to the sign-in page."""


class BadCsrf(Exception):
    """A form posted without this session's CSRF token."""


@dataclass(frozen=True, slots=True)
class DeskUser:
    actor: Actor
    csrf: str
    lang: str

    @property
    def t(self) -> Any:
        return translator(self.lang)


def language(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, "en")
    return lang if lang in ("en", "hi") else "en"


def desk_user(request: Request) -> DeskUser:
    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginRequired
    engine = request.app.state.engine
    with engine.connect() as conn:
        found = session_actor(conn, token, request.app.state.clock.now())
    if found is None:
        raise LoginRequired
    return DeskUser(found[0], found[1], language(request))


def check_csrf(user: DeskUser, form: dict[str, Any]) -> None:
    sent = str(form.get("csrf", ""))
    if not hmac.compare_digest(sent.encode(), user.csrf.encode()):
        raise BadCsrf


CurrentDeskUser = Annotated[DeskUser, Depends(desk_user)]
