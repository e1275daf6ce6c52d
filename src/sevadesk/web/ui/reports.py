"""Supervisor reports: figures from the rollups for the officer's scope (drill down by unit),
charts drawn as inline SVG, and CSV exports streamed without a row cap."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy import select

from sevadesk.reports import figures, staffing
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


# The chart's drawing area inside its viewBox (0 0 320 170): room on the left for the counts
# and below for the dates.
LEFT, TOP, RIGHT, BOTTOM = 34.0, 8.0, 314.0, 140.0


def _nice_peak(peak: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above `peak` (an axis that reads)."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= peak:
                return m * step
        step *= 10


def _day_label(day: str) -> str:
    d = date.fromisoformat(day)
    return f"{d.day} {d.strftime('%b')}"


def bars(series: list[dict[str, Any]], keys: tuple[str, str]) -> dict[str, Any]:
    """Geometry for a paired bar chart (opened vs resolved per day) with a count axis, dated
    ticks and a legend, drawn by the template as SVG."""
    top = _nice_peak(max([1, *(max(d[keys[0]], d[keys[1]]) for d in series)]))
    n = max(1, len(series))
    slot = (RIGHT - LEFT) / n
    height = BOTTOM - TOP

    def y(value: float) -> float:
        return round(BOTTOM - height * value / top, 2)

    # At most about seven date labels, always the first and the last day.
    every = max(1, -(-n // 7))
    labelled = {i for i in range(0, n, every)} | {n - 1}
    days = []
    for i, d in enumerate(series):
        x = LEFT + slot * i
        days.append(
            {
                "day": d["day"],
                "label": _day_label(d["day"]) if i in labelled else "",
                "a": d[keys[0]],
                "b": d[keys[1]],
                "xa": round(x + slot * 0.1, 2),
                "xb": round(x + slot * 0.5, 2),
                "xc": round(x + slot * 0.5, 2),
                "ya": y(d[keys[0]]),
                "yb": y(d[keys[1]]),
            }
        )
    ticks = [{"value": v, "y": y(v)} for v in (0, top // 2, top)] if top > 1 else []
    if top == 1:
        ticks = [{"value": 0, "y": y(0)}, {"value": 1, "y": y(1)}]
    return {
        "days": days,
        "bar": round(slot * 0.4, 2),
        "ticks": ticks,
        "top": top,
        "base": BOTTOM,
        "left": LEFT,
        "right": RIGHT,
        "total_a": sum(d[keys[0]] for d in series),
        "total_b": sum(d[keys[1]] for d in series),
        "first": series[0]["day"] if series else "",
        "last": series[-1]["day"] if series else "",
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
        name = conn.execute(select(t.units.c.name).where(t.units.c.path == path)).scalar()
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
            "categories": cats.rows,
            "history_days": cats.history_days,
            "spikes_judged": cats.spikes_judged,
            "history_needed": figures.HISTORY_DAYS,
            "unit_name": name or code,
            "period": period,
            "screened_days": screened_days,
        },
    )


def _goal(request: Request) -> float:
    try:
        return max(50, min(99, int(request.query_params.get("goal", "80")))) / 100
    except ValueError:
        return 0.8


@router.get("/reports/staffing", response_class=HTMLResponse)
def staffing_advice(request: Request, user: CurrentDeskUser) -> Response:
    """Officers per shift for the scope, by Erlang C, with every input it used."""
    path, code = _scope(request, user)
    goal = _goal(request)
    with request.app.state.engine.connect() as conn:
        advice = staffing.advise(conn, path, request.app.state.clock.now(), goal=goal)
    by_day: dict[str, list[staffing.ShiftAdvice]] = {}
    for shift in advice.shifts:
        by_day.setdefault(shift.weekday, []).append(shift)
    return TEMPLATES.TemplateResponse(
        request,
        "staffing.html",
        {
            "t": user.t,
            "user": user,
            "lang": user.lang,
            "code": code,
            "advice": advice,
            "by_day": by_day,
            "shifts": staffing.SHIFTS,
            "goal_pct": round(goal * 100),
            "handling_min": round(advice.handling.seconds / 60, 1),
            "idle_gap_min": int(staffing.IDLE_GAP.total_seconds() // 60),
            "min_tickets": staffing.MIN_TICKETS_MEASURED,
        },
    )


def _csv(rows: Iterator[tuple[Any, ...]], header: tuple[str, ...]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _attachment(body: Iterator[str], filename: str) -> StreamingResponse:
    return StreamingResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/reports.csv")
def export(request: Request, user: CurrentDeskUser) -> Response:
    """The report as the page shows it: one row per unit below the scope, then the total."""
    path, code = _scope(request, user)
    period = Period.last(_days(request), request.app.state.clock.now().date())
    with request.app.state.engine.connect() as conn:
        totals = figures.summary(conn, path, period)
        children = figures.units(conn, path, period, request.app.state.clock.now())
        waiting = sum(n for _, n in figures.backlog(conn, path))
    rows = list(figures.report_table(code, totals, waiting, children))
    return _attachment(
        _csv(iter(rows), figures.REPORT_HEADER),
        f"sevadesk-report-{code}-{period.start}-{period.end}.csv",
    )


@router.get("/reports/rollup.csv")
def export_rollup(request: Request, user: CurrentDeskUser) -> Response:
    """Every hourly rollup row of the scope and period (the raw counters and the response
    and resolution time buckets), streamed row by row with no cap."""
    path, code = _scope(request, user)
    period = Period.last(_days(request), request.app.state.clock.now().date())
    engine = request.app.state.engine

    def rows() -> Iterator[tuple[Any, ...]]:
        with engine.connect() as conn:
            yield from figures.rollup_rows(conn, path, period)

    return _attachment(
        _csv(rows(), figures.ROLLUP_HEADER),
        f"sevadesk-rollup-{code}-{period.start}-{period.end}.csv",
    )
