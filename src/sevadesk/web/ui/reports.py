"""Supervisor reports: figures from the rollups for the officer's scope (drill down by unit),
charts drawn as inline SVG, and CSV exports streamed without a row cap."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy import select

from sevadesk.reports import figures
from sevadesk.reports.figures import Period
from sevadesk.store import tables as t
from sevadesk.web.ui.desk import TEMPLATES
from sevadesk.web.ui.session import CurrentDeskUser, DeskUser

router = APIRouter(prefix="/desk", include_in_schema=False)


def _scope(request: Request, user: DeskUser) -> tuple[str, str]:
    """(path, code) of the unit being looked at: the one asked for if inside the scope."""
    code = request.query_params.get("unit")
    with request.app.state.engine.connect() as conn:
        if code:
            path = conn.execute(select(t.units.c.path).where(t.units.c.code == code)).scalar()
            if path and path.startswith(user.actor.scope_path):
                return path, code
    return user.actor.scope_path, user.actor.unit_code


def _days(request: Request) -> int:
    try:
        return max(1, min(366, int(request.query_params.get("days", "30"))))
    except ValueError:
        return 30


def bars(series: list[dict[str, Any]], keys: tuple[str, str]) -> dict[str, Any]:
    """Geometry for a paired bar chart (opened vs resolved per day), drawn by the template."""
    peak = max([1, *(max(d[keys[0]], d[keys[1]]) for d in series)])
    width = max(1, len(series))
    return {
        "days": [
            {
                "day": d["day"],
                "a": d[keys[0]],
                "b": d[keys[1]],
                "ha": 100 * d[keys[0]] / peak,
                "hb": 100 * d[keys[1]] / peak,
                "x": 100 * i / width,
            }
            for i, d in enumerate(series)
        ],
        "w": 100 / width,
        "peak": peak,
    }


@router.get("/reports", response_class=HTMLResponse)
def reports(request: Request, user: CurrentDeskUser) -> Response:
    path, code = _scope(request, user)
    days = _days(request)
    today = request.app.state.clock.now().date()
    period = Period.last(days, today)
    with request.app.state.engine.connect() as conn:
        totals = figures.summary(conn, path, period)
        today_figures = figures.summary(conn, path, Period.last(1, today))
        series = figures.daily(conn, path, period)
        children = figures.units(conn, path, period, request.app.state.clock.now())
        cats = figures.categories(conn, path, period, today)
        screened_days = figures.screened_days(conn, path, period)
    heat_peak = max([1, *(c["opened"] for c in children)])
    return TEMPLATES.TemplateResponse(
        request,
        "reports.html",
        {
            "t": user.t,
            "user": user,
            "lang": user.lang,
            "code": code,
            "days": days,
            "totals": totals,
            "today": today_figures,
            "chart": bars(series, ("opened", "resolved")),
            "children": children,
            "heat_peak": heat_peak,
            "categories": cats,
            "screened_days": screened_days,
        },
    )


@router.get("/reports.csv")
def export(request: Request, user: CurrentDeskUser) -> Response:
    """Every rollup row of the scope and period as CSV, streamed row by row."""
    path, code = _scope(request, user)
    period = Period.last(_days(request), request.app.state.clock.now().date())
    engine = request.app.state.engine

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(figures.EXPORT_HEADER)
        with engine.connect() as conn:
            for row in figures.export_rows(conn, path, period):
                writer.writerow(row)
                if buffer.tell() > 64_000:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    filename = f"sevadesk-{code}-{period.start}-{period.end}.csv"
    return StreamingResponse(
        rows(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
