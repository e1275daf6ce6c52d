"""Time zone: every time the desk shows, in the organisation's zone with the zone named.

One Jinja filter, `when`, formats them all (inbox, ticket page, reports, screened queue,
alerts, admin). The zone comes from the org file (`timezone`, Asia/Kolkata by default),
read once a minute per process rather than once per time on the page.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from jinja2 import pass_context

from sevadesk.domain.local_time import LONG, SHORT, local_time
from sevadesk.store.org_repo import org_timezone

REREAD_SECONDS = 60.0
_lock = threading.Lock()
_zones: dict[int, tuple[float, str]] = {}  # id(engine) → (read at, zone name)


def desk_zone(engine: Any) -> str:
    """The organisation's zone, as this process last read it (at most a minute ago)."""
    now = time.monotonic()
    with _lock:
        cached = _zones.get(id(engine))
        if cached and now - cached[0] < REREAD_SECONDS:
            return cached[1]
    with engine.connect() as conn:
        name = org_timezone(conn)
    with _lock:
        _zones[id(engine)] = (now, name)
    return name


def forget_zone(engine: Any) -> None:
    """The org file was loaded again: read the zone anew on the next page."""
    with _lock:
        _zones.pop(id(engine), None)


@pass_context
def when(context: Any, value: datetime | None, long: bool = False) -> str:
    """ "07 Dec 14:00 IST": a stored (UTC) time in the organisation's zone, zone named."""
    if value is None:
        return ""
    request = context.get("request")
    zone = desk_zone(request.app.state.engine) if request is not None else None
    return local_time(value, zone or "Asia/Kolkata", LONG if long else SHORT)
